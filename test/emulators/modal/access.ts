/** Typed reads of decoded (schema-named, JSON-shaped) messages, and the gRPC answer type of a handler. */
import type { Decoded, DecodedMessage, EncodeMessage } from "./codec.ts";

export type GrpcResult =
  | { ok: true; messages: EncodeMessage[] }
  | { ok: false; code: number; message: string };

export const ok = (...messages: EncodeMessage[]): GrpcResult => ({ ok: true, messages });
export const fail = (code: number, message: string): GrpcResult => ({ ok: false, code, message });

export const Code = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

function isMessage(value: Decoded | undefined): value is DecodedMessage {
  return typeof value === "object" && !Array.isArray(value);
}

export function str(message: DecodedMessage | undefined, key: string): string {
  const value = message?.[key];
  return typeof value === "string" ? value : "";
}

export function num(message: DecodedMessage | undefined, key: string): number {
  const value = message?.[key];
  return typeof value === "number" ? value : 0;
}

export function has(message: DecodedMessage | undefined, key: string): boolean {
  return message?.[key] !== undefined;
}

export function sub(message: DecodedMessage | undefined, key: string): DecodedMessage | undefined {
  const value = message?.[key];
  return isMessage(value) ? value : undefined;
}

export function list(message: DecodedMessage | undefined, key: string): Decoded[] {
  const value = message?.[key];
  return Array.isArray(value) ? value : [];
}

export function messages(message: DecodedMessage | undefined, key: string): DecodedMessage[] {
  return list(message, key).filter(isMessage);
}

export function strings(message: DecodedMessage | undefined, key: string): string[] {
  return list(message, key).filter((item): item is string => typeof item === "string");
}

export function stringMap(message: DecodedMessage | undefined, key: string): Record<string, string> {
  const value = sub(message, key) ?? {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/** `repeated SandboxTag` as a record (later duplicates win, as a map would). */
export function tags(message: DecodedMessage | undefined, key: string): Record<string, string> {
  return Object.fromEntries(
    messages(message, key).map((tag) => [str(tag, "tag_name"), str(tag, "tag_value")]),
  );
}
