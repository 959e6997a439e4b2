/**
 * Emulated calls that set up a session: auth token, app, environment, image build, ephemeral secret.
 * Each one rejects what Modal rejects (missing name, unknown app or environment, malformed image definition) with
 * the gRPC code Modal uses, so a client bug shows up here rather than in production.
 */
import { Code, fail, type GrpcResult, num, ok, str, stringMap, strings, sub } from "./access.ts";
import type { DecodedMessage } from "./codec.ts";
import { DEFAULT_ENVIRONMENT, type Namespace, newId } from "./state.ts";

export interface CallContext {
  ns: Namespace;
  now: number;
  request: DecodedMessage;
  headers: Readonly<Record<string, string>>;
  method: string;
}

const CREATE_IF_MISSING = 1;
const EPHEMERAL = 5;

const base64url = (text: string) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** A JWT-shaped token (unsigned: the emulator is its only verifier) whose `exp` the client must honour. */
export function authTokenGet({ ns, now, headers }: CallContext): GrpcResult {
  const expiresAt = Math.floor(now / 1000) + ns.settings.tokenLifetimeSeconds;
  const jti = newId(ns, "tok");
  const token = [
    base64url(JSON.stringify({ alg: "HS256", typ: "JWT" })),
    base64url(JSON.stringify({ sub: headers["x-modal-token-id"] ?? "", exp: expiresAt, jti })),
    base64url("emulator"),
  ].join(".");
  ns.tokens.set(token, { tokenId: headers["x-modal-token-id"] ?? "", expiresAt: expiresAt * 1000 });
  return ok({ token });
}

function environmentOf(ns: Namespace, name: string): { name: string; id: string } | undefined {
  const resolved = name === "" ? DEFAULT_ENVIRONMENT : name;
  const id = ns.environments.get(resolved);
  return id === undefined ? undefined : { name: resolved, id };
}

export function appGetOrCreate({ ns, request }: CallContext): GrpcResult {
  const name = str(request, "app_name");
  if (name === "") return fail(Code.INVALID_ARGUMENT, "App name is required");
  const environment = environmentOf(ns, str(request, "environment_name"));
  if (environment === undefined) {
    return fail(Code.NOT_FOUND, `Environment '${str(request, "environment_name")}' not found`);
  }
  const existing = [...ns.apps.values()].find(
    (app) => app.name === name && app.environment === environment.name,
  );
  if (existing !== undefined) return ok({ app_id: existing.id });
  const creation = num(request, "object_creation_type");
  if (creation === 0) return fail(Code.NOT_FOUND, `App '${name}' not found`);
  if (creation !== CREATE_IF_MISSING)
    return fail(Code.INVALID_ARGUMENT, `Unsupported object creation type ${creation}`);
  const app = { id: newId(ns, "ap"), name, environment: environment.name };
  ns.apps.set(app.id, app);
  return ok({ app_id: app.id });
}

export function environmentGetOrCreate({ ns, request }: CallContext): GrpcResult {
  const name = str(request, "deployment_name");
  let environment = environmentOf(ns, name);
  if (environment === undefined) {
    if (num(request, "object_creation_type") !== CREATE_IF_MISSING) {
      return fail(Code.NOT_FOUND, `Environment '${name}' not found`);
    }
    ns.environments.set(name, newId(ns, "en"));
    environment = { name, id: ns.environments.get(name) ?? "" };
  }
  return ok({
    environment_id: environment.id,
    metadata: {
      name: environment.name,
      settings: { image_builder_version: ns.settings.imageBuilderVersion },
    },
  });
}

const resultOf = (status: number, exception: string) => ({ status, exception });

export function imageGetOrCreate({ ns, request }: CallContext): GrpcResult {
  const appId = str(request, "app_id");
  if (!ns.apps.has(appId)) return fail(Code.NOT_FOUND, `App ${appId || "(none)"} not found`);
  const image = sub(request, "image");
  const commands = strings(image, "dockerfile_commands");
  const [from] = commands;
  if (from === undefined || !/^FROM \S+/.test(from)) {
    return fail(Code.INVALID_ARGUMENT, "Image definition must start with a FROM command");
  }
  const builderVersion = str(request, "builder_version") || ns.settings.imageBuilderVersion;
  if (!/^\d{4}\.\d{2}$/.test(builderVersion)) {
    return fail(Code.INVALID_ARGUMENT, `Unknown image builder version ${builderVersion}`);
  }
  // Images are content-addressed: the same definition and builder version is the same image.
  let record = [...ns.images.values()].find(
    (candidate) =>
      candidate.builderVersion === builderVersion && candidate.commands.join("\n") === commands.join("\n"),
  );
  if (record === undefined) {
    record = {
      id: newId(ns, "im"),
      appId,
      commands,
      builderVersion,
      pollsLeft: ns.settings.imageBuildPolls,
      outcome: ns.settings.imageOutcome,
      exception: ns.settings.imageException,
      entries: 0,
    };
    ns.images.set(record.id, record);
  }
  return record.pollsLeft > 0
    ? ok({ image_id: record.id })
    : ok({ image_id: record.id, result: resultOf(record.outcome, record.exception) });
}

/** One long poll: while the build runs, one log entry and the end of the stream (the server's 55 s ran out). */
export function imageJoinStreaming({ ns, request }: CallContext): GrpcResult {
  const record = ns.images.get(str(request, "image_id"));
  if (record === undefined) return fail(Code.NOT_FOUND, `Image ${str(request, "image_id")} not found`);
  if (record.pollsLeft > 0) {
    record.pollsLeft--;
    record.entries++;
    return ok({ entry_id: `${record.entries}-0` });
  }
  return ok({
    result: resultOf(record.outcome, record.exception),
    entry_id: `${record.entries + 1}-0`,
    eof: true,
  });
}

export function secretGetOrCreate({ ns, request }: CallContext): GrpcResult {
  const environment = environmentOf(ns, str(request, "environment_name"));
  if (environment === undefined) {
    return fail(Code.NOT_FOUND, `Environment '${str(request, "environment_name")}' not found`);
  }
  const creation = num(request, "object_creation_type");
  if (creation !== EPHEMERAL) {
    // Named secrets are not emulated: a lookup finds nothing, as in an empty workspace.
    if (str(request, "deployment_name") !== "" && creation === 0) {
      return fail(Code.NOT_FOUND, `Secret '${str(request, "deployment_name")}' not found`);
    }
    return fail(Code.INVALID_ARGUMENT, `Unsupported object creation type ${creation}`);
  }
  const env = stringMap(request, "env_dict");
  if (Object.keys(env).length === 0)
    return fail(Code.INVALID_ARGUMENT, "Ephemeral secrets need env_dict entries");
  const secret = { id: newId(ns, "st"), env, environment: environment.name };
  ns.secrets.set(secret.id, secret);
  return ok({ secret_id: secret.id });
}
