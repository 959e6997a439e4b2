/**
 * The launcher emulator's control API (`{base}/_emulator/…`, JSON), shared by the emulator (which validates with
 * these schemas) and the test helper in control-client.ts. Control calls are neither recorded nor subject to
 * failures or proxy auth.
 *
 * A fresh namespace accepts any proxy token shaped like Modal's (`wk-…` / `ws-…`), checks signatures with
 * DEFAULT_LAUNCHER_SECRET, allows the official runner image and knows only the workspace's default environment,
 * until `settings` says otherwise.
 *
 * - `POST /_emulator/settings` (`Settings`, merged)
 * - `POST /_emulator/fail` (`Failure` or `Failure[]`)
 * - `GET  /_emulator/calls[?route=start][&secrets=true]` → `{ calls: RecordedCall[] }`
 * - `GET  /_emulator/sandboxes[?secrets=true]` → `{ sandboxes: SandboxState[] }` (the in-memory backend only)
 * - `POST /_emulator/sandboxes/{id}/finish` — the sandbox's process ended
 * - `POST /_emulator/reset`
 */
import * as z from "zod/mini";

export const DEFAULT_LAUNCHER_SECRET = "launcher-emulator-secret-0123456789";

export const SettingsSchema = z.object({
  /** Once set, only this proxy auth token passes Modal's proxy. */
  proxyTokenId: z.optional(z.string()),
  proxyTokenSecret: z.optional(z.string()),
  /** The launcher's LAUNCHER_SECRET; "" plays a launcher deployed without it. */
  launcherSecret: z.optional(z.string()),
  /** LAUNCHER_ALLOWED_IMAGES. */
  allowedImages: z.optional(z.string()),
  /**
   * Environments of the launcher's Modal workspace besides its default one. An app looked up in any other is
   * refused as Modal refuses it (`NotFoundError`, which the launcher answers as `modal_rejected`).
   */
  environments: z.optional(z.array(z.string())),
});
export type Settings = z.infer<typeof SettingsSchema>;

export const FailureSchema = z.object({
  /** `start`, `list`, …, or `*` for every route. */
  route: z.string(),
  /** How many matching requests fail (default 1). */
  count: z.optional(z.int()),
  /** Answer as the launcher would with this reason (status and retry-after from the protocol table)… */
  reason: z.optional(z.string()),
  /** …or with this raw HTTP answer (default body: an HTML error page). */
  status: z.optional(z.int()),
  body: z.optional(z.string()),
  contentType: z.optional(z.string()),
  /** Seconds, sent as `retry-after` (overrides the table's). */
  retryAfter: z.optional(z.int()),
  /** Wait before answering; alone, it only delays the real answer. */
  delayMs: z.optional(z.int()),
  /** Close the connection without an answer. */
  drop: z.optional(z.boolean()),
  /** Carry out the request, then answer the failure: the effect happens, the caller never hears of it. */
  afterEffect: z.optional(z.boolean()),
  /** Only requests whose raw body contains this text (e.g. one runner name), so tests sharing a namespace stay apart. */
  match: z.optional(z.string()),
});
export type Failure = z.infer<typeof FailureSchema>;

export const RecordedCallSchema = z.object({
  seq: z.int(),
  method: z.string(),
  /** The path below the namespace, e.g. `/start`. */
  path: z.string(),
  /** Lower-case names; `modal-secret` is `[redacted]` unless asked for with `secrets=true`. */
  headers: z.record(z.string(), z.string()),
  /** The raw body as sent; only with `secrets=true` (it carries the runner's env). */
  rawBody: z.optional(z.string()),
  /** Parsed JSON (env values `[redacted]` unless `secrets=true`), the raw text if not JSON. */
  body: z.unknown(),
  /** The status answered (0 for a dropped connection). */
  status: z.int(),
  reason: z.optional(z.string()),
  injected: z.boolean(),
});
export type RecordedCall = z.infer<typeof RecordedCallSchema>;

export const SandboxStateSchema = z.object({
  sandboxId: z.string(),
  environment: z.nullable(z.string()),
  appName: z.string(),
  name: z.string(),
  image: z.string(),
  command: z.array(z.string()),
  /** Values `[redacted]` unless asked for with `secrets=true`. */
  env: z.record(z.string(), z.string()),
  cpu: z.number(),
  memoryMiB: z.number(),
  timeoutSeconds: z.number(),
  tags: z.record(z.string(), z.string()),
  gpu: z.nullable(z.string()),
  regions: z.nullable(z.array(z.string())),
  running: z.boolean(),
  createdAt: z.number(),
});
export type SandboxState = z.infer<typeof SandboxStateSchema>;
