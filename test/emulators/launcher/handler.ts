/**
 * The launcher's request handling (modal/launcher.py `handle_request`) over a `LauncherBackend` that plays the part
 * of Modal's SDK. Runtime-neutral: mount it in any server, e.g. next to the Modal emulator so that both adapters
 * see one set of sandboxes. Modal's proxy auth is not here (it is Modal's, in front of the launcher): see
 * emulator.ts.
 */
import {
  allowedImagePatterns,
  checkSignature,
  imageAllowed,
  isRoute,
  LauncherRefusal,
  type ParsedRequest,
  PROTOCOL,
  parseBody,
  type StartRequest,
} from "./validate.ts";

export interface LauncherHttpRequest {
  method: string;
  /** The path below the launcher's base URL, e.g. `/start` (no query). */
  path: string;
  /** Lower-case names. */
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
}

export interface LauncherHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  /** The refusal's reason, for the emulator's records. */
  reason?: string;
}

export interface LauncherSettings {
  /** The launcher's LAUNCHER_SECRET; empty means unset. */
  launcherSecret: string;
  /** LAUNCHER_ALLOWED_IMAGES; unset or empty means the official runner image only. */
  allowedImages?: string | undefined;
}

/** What `Sandbox.create` receives. */
export interface SandboxCreateInput {
  environment: string | null;
  appName: string;
  name: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  cpu: number;
  memoryMiB: number;
  timeoutSeconds: number;
  /** The caller's tags and the launcher's own (`launcher.name`, `launcher.created-at`). */
  tags: Record<string, string>;
  gpu: string | null;
  /** Modal's `region=`: null means any region. */
  regions: string[] | null;
}

/** Failures the launcher maps from Modal's exceptions. */
export type BackendFailure =
  | "image_build_failed"
  | "modal_rejected"
  | "modal_denied"
  | "modal_capacity"
  | "modal_unavailable";

export class LauncherBackendError extends Error {
  constructor(
    readonly reason: BackendFailure,
    message: string,
  ) {
    super(message);
  }
}

/** The Modal SDK calls the launcher makes. Throw `LauncherBackendError` for Modal's refusals and failures. */
export interface LauncherBackend {
  /** `App.lookup(name, environment_name=…, create_if_missing=True)`. */
  lookupApp(environment: string | null, appName: string): Promise<void>;
  /** `Sandbox.create`; `name_taken` when a running sandbox of the app holds the name (AlreadyExistsError). */
  createSandbox(input: SandboxCreateInput): Promise<{ sandboxId: string } | "name_taken">;
  /** `Sandbox.from_name`: the running sandbox holding the name, if any. */
  findSandbox(environment: string | null, appName: string, name: string): Promise<string | undefined>;
  /** `Sandbox.list` + `get_tags`: running sandboxes of the app carrying every given tag, newest first. */
  listSandboxes(
    environment: string | null,
    appName: string,
    tags: Readonly<Record<string, string>>,
  ): Promise<Array<{ sandboxId: string; tags: Record<string, string> }>>;
  /** `Sandbox.from_id(id).terminate()`; false when there is no such sandbox. */
  terminateSandbox(sandboxId: string): Promise<boolean>;
}

const encoder = new TextEncoder();
const { reservedTagPrefix, reservedTags } = PROTOCOL;

function json(status: number, body: unknown, headers: Record<string, string> = {}): LauncherHttpResponse {
  return {
    status,
    headers: { "content-type": "application/json", ...headers },
    body: encoder.encode(JSON.stringify(body)),
  };
}

function refusal(error: LauncherRefusal): LauncherHttpResponse {
  const headers: Record<string, string> =
    error.retryAfterSeconds === undefined ? {} : { "retry-after": String(error.retryAfterSeconds) };
  return { ...json(error.status, error.body(), headers), reason: error.reason };
}

function splitHandle(handle: string): { environment: string | null; appName: string } {
  const slash = handle.lastIndexOf("/");
  return slash < 0
    ? { environment: null, appName: handle }
    : { environment: handle.slice(0, slash), appName: handle.slice(slash + 1) };
}

