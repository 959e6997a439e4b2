import type { Logger, LogSink } from "../log.ts";

export interface AppOptions {
  /** Milliseconds since the epoch; injected so tests control time. */
  now?: () => number;
  /** Where log lines go (the console by default). */
  logSink?: LogSink;
  /** For outbound calls: Cloudflare Access's keys, the deep health check's; the global one by default. */
  fetch?: typeof fetch;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    log: Logger;
    /** Who passed the operator check (an Access identity, `token`, `session`). */
    operator?: string;
  };
}
