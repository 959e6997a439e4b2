/**
 * The launcher's checks, as modal/launcher.py makes them, from the same table (modal/launcher_protocol.json): the
 * signature, then the body. Kept line for line in the order the table's comment gives, because the first failure
 * decides the answer; modal/tests/launcher_cases.json holds the cases both implementations must answer alike.
 * Runtime-neutral (WebCrypto, TextEncoder/TextDecoder).
 */
import * as z from "zod/mini";
import protocol from "../../../modal/launcher_protocol.json";
import { concatBytes } from "../../../src/bytes.ts";

export type Route = keyof typeof protocol.routes;
export type Reason = keyof typeof protocol.reasons;

export const PROTOCOL = protocol;
export const ROUTES: readonly string[] = Object.keys(protocol.routes);

export function isRoute(value: string): value is Route {
  return Object.hasOwn(protocol.routes, value);
}

export function isReason(value: string): value is Reason {
  return Object.hasOwn(protocol.reasons, value);
}

/** A refusal with a reason from the table; `detail` is for the emulator's records only. */
export class LauncherRefusal extends Error {
  readonly reason: Reason;
  readonly field: string | undefined;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(reason: Reason, field?: string) {
    super(reason);
    const spec: { status: number; retryAfterSeconds?: number } = protocol.reasons[reason];
    this.reason = reason;
    this.field = field;
    this.status = spec.status;
    this.retryAfterSeconds = spec.retryAfterSeconds;
  }

  body(): { error: string; reason: Reason; field?: string } {
    const message = protocol.reasons[this.reason].error;
    return this.field === undefined
      ? { error: message, reason: this.reason }
      : { error: `${message}: ${this.field}`, reason: this.reason, field: this.field };
  }
}

const encoder = new TextEncoder();
type PatternName = keyof typeof protocol.patterns;
const compiled = new Map<PatternName, RegExp>();
function patternOf(name: PatternName): RegExp {
  let regex = compiled.get(name);
  if (regex === undefined) {
    regex = new RegExp(protocol.patterns[name]);
    compiled.set(name, regex);
  }
  return regex;
}
const SIGNATURE = protocol.signature;
const LIMITS = protocol.limits;

// ---------------------------------------------------------------------------------------------------------------
// Signature

function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index++)
    bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}

/** Header names must be lower case. `nowSeconds` may be fractional. */
export async function checkSignature(
  headers: Readonly<Record<string, string>>,
  route: Route,
  body: Uint8Array,
  secret: string,
  nowSeconds: number,
): Promise<void> {
  const timestamp = headers[SIGNATURE.timestampHeader] ?? "";
  const signature = headers[SIGNATURE.signatureHeader] ?? "";
  if (
    !new RegExp(SIGNATURE.timestampFormat).test(timestamp) ||
    !new RegExp(SIGNATURE.signatureFormat).test(signature)
  )
    throw new LauncherRefusal("missing_signature");
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const message = concatBytes([encoder.encode(`${timestamp}.${route}.`), body]);
  // Constant-time comparison, as hmac.compare_digest on the Python side.
  const valid = await crypto.subtle.verify("HMAC", key, hexBytes(signature.slice("sha256=".length)), message);
  if (!valid) throw new LauncherRefusal("bad_signature");
  if (Math.abs(nowSeconds - Number(timestamp)) > SIGNATURE.maxSkewSeconds)
    throw new LauncherRefusal("stale_timestamp");
}

// ---------------------------------------------------------------------------------------------------------------
// Body

const utf8Bytes = (text: string) => encoder.encode(text).length;
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const matches = (pattern: PatternName, value: unknown): value is string =>
  typeof value === "string" && patternOf(pattern).test(value);

function numberWithin(value: unknown, bounds: { min: number; max: number }, integer: boolean): boolean {
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  if (integer && !Number.isInteger(value)) return false;
  return bounds.min <= value && value <= bounds.max;
}

function validCommand(value: unknown): boolean {
  const { min, max } = LIMITS.commandItems;
  return (
    Array.isArray(value) &&
    value.length >= min &&
    value.length <= max &&
    value.every(
      (item) =>
        typeof item === "string" &&
        item !== "" &&
        !item.includes("\u0000") &&
        utf8Bytes(item) <= LIMITS.commandItemBytes,
    )
  );
}

function validEnv(value: unknown): boolean {
  return (
    isObject(value) &&
    Object.keys(value).length <= LIMITS.envEntries &&
    Object.entries(value).every(
      ([key, item]) =>
        matches("envKey", key) && typeof item === "string" && utf8Bytes(item) <= LIMITS.envValueBytes,
    )
  );
}

function validTags(value: unknown): boolean {
  return (
    isObject(value) &&
    Object.keys(value).length <= LIMITS.tags &&
    Object.entries(value).every(
      ([key, item]) =>
        matches("tagKey", key) && !key.startsWith(protocol.reservedTagPrefix) && matches("tagValue", item),
    )
  );
}

