/**
 * The emulator's control API (JSON), under the same namespace prefix as the gRPC paths:
 *
 *   GET  {base}/_emulator/calls[?method=M]        every recorded call: method, headers, decoded request, code
 *   POST {base}/_emulator/fail                    FailRule: fail the next `count` calls of `method`
 *   POST {base}/_emulator/delay                   { method, ms, count? }: hold answers (count: all if unset)
 *   POST {base}/_emulator/reset                   forget everything in this namespace
 *   POST {base}/_emulator/image                   { buildPolls?, outcome?, exception? } for images created next
 *   POST {base}/_emulator/settings                { tokenLifetimeSeconds?, listPageSize?, imageBuilderVersion? }
 *   POST {base}/_emulator/credentials             { tokenId, tokenSecret }: the only pair accepted from now on
 *   POST {base}/_emulator/environments            { name }: create an environment besides "main"
 *   GET  {base}/_emulator/state                   apps, images, secrets (ids and keys), sandboxes
 *   GET  {base}/_emulator/sandboxes               sandboxes with definition, tags, env, resources, regions, result
 *   POST {base}/_emulator/sandboxes/<id>/finish   { status?, exitcode? }: the sandbox's process ended
 */
import * as z from "zod/mini";
import { type Namespace, newId, refreshSandbox } from "./state.ts";

export interface ControlReply {
  status: number;
  json: unknown;
}

const FailRuleSchema = z.object({
  method: z.string(),
  count: z._default(z.number(), 1),
  grpcCode: z.optional(z.number()),
  grpcMessage: z.optional(z.string()),
  httpStatus: z.optional(z.number()),
  body: z.optional(z.string()),
  bodyBase64: z.optional(z.string()),
  contentType: z.optional(z.string()),
  match: z.optional(z.string()),
  retryAfterSeconds: z.optional(z.number()),
  afterEffect: z.optional(z.boolean()),
});
const DelaySchema = z.object({
  method: z.string(),
  ms: z.number(),
  count: z._default(z.number(), Number.MAX_SAFE_INTEGER),
});
const ImageSchema = z.object({
  buildPolls: z.optional(z.number()),
  outcome: z.optional(z.number()),
  exception: z.optional(z.string()),
});
const SettingsSchema = z.object({
  tokenLifetimeSeconds: z.optional(z.number()),
  listPageSize: z.optional(z.number()),
  imageBuilderVersion: z.optional(z.string()),
});
const CredentialsSchema = z.object({ tokenId: z.string(), tokenSecret: z.string() });
const EnvironmentSchema = z.object({ name: z.string() });
const FinishSchema = z.object({ status: z._default(z.number(), 1), exitcode: z._default(z.number(), 0) });

const decoder = new TextDecoder();

function parse<T>(schema: z.ZodMiniType<T>, body: Uint8Array): T | ControlReply {
  let json: unknown = {};
  try {
    if (body.length > 0) json = JSON.parse(decoder.decode(body));
  } catch {
    return { status: 400, json: { error: "body must be JSON" } };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : { status: 400, json: { error: z.prettifyError(parsed.error) } };
}

const isReply = (value: unknown): value is ControlReply =>
  typeof value === "object" && value !== null && "status" in value && "json" in value;

const OK: ControlReply = { status: 200, json: { ok: true } };

export function handleControl(
  ns: Namespace,
  request: { method: string; operation: string; path: string; body: Uint8Array; now: number },
  reset: () => void,
): ControlReply {
  const { method: httpMethod, operation, path, body, now } = request;
  const route = `${httpMethod} ${operation}`;
  const finish = /^POST sandboxes\/([^/]+)\/finish$/.exec(route);
  if (finish !== null) {
    const input = parse(FinishSchema, body);
    if (isReply(input)) return input;
    const sandbox = ns.sandboxes.get(finish[1] ?? "");
    if (sandbox === undefined) return { status: 404, json: { error: "no such sandbox" } };
    sandbox.result = { status: input.status, exitcode: input.exitcode, exception: "" };
    return OK;
  }
  switch (route) {
    case "GET calls": {
      const method = new URL(path, "http://emulator").searchParams.get("method");
      return { status: 200, json: ns.calls.filter((call) => method === null || call.method === method) };
    }
    case "POST reset":
      reset();
      return OK;
    case "POST fail": {
      const input = parse(FailRuleSchema, body);
      if (isReply(input)) return input;
      ns.failures.push(input);
      return OK;
    }
    case "POST delay": {
      const input = parse(DelaySchema, body);
      if (isReply(input)) return input;
      ns.delays.push(input);
      return OK;
    }
    case "POST image": {
      const input = parse(ImageSchema, body);
      if (isReply(input)) return input;
      ns.settings.imageBuildPolls = input.buildPolls ?? ns.settings.imageBuildPolls;
      ns.settings.imageOutcome = input.outcome ?? ns.settings.imageOutcome;
      ns.settings.imageException = input.exception ?? ns.settings.imageException;
      return OK;
    }
    case "POST settings": {
      const input = parse(SettingsSchema, body);
      if (isReply(input)) return input;
      ns.settings.tokenLifetimeSeconds = input.tokenLifetimeSeconds ?? ns.settings.tokenLifetimeSeconds;
      ns.settings.listPageSize = input.listPageSize ?? ns.settings.listPageSize;
      ns.settings.imageBuilderVersion = input.imageBuilderVersion ?? ns.settings.imageBuilderVersion;
      return OK;
    }
    case "POST credentials": {
      const input = parse(CredentialsSchema, body);
      if (isReply(input)) return input;
      ns.credentials = input;
      return OK;
    }
    case "POST environments": {
      const input = parse(EnvironmentSchema, body);
      if (isReply(input)) return input;
      if (!ns.environments.has(input.name)) ns.environments.set(input.name, newId(ns, "en"));
      return OK;
    }
    case "GET sandboxes":
      return { status: 200, json: [...ns.sandboxes.values()].map((sandbox) => refreshSandbox(sandbox, now)) };
    case "GET state":
      return {
        status: 200,
        json: {
          apps: [...ns.apps.values()],
          environments: Object.fromEntries(ns.environments),
          images: [...ns.images.values()],
          secrets: [...ns.secrets.values()].map((secret) => ({
            id: secret.id,
            keys: Object.keys(secret.env),
          })),
          sandboxes: [...ns.sandboxes.values()].map((sandbox) => refreshSandbox(sandbox, now)),
        },
      };
    default:
      return { status: 404, json: { error: `unknown control operation ${route}` } };
  }
}
