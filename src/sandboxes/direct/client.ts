/**
 * The direct Modal adapter of `SandboxProvider`: gRPC over `fetch`, the same requests `modal@0.11.1` sends.
 *
 * Calls per operation (auth token, app id and image id cached by the caller / this object):
 * - startRunner, CPU: 1 (SandboxCreateV2); GPU: 2 (SecretGetOrCreate + SandboxCreate);
 * - ALREADY_EXISTS (someone started this runner name before us): + SandboxListV2 pages until found;
 * - a cold isolate adds one AuthTokenGet.
 */
import { PermanentError, RetryableError, UpstreamError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { RunnerSandboxSpec, SandboxProvider, SandboxSummary, StartedSandbox } from "../provider.ts";
import type { FetchLike } from "./grpc/exchange.ts";
import { GrpcCode } from "./grpc/status.ts";
import { createImageBuilder } from "./image-build.ts";
import { decodeAppGetOrCreateResponse, encodeAppGetOrCreateRequest } from "./messages/app.ts";
import {
  decodeSandboxCreateResponse,
  decodeSecretGetOrCreateResponse,
  encodeSandboxCreateRequest,
  encodeSandboxCreateV2Request,
  encodeSecretGetOrCreateRequest,
} from "./messages/sandbox-create.ts";
import {
  decodeSandboxListResponse,
  decodeSandboxTerminateResponse,
  encodeSandboxListRequest,
  encodeSandboxTerminateRequest,
  type SandboxInfo,
} from "./messages/sandbox-lifecycle.ts";
import { AppResponse, SandboxCreated, SandboxList, SecretResponse } from "./responses.ts";
import { createRpc, DEFAULT_RETRY, type RetryPolicy } from "./rpc.ts";
import { toSandboxDefinition } from "./runner-spec.ts";

export interface ModalClientOptions {
  serverUrl: string;
  tokenId: string;
  tokenSecret: string;
  fetch: FetchLike;
  now?: () => number;
  /** Modal environment for apps, images and secrets; unset means the workspace default. */
  environment?: string;
  /** Deadline of one HTTP attempt (long polls get their own). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** How long `ensureImage` follows a build before leaving it to a later retry. */
  imageBuildTimeoutMs?: number;
  imageBuilderVersion?: string;
  clientVersion?: string;
  libmodalVersion?: string;
  logger?: Logger;
  sleep?: (ms: number) => Promise<void>;
  randomId?: () => string;
}

export interface ModalClient extends SandboxProvider {
  /** AuthTokenGet, unless a token is cached: proves MODAL_TOKEN_ID / MODAL_TOKEN_SECRET and nothing more. */
  authenticate(): Promise<void>;
}

/** Enough pages for thousands of sandboxes; a server that keeps paging beyond that is misbehaving. */
const MAX_LIST_PAGES = 50;
/** SDK `isV1SandboxId`: V1 ids are `sb-` and 22 base62 characters; everything else is V2 (and uses the V2 calls). */
const V1_SANDBOX_ID = /^sb-[0-9A-Za-z]{22}$/;

export function createModalClient(options: ModalClientOptions): ModalClient {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const defaultEnvironment = options.environment ?? "";
  const rpc = createRpc({
    serverUrl: options.serverUrl,
    tokenId: options.tokenId,
    tokenSecret: options.tokenSecret,
    fetch: options.fetch,
    now,
    timeoutMs: options.timeoutMs ?? 15_000,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    logger: options.logger,
    clientVersion: options.clientVersion ?? "1.0.0",
    libmodalVersion: options.libmodalVersion ?? "modal-js/0.11.1",
    sleep,
    randomId: options.randomId ?? (() => crypto.randomUUID()),
  });
  const images = createImageBuilder({
    rpc,
    now,
    sleep,
    buildTimeoutMs: options.imageBuildTimeoutMs ?? 5 * 60_000,
    imageBuilderVersion: options.imageBuilderVersion,
  });
  // The environment an app lives in decides its image builder version; ids from the caller's cache fall back
  // to the client's environment.
  const appEnvironments = new Map<string, string>();

  /** Pages through SandboxListV2 as the SDK does: newest first, `before_timestamp` = last `created_at` seen. */
  async function* listPages(
    appId: string,
    tags: Readonly<Record<string, string>>,
  ): AsyncGenerator<SandboxInfo[]> {
    let before = 0;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const { sandboxes } = await rpc.unary(
        "SandboxListV2",
        encodeSandboxListRequest({ appId, beforeTimestamp: before, tags }),
        decodeSandboxListResponse,
        SandboxList,
      );
      const last = sandboxes.at(-1);
      if (last === undefined) return;
      yield sandboxes;
      // A cursor that does not move back in time would page forever.
      if (before !== 0 && last.createdAt >= before) return;
      before = last.createdAt;
    }
  }

  const summary = (info: SandboxInfo): SandboxSummary => ({
    sandboxId: info.id,
    name: info.name === "" ? undefined : info.name,
    tags: info.tags,
    createdAt: Math.round(info.createdAt * 1000),
  });

  /** ALREADY_EXISTS: find the running sandbox that holds the name, by its tags. */
  const findExisting = async (spec: RunnerSandboxSpec, cause: UpstreamError): Promise<string> => {
    const candidates: SandboxInfo[] = [];
    for await (const page of listPages(spec.appId, spec.tags)) {
      const named = page.find((info) => info.name === spec.name);
      if (named !== undefined) return named.id;
      candidates.push(...page);
    }
    // Listings that leave `name` empty: the tags alone identify it when exactly one sandbox carries them.
    const [only, ...others] = candidates;
    if (only !== undefined && others.length === 0 && only.name === "") return only.id;
    // It may have finished between the two calls, freeing the name: a retry will create it afresh.
    throw new RetryableError(
      `Modal reported sandbox ${spec.name} as existing, but no running sandbox matches`,
      {
        service: "modal",
        operation: "SandboxListV2",
        reason: "already_exists_unresolved",
        grpcCode: GrpcCode.ALREADY_EXISTS,
        retryAfterSeconds: 5,
        cause,
      },
    );
  };

  const create = async (spec: RunnerSandboxSpec): Promise<string> => {
    const secrets = Object.values(spec.env);
    if (spec.gpu === undefined || spec.gpu === "") {
      const definition = toSandboxDefinition(spec, "SandboxCreateV2", []);
      const request = encodeSandboxCreateV2Request({
        appId: spec.appId,
        definition,
        tags: spec.tags,
        env: spec.env,
      });
      const created = await rpc.unary(
        "SandboxCreateV2",
        request,
        decodeSandboxCreateResponse,
        SandboxCreated,
        {
          secrets,
        },
      );
      return created.sandboxId;
    }
    // GPUs take the V1 path, whose sandboxes read env from a secret object (ephemeral: it dies with the app).
    const base = toSandboxDefinition(spec, "SandboxCreate", []);
    const secretIds: string[] = [];
    if (secrets.length > 0) {
      const secret = await rpc.unary(
        "SecretGetOrCreate",
        encodeSecretGetOrCreateRequest({
          environmentName: appEnvironments.get(spec.appId) ?? defaultEnvironment,
          envDict: spec.env,
        }),
        decodeSecretGetOrCreateResponse,
        SecretResponse,
        { secrets },
      );
      secretIds.push(secret.secretId);
    }
    const definition = { ...base, secretIds };
    const created = await rpc.unary(
      "SandboxCreate",
      encodeSandboxCreateRequest({ appId: spec.appId, definition, tags: spec.tags }),
      decodeSandboxCreateResponse,
      SandboxCreated,
      { secrets },
    );
    return created.sandboxId;
  };

  return {
    authenticate: () => rpc.authenticate(),

    async ensureApp(name, environment = defaultEnvironment) {
      const { appId } = await rpc.unary(
        "AppGetOrCreate",
        encodeAppGetOrCreateRequest({ appName: name, environmentName: environment }),
        decodeAppGetOrCreateResponse,
        AppResponse,
      );
      appEnvironments.set(appId, environment);
      return appId;
    },

    ensureImage(appId, registryTag) {
      if (!/^\S+$/.test(registryTag)) {
        return Promise.reject(
          new PermanentError("Modal ImageGetOrCreate not sent: the registry tag must be one word", {
            service: "modal",
            operation: "ImageGetOrCreate",
            reason: "invalid_argument",
            grpcCode: GrpcCode.INVALID_ARGUMENT,
          }),
        );
      }
      return images.ensureImage(appId, appEnvironments.get(appId) ?? defaultEnvironment, registryTag);
    },

    async startRunner(spec): Promise<StartedSandbox> {
      try {
        return { sandboxId: await create(spec), alreadyStarted: false };
      } catch (error) {
        if (!(error instanceof UpstreamError) || error.grpcCode !== GrpcCode.ALREADY_EXISTS) throw error;
        if (error.operation !== "SandboxCreateV2" && error.operation !== "SandboxCreate") throw error;
        options.logger?.info("modal sandbox name already taken; resolving", { runnerName: spec.name });
        return { sandboxId: await findExisting(spec, error), alreadyStarted: true };
      }
    },

    async listRunners(appId, tags) {
      const runners: SandboxSummary[] = [];
      for await (const page of listPages(appId, tags)) runners.push(...page.map(summary));
      return runners;
    },

    async terminate(sandboxId) {
      const method = V1_SANDBOX_ID.test(sandboxId) ? "SandboxTerminate" : "SandboxTerminateV2";
      try {
        await rpc.unary(method, encodeSandboxTerminateRequest({ sandboxId }), decodeSandboxTerminateResponse);
      } catch (error) {
        // Already gone is what we wanted.
        if (error instanceof UpstreamError && error.grpcCode === GrpcCode.NOT_FOUND) return;
        throw error;
      }
    },
  };
}