function validRegions(value: unknown): boolean {
  // Absent or null: any region. An empty list is refused rather than read as "any": it says "nowhere".
  if (value === null) return true;
  const { min, max } = LIMITS.regions;
  return (
    Array.isArray(value) &&
    value.length >= min &&
    value.length <= max &&
    value.every((item) => matches("region", item)) &&
    new Set(value).size === value.length
  );
}

const VALIDATORS: Record<string, (value: unknown) => boolean> = {
  name: (value) => matches("sandboxName", value),
  environment: (value) => value === null || matches("environment", value),
  app: (value) => matches("appHandle", value),
  image: (value) => matches("image", value),
  command: validCommand,
  env: validEnv,
  cpu: (value) => numberWithin(value, LIMITS.cpu, false),
  memory_mib: (value) => numberWithin(value, LIMITS.memoryMiB, true),
  timeout_seconds: (value) => numberWithin(value, LIMITS.timeoutSeconds, true),
  tags: validTags,
  gpu: (value) => value === null || matches("gpu", value),
  regions: validRegions,
  sandbox_id: (value) => matches("sandboxId", value),
};

// The shapes the checks above prove, as types. Parsing with them after the checks cannot fail unless the two
// disagree, which would be a bug in this file.
const Strings = z.record(z.string(), z.string());
const SCHEMAS = {
  app: z.object({ name: z.string(), environment: z.optional(z.nullable(z.string())) }),
  image: z.object({ app: z.string(), image: z.string() }),
  start: z.object({
    app: z.string(),
    name: z.string(),
    image: z.string(),
    command: z.array(z.string()),
    env: Strings,
    cpu: z.number(),
    memory_mib: z.number(),
    timeout_seconds: z.number(),
    tags: Strings,
    gpu: z.optional(z.nullable(z.string())),
    regions: z.optional(z.nullable(z.array(z.string()))),
  }),
  list: z.object({ app: z.string(), tags: Strings }),
  terminate: z.object({ sandbox_id: z.string() }),
} satisfies Record<Route, z.ZodMiniType>;

export type StartRequest = z.infer<typeof SCHEMAS.start>;
export type ParsedRequest = { [R in Route]: { route: R; request: z.infer<(typeof SCHEMAS)[R]> } }[Route];

function typed(route: Route, request: Record<string, unknown>): ParsedRequest {
  switch (route) {
    case "app":
      return { route, request: SCHEMAS.app.parse(request) };
    case "image":
      return { route, request: SCHEMAS.image.parse(request) };
    case "start":
      return { route, request: SCHEMAS.start.parse(request) };
    case "list":
      return { route, request: SCHEMAS.list.parse(request) };
    case "terminate":
      return { route, request: SCHEMAS.terminate.parse(request) };
  }
}

function decodeJson(body: Uint8Array): unknown {
  try {
    // `ignoreBOM` keeps a byte-order mark in the text, so that JSON.parse refuses it as Python's json does.
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body));
  } catch {
    throw new LauncherRefusal("invalid_json");
  }
}

export function parseBody(route: Route, body: Uint8Array): ParsedRequest {
  const request = decodeJson(body);
  if (!isObject(request)) throw new LauncherRefusal("invalid_json");
  const spec: { fields: readonly string[]; required: readonly string[] } = protocol.routes[route];
  const unknown = Object.keys(request)
    .filter((key) => !spec.fields.includes(key))
    .sort();
  const [firstUnknown] = unknown;
  if (firstUnknown !== undefined)
    throw new LauncherRefusal(
      "invalid_request",
      matches("envKey", firstUnknown) ? firstUnknown : "(unknown)",
    );
  for (const field of spec.fields) {
    if (!Object.hasOwn(request, field)) {
      if (spec.required.includes(field)) throw new LauncherRefusal("invalid_request", field);
    } else if (!VALIDATORS[field]?.(request[field])) {
      throw new LauncherRefusal("invalid_request", field);
    }
  }
  const parsed = typed(route, request);
  if (parsed.route === "start") {
    // Names, arguments and tags are visible in Modal's dashboard and logs: an env value there would leak.
    const { name, command, tags, env } = parsed.request;
    const visible = [name, ...command, ...Object.keys(tags), ...Object.values(tags)];
    const secrets = Object.values(env).filter((value) => utf8Bytes(value) >= LIMITS.secretLikeBytes);
    if (secrets.some((secret) => visible.some((text) => text.includes(secret))))
      throw new LauncherRefusal("invalid_request", "env");
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------------------------
// Image allow-list

export function allowedImagePatterns(configured: string | undefined): string[] {
  const entries = (configured ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  return entries.length > 0 ? entries : [protocol.defaultAllowedImages];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/** `*` matches any run of characters; everything else is literal. */
export function imageAllowed(image: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) =>
    new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`, "s").test(image),
  );
}
