/**
 * The emulator's state, one `Namespace` per `/ns/<name>` prefix so that test files running in parallel never see
 * each other's apps or sandboxes. Runtime-neutral (no node: imports).
 *
 * Ids follow Modal's shapes (`ap-`, `im-`, `st-`, `en-` + 22 base62; V1 sandboxes `sb-` + 22 base62, V2
 * sandboxes `sb-` + a 26-character ULID-like string, which is how the SDK tells them apart). They come from
 * per-namespace counters, so two namespaces driven through the same calls hand out the same ids — the
 * conformance test relies on that to compare values, not only shapes.
 */
import type { DecodedMessage } from "./codec.ts";

export interface FailRule {
  method: string;
  count: number;
  grpcCode?: number | undefined;
  grpcMessage?: string | undefined;
  /** HTTP-level answer instead of a gRPC status (a proxy's error page, an empty or garbage body). */
  httpStatus?: number | undefined;
  body?: string | undefined;
  bodyBase64?: string | undefined;
  contentType?: string | undefined;
  /** Only calls whose raw request bytes contain this text (e.g. one sandbox name). */
  match?: string | undefined;
  /** Sent as a modal.client.RPCRetryPolicy in grpc-status-details-bin. */
  retryAfterSeconds?: number | undefined;
  /** Perform the call first, then fail it: the effect happens but the client never hears of it. */
  afterEffect?: boolean | undefined;
}

export interface DelayRule {
  method: string;
  ms: number;
  count: number;
}

export interface RecordedCall {
  seq: number;
  method: string;
  headers: Record<string, string>;
  /** Decoded with the SDK's field numbers; null when the body could not be decoded. */
  request: DecodedMessage | null;
  /** The raw request message (without the gRPC frame), base64. */
  raw: string;
  grpcCode: number;
  httpStatus: number;
  injected: boolean;
}

export interface SandboxRecord {
  id: string;
  version: 1 | 2;
  appId: string;
  name: string | undefined;
  tags: Record<string, string>;
  definition: DecodedMessage;
  /** The environment the sandbox receives from secret sources or secrets (test-only visibility). */
  env: Record<string, string>;
  createdAt: number;
  taskId: string;
  timeoutSecs: number;
  /** What the sandbox asked for, as Modal would schedule it (regions empty: anywhere). */
  resources: { milliCpu: number; memoryMb: number; gpu: { type: string; count: number } | undefined };
  regions: string[];
  result: { status: number; exitcode: number; exception: string } | undefined;
}

export interface ImageRecord {
  id: string;
  appId: string;
  commands: string[];
  builderVersion: string;
  pollsLeft: number;
  outcome: number;
  exception: string;
  entries: number;
}

export interface Settings {
  /** ImageJoinStreaming polls a new image stays "building" for (0: ImageGetOrCreate answers SUCCESS at once). */
  imageBuildPolls: number;
  /** GenericStatus a build ends with (1 SUCCESS, 2 FAILURE, 3 TERMINATED, 4 TIMEOUT, …). */
  imageOutcome: number;
  imageException: string;
  tokenLifetimeSeconds: number;
  listPageSize: number;
  imageBuilderVersion: string;
}

export interface Namespace {
  name: string;
  counters: Map<string, number>;
  credentials: { tokenId: string; tokenSecret: string } | undefined;
  environments: Map<string, string>;
  apps: Map<string, { id: string; name: string; environment: string }>;
  images: Map<string, ImageRecord>;
  secrets: Map<string, { id: string; env: Record<string, string>; environment: string }>;
  sandboxes: Map<string, SandboxRecord>;
  tokens: Map<string, { tokenId: string; expiresAt: number }>;
  calls: RecordedCall[];
  failures: FailRule[];
  delays: DelayRule[];
  settings: Settings;
  lastCreatedAt: number;
}

export const DEFAULT_ENVIRONMENT = "main";

export function createNamespace(name: string): Namespace {
  const namespace: Namespace = {
    name,
    counters: new Map(),
    credentials: undefined,
    environments: new Map(),
    apps: new Map(),
    images: new Map(),
    secrets: new Map(),
    sandboxes: new Map(),
    tokens: new Map(),
    calls: [],
    failures: [],
    delays: [],
    settings: {
      imageBuildPolls: 0,
      imageOutcome: 1,
      imageException: "",
      tokenLifetimeSeconds: 3600,
      listPageSize: 100,
      imageBuilderVersion: "2025.06",
    },
    lastCreatedAt: 0,
  };
  namespace.environments.set(DEFAULT_ENVIRONMENT, newId(namespace, "en"));
  return namespace;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

function encodeCounter(value: number, alphabet: string, length: number): string {
  let text = "";
  let rest = value;
  for (let index = 0; index < length; index++) {
    text = (alphabet[rest % alphabet.length] ?? "0") + text;
    rest = Math.floor(rest / alphabet.length);
  }
  return text;
}

/** `kind`: `ap`, `im`, `st`, `en`, `sb` (V1), `sb2` (V2), `ta` (task), `tok`. */
export function newId(namespace: Namespace, kind: string): string {
  const next = (namespace.counters.get(kind) ?? 0) + 1;
  namespace.counters.set(kind, next);
  if (kind === "sb2") return `sb-01EMU${encodeCounter(next, CROCKFORD, 21)}`;
  return `${kind}-emu${encodeCounter(next, BASE62, 19)}`;
}

/** Creation time in seconds, strictly increasing so that `before_timestamp` paging never skips a twin. */
export function creationTime(namespace: Namespace, nowMs: number): number {
  const seconds = Math.max(nowMs / 1000, namespace.lastCreatedAt + 0.001);
  namespace.lastCreatedAt = seconds;
  return seconds;
}

/** A sandbox past its `timeout_secs` has finished with TIMEOUT, as on Modal (checked lazily). */
export function refreshSandbox(sandbox: SandboxRecord, nowMs: number): SandboxRecord {
  if (
    sandbox.result === undefined &&
    sandbox.timeoutSecs > 0 &&
    nowMs / 1000 >= sandbox.createdAt + sandbox.timeoutSecs
  ) {
    sandbox.result = { status: 4, exitcode: 124, exception: "" };
  }
  return sandbox;
}