async function start(backend: LauncherBackend, request: StartRequest, nowMs: number) {
  const { environment, appName } = splitHandle(request.app);
  await backend.lookupApp(environment, appName);
  const created = await backend.createSandbox({
    environment,
    appName,
    name: request.name,
    image: request.image,
    command: request.command,
    env: request.env,
    cpu: request.cpu,
    memoryMiB: request.memory_mib,
    timeoutSeconds: request.timeout_seconds,
    tags: {
      ...request.tags,
      [reservedTags.name]: request.name,
      [reservedTags.createdAt]: (nowMs / 1000).toFixed(3),
    },
    gpu: request.gpu ?? null,
    regions: request.regions ?? null,
  });
  if (created !== "name_taken") return { sandbox_id: created.sandboxId, already_started: false };
  // An earlier attempt whose answer was lost already started this runner: that sandbox is the answer.
  const existing = await backend.findSandbox(environment, appName, request.name);
  if (existing === undefined) throw new LauncherRefusal("name_conflict");
  return { sandbox_id: existing, already_started: true };
}

async function list(backend: LauncherBackend, handle: string, tags: Record<string, string>) {
  const { environment, appName } = splitHandle(handle);
  await backend.lookupApp(environment, appName);
  const found = await backend.listSandboxes(environment, appName, tags);
  const limit = PROTOCOL.limits.listMax;
  return {
    sandboxes: found.slice(0, limit).map((sandbox) => {
      const createdAt = sandbox.tags[reservedTags.createdAt] ?? "";
      return {
        sandbox_id: sandbox.sandboxId,
        name: sandbox.tags[reservedTags.name] ?? null,
        tags: Object.fromEntries(
          Object.entries(sandbox.tags).filter(([key]) => !key.startsWith(reservedTagPrefix)),
        ),
        created_at: /^[0-9]+(\.[0-9]+)?$/.test(createdAt) ? Number(createdAt) : null,
      };
    }),
    truncated: found.length > limit,
  };
}

async function perform(backend: LauncherBackend, parsed: ParsedRequest, nowMs: number): Promise<unknown> {
  switch (parsed.route) {
    case "app": {
      const { name, environment = null } = parsed.request;
      await backend.lookupApp(environment, name);
      return { app: environment === null ? name : `${environment}/${name}` };
    }
    case "image":
      return { image: parsed.request.image };
    case "start":
      return start(backend, parsed.request, nowMs);
    case "list":
      return list(backend, parsed.request.app, parsed.request.tags);
    case "terminate":
      return { terminated: await backend.terminateSandbox(parsed.request.sandbox_id) };
  }
}

/** One request to the launcher, checked in the order of modal/launcher_protocol.json. */
export async function handleLauncherRequest(
  request: LauncherHttpRequest,
  backend: LauncherBackend,
  settings: LauncherSettings,
  nowMs: number,
): Promise<LauncherHttpResponse> {
  try {
    if (request.method !== "POST") throw new LauncherRefusal("method_not_allowed");
    const route = request.path.startsWith("/") ? request.path.slice(1) : request.path;
    if (!isRoute(route)) throw new LauncherRefusal("not_found");
    if (request.body.length > PROTOCOL.maxBodyBytes) throw new LauncherRefusal("too_large");
    if (settings.launcherSecret === "") throw new LauncherRefusal("launcher_misconfigured");
    await checkSignature(request.headers, route, request.body, settings.launcherSecret, nowMs / 1000);
    const parsed = parseBody(route, request.body);
    if (
      (parsed.route === "image" || parsed.route === "start") &&
      !imageAllowed(parsed.request.image, allowedImagePatterns(settings.allowedImages))
    )
      throw new LauncherRefusal("image_not_allowed");
    try {
      return json(200, await perform(backend, parsed, nowMs));
    } catch (error) {
      if (error instanceof LauncherRefusal) throw error;
      throw new LauncherRefusal(error instanceof LauncherBackendError ? error.reason : "internal");
    }
  } catch (error) {
    if (error instanceof LauncherRefusal) return refusal(error);
    throw error;
  }
}
