import type { Logger, LogSink } from "../log.ts";

export interface AppOptions {
  /** Milliseconds since the epoch; injected so tests control time. */
  now?: () => number;
  /** Where log lines go (the console by default). */
  logSink?: LogSink;
}

export interface AppEnv {
  Bindings: Env;
  Variables: { log: Logger };
}
