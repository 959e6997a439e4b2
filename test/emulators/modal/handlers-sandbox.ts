/**
 * Emulated sandbox calls. V1 (SandboxCreate, used by the SDK for GPUs) and V2 (SandboxCreateV2) sandboxes share
 * one table, as on Modal: names are unique among an app's *running* sandboxes of either kind, and SandboxListV2
 * lists both. The V1/V2 lifecycle calls only find sandboxes of their own kind (the SDK routes by id shape).
 */
import {
  Code,
  fail,
  type GrpcResult,
  has,
  messages,
  num,
  ok,
  str,
  stringMap,
  strings,
  sub,
  tags,
} from "./access.ts";
import type { CallContext } from "./handlers-setup.ts";
import { creationTime, type Namespace, newId, refreshSandbox, type SandboxRecord } from "./state.ts";

const MAX_TIMEOUT_SECS = 24 * 60 * 60;
const DEFAULT_TIMEOUT_SECS = 300;
const OBJECT_NAME = /^[a-zA-Z0-9\-_.]{1,64}$/;
const TERMINATED = 3;
/**
 * The GPU types Modal accepts (https://modal.com/docs/guide/gpu), after the SDK upper-cases them: `A100` means
 * A100-40GB, `H100!` an H100 never upgraded to an H200, `B200+` a B200 or better. A10G is the older name of the
 * A10. Modal allows up to 8 GPUs per sandbox, 4 of the A10 kind.
 */
export const GPU_MAX_COUNT: Readonly<Record<string, number>> = {
  T4: 8,
  L4: 8,
  A10: 4,
  A10G: 4,
  L40S: 8,
  A100: 8,
  "A100-40GB": 8,
  "A100-80GB": 8,
  "RTX-PRO-6000": 8,
  H100: 8,
  "H100!": 8,
  H200: 8,
  B200: 8,
  "B200+": 8,
};

function create(context: CallContext, version: 1 | 2): GrpcResult {
  const { ns, request, now } = context;
  const appId = str(request, "app_id");
  if (!ns.apps.has(appId)) return fail(Code.NOT_FOUND, `App ${appId || "(none)"} not found`);
  const definition = sub(request, "definition");
  if (definition === undefined) return fail(Code.INVALID_ARGUMENT, "Sandbox definition is required");

  const image = ns.images.get(str(definition, "image_id"));
  if (image === undefined)
    return fail(Code.NOT_FOUND, `Image ${str(definition, "image_id") || "(none)"} not found`);
  if (image.pollsLeft > 0 || image.outcome !== 1)
    return fail(Code.FAILED_PRECONDITION, `Image ${image.id} is not built`);

  const timeoutSecs = num(definition, "timeout_secs") || DEFAULT_TIMEOUT_SECS;
  if (timeoutSecs > MAX_TIMEOUT_SECS) {
    return fail(Code.INVALID_ARGUMENT, `timeout_secs must be at most ${MAX_TIMEOUT_SECS}`);
  }
  const name = has(definition, "name") ? str(definition, "name") : undefined;
  if (name !== undefined && !OBJECT_NAME.test(name))
    return fail(Code.INVALID_ARGUMENT, "Invalid Sandbox name");

  const resources = sub(definition, "resources");
  const gpuConfig = sub(resources, "gpu_config");
  const gpuType = str(gpuConfig, "gpu_type");
  const gpuCount = num(gpuConfig, "count");
  if (version === 2 && (gpuType !== "" || gpuCount > 0)) {
    return fail(Code.INVALID_ARGUMENT, "GPUs are not supported by V2 Sandboxes");
  }
  let gpu: SandboxRecord["resources"]["gpu"];
  if (gpuType !== "" || gpuCount > 0) {
    const maxCount = GPU_MAX_COUNT[gpuType];
    if (maxCount === undefined)
      return fail(Code.INVALID_ARGUMENT, `Unknown GPU type: ${gpuType || "(none)"}`);
    if (gpuCount < 1 || gpuCount > maxCount) {
      return fail(Code.INVALID_ARGUMENT, `${gpuType} sandboxes take 1 to ${maxCount} GPUs`);
    }
    gpu = { type: gpuType, count: gpuCount };
  }
  const regions = strings(sub(definition, "scheduler_placement"), "regions");

  const env: Record<string, string> = {};
  for (const secretId of strings(definition, "secret_ids")) {
    const secret = ns.secrets.get(secretId);
    if (secret === undefined) return fail(Code.NOT_FOUND, `Secret ${secretId} not found`);
    Object.assign(env, secret.env);
  }
  for (const source of messages(request, "secret_sources")) {
    if (has(source, "secret_id")) {
      const secret = ns.secrets.get(str(source, "secret_id"));
      if (secret === undefined) return fail(Code.NOT_FOUND, `Secret ${str(source, "secret_id")} not found`);
      Object.assign(env, secret.env);
    } else {
      Object.assign(env, stringMap(sub(source, "env"), "contents"));
    }
  }

  if (name !== undefined) {
    const taken = [...ns.sandboxes.values()].some(
      (other) =>
        other.appId === appId && other.name === name && refreshSandbox(other, now).result === undefined,
    );
    if (taken) return fail(Code.ALREADY_EXISTS, `Sandbox with name '${name}' already exists in this app`);
  }

  const sandbox: SandboxRecord = {
    id: newId(ns, version === 1 ? "sb" : "sb2"),
    version,
    appId,
    name,
    tags: tags(request, "tags"),
    definition,
    env,
    createdAt: creationTime(ns, now),
    taskId: newId(ns, "ta"),
    timeoutSecs,
    resources: { milliCpu: num(resources, "milli_cpu"), memoryMb: num(resources, "memory_mb"), gpu },
    regions,
    result: undefined,
  };
  ns.sandboxes.set(sandbox.id, sandbox);
  return version === 1
    ? ok({ sandbox_id: sandbox.id })
    : ok({ sandbox_id: sandbox.id, task_id: sandbox.taskId });
}

