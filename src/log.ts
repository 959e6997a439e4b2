/**
 * One JSON object per line. Keys that name a secret are redacted, and so is any string that contains a
 * registered secret value — a second net under the rule that secrets are never passed to a logger at all.
 */
import { REDACTED, redactor } from "./redact.ts";

export type LogValue = string | number | boolean | null | undefined | readonly string[];
export type LogFields = Readonly<Record<string, LogValue>>;
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export type LogSink = (level: LogLevel, line: string) => void;

export interface LoggerOptions {
  sink?: LogSink | undefined;
  now?: () => number;
  fields?: LogFields;
  /** Secret values to scrub from every line (short values are ignored: redact.ts). */
  secrets?: readonly (string | undefined)[];
}

const SECRET_KEY = /token|secret|password|passwd|jit_?config|authorization|private_?key|signature|cookie/i;

export const consoleSink: LogSink = (level, line) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

export function createLogger(options: LoggerOptions = {}): Logger {
  const sink = options.sink ?? consoleSink;
  const now = options.now ?? Date.now;
  const scrub = redactor(options.secrets ?? []);

  const make = (base: LogFields): Logger => {
    const write = (level: LogLevel, message: string, fields: LogFields = {}) => {
      const line: Record<string, unknown> = {
        time: new Date(now()).toISOString(),
        level,
        msg: scrub(message),
      };
      for (const [key, value] of Object.entries({ ...base, ...fields })) {
        if (value === undefined) continue;
        if (SECRET_KEY.test(key)) line[key] = REDACTED;
        else if (typeof value === "string") line[key] = scrub(value);
        else if (Array.isArray(value)) line[key] = value.map((item: string) => scrub(item));
        else line[key] = value;
      }
      sink(level, JSON.stringify(line));
    };
    return {
      debug: (message, fields) => write("debug", message, fields),
      info: (message, fields) => write("info", message, fields),
      warn: (message, fields) => write("warn", message, fields),
      error: (message, fields) => write("error", message, fields),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(options.fields ?? {});
}

/** The fields worth logging about a failure, without its stack (which can quote request data). */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) {
    const fields: Record<string, LogValue> = { error: error.message, errorName: error.name };
    for (const key of [
      "service",
      "operation",
      "reason",
      "status",
      "grpcCode",
      "retryAfterSeconds",
    ] as const) {
      const value: unknown = Reflect.get(error, key);
      if (typeof value === "string" || typeof value === "number") fields[key] = value;
    }
    return fields;
  }
  return { error: String(error) };
}