function find(ns: Namespace, context: CallContext, version: 1 | 2): SandboxRecord | GrpcResult {
  const id = str(context.request, "sandbox_id");
  const sandbox = ns.sandboxes.get(id);
  if (sandbox === undefined || sandbox.version !== version)
    return fail(Code.NOT_FOUND, `Sandbox ${id || "(none)"} not found`);
  return refreshSandbox(sandbox, context.now);
}

const isRecord = (value: SandboxRecord | GrpcResult): value is SandboxRecord => "id" in value;

function getTaskId(context: CallContext, version: 1 | 2): GrpcResult {
  const sandbox = find(context.ns, context, version);
  if (!isRecord(sandbox)) return sandbox;
  return sandbox.result === undefined ? ok({ task_id: sandbox.taskId }) : ok({ task_result: sandbox.result });
}

function list(context: CallContext, version: 1 | 2): GrpcResult {
  const { ns, request, now } = context;
  const appId = str(request, "app_id");
  if (appId !== "" && !ns.apps.has(appId)) return fail(Code.NOT_FOUND, `App ${appId} not found`);
  const wanted = tags(request, "tags");
  const before = num(request, "before_timestamp");
  const includeFinished = request.include_finished === true;
  const environment = str(request, "environment_name") || "main";
  const page = [...ns.sandboxes.values()]
    .map((sandbox) => refreshSandbox(sandbox, now))
    .filter(
      (sandbox) =>
        (version === 2 || sandbox.version === 1) &&
        (appId !== "" ? sandbox.appId === appId : ns.apps.get(sandbox.appId)?.environment === environment) &&
        (includeFinished || sandbox.result === undefined) &&
        (before === 0 || sandbox.createdAt < before) &&
        Object.entries(wanted).every(([key, value]) => sandbox.tags[key] === value),
    )
    .sort((a, b) => b.createdAt - a.createdAt)
    .slice(0, ns.settings.listPageSize);
  return ok({
    sandboxes: page.map((sandbox) => ({
      id: sandbox.id,
      created_at: sandbox.createdAt,
      app_id: sandbox.appId,
      tags: Object.entries(sandbox.tags).map(([tag_name, tag_value]) => ({ tag_name, tag_value })),
      name: sandbox.name ?? "",
      image_id: str(sandbox.definition, "image_id"),
      timeout_secs: sandbox.timeoutSecs,
      regions: sandbox.regions,
    })),
  });
}

function terminate(context: CallContext, version: 1 | 2): GrpcResult {
  const sandbox = find(context.ns, context, version);
  if (!isRecord(sandbox)) return sandbox;
  if (sandbox.result !== undefined) return ok({ existing_result: sandbox.result });
  sandbox.result = { status: TERMINATED, exitcode: 137, exception: "" };
  return ok({});
}

/** Answers at once: a running sandbox has no result yet (Modal would hold the call up to `timeout`). */
function wait(context: CallContext, version: 1 | 2): GrpcResult {
  const sandbox = find(context.ns, context, version);
  if (!isRecord(sandbox)) return sandbox;
  return sandbox.result === undefined ? ok({}) : ok({ result: sandbox.result });
}

export const sandboxHandlers: Record<string, (context: CallContext) => GrpcResult> = {
  SandboxCreate: (context) => create(context, 1),
  SandboxCreateV2: (context) => create(context, 2),
  SandboxGetTaskId: (context) => getTaskId(context, 1),
  SandboxGetTaskIdV2: (context) => getTaskId(context, 2),
  SandboxList: (context) => list(context, 1),
  SandboxListV2: (context) => list(context, 2),
  SandboxTerminate: (context) => terminate(context, 1),
  SandboxTerminateV2: (context) => terminate(context, 2),
  SandboxWait: (context) => wait(context, 1),
  SandboxWaitV2: (context) => wait(context, 2),
};
