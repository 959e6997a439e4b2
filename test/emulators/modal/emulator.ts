/**
 * The Modal emulator's core, runtime-neutral: gRPC-over-HTTP/1.1 framing, authentication, failure injection,
 * call recording and dispatch to the handlers. `server.ts` puts it behind a Node HTTP/1.1 server; the
 * conformance test puts `invoke` behind an HTTP/2 gRPC server for the official SDK.
 *
 * Answers as a gRPC server does: success = HTTP 200, `application/grpc`, frames, `grpc-status: 0` as a trailer;
 * failure = "trailers-only" (status and percent-encoded message as headers, empty body); a non-gRPC content type
 * = HTTP 415; a GET = 405.
 */

import { concatBytes } from "../../../src/bytes.ts";
import { FramingError, frameMessage, parseFrames } from "../../../src/sandboxes/direct/grpc/framing.ts";
import { Code, fail, type GrpcResult } from "./access.ts";
import { includesBytes, rawAnswer, text, trailersOnly } from "./answers.ts";
import { decodeMessage, encodeMessage } from "./codec.ts";
import { handleControl } from "./control-api.ts";
import { sandboxHandlers } from "./handlers-sandbox.ts";
import {
  appGetOrCreate,
  authTokenGet,
  type CallContext,
  environmentGetOrCreate,
  imageGetOrCreate,
  imageJoinStreaming,
  secretGetOrCreate,
} from "./handlers-setup.ts";
import { METHODS } from "./schema.ts";
import { createNamespace, type FailRule, type Namespace, type RecordedCall } from "./state.ts";

export interface EmulatorRequest {
  method: string;
  path: string;
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
}

export interface EmulatorResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  trailers?: Record<string, string>;
  /** How long the transport should hold the answer (a `delay` rule). */
  delayMs: number;
}

export type Outcome =
  | { ok: true; messages: Uint8Array[] }
  | { ok: false; code: number; message: string; retryAfterSeconds?: number };

export interface Invocation {
  outcome: Outcome;
  /** An injected HTTP-level answer (error page, garbage) that replaces the gRPC one on HTTP transports. */
  raw?: FailRule;
  delayMs: number;
}

const handlers: Record<string, (context: CallContext) => GrpcResult> = {
  AuthTokenGet: authTokenGet,
  AppGetOrCreate: appGetOrCreate,
  EnvironmentGetOrCreate: environmentGetOrCreate,
  ImageGetOrCreate: imageGetOrCreate,
  ImageJoinStreaming: imageJoinStreaming,
  SecretGetOrCreate: secretGetOrCreate,
  ...sandboxHandlers,
};

const PATH = /^(?:\/ns\/([A-Za-z0-9_.-]+))?\/(modal\.client\.ModalClient|_emulator)\/(.+)$/;
const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?(;|$)/i;
const encoder = new TextEncoder();

export function createModalEmulator(options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  const namespaces = new Map<string, Namespace>();
  const namespace = (name: string): Namespace => {
    let ns = namespaces.get(name);
    if (ns === undefined) {
      ns = createNamespace(name);
      namespaces.set(name, ns);
    }
    return ns;
  };

  function authenticate(
    ns: Namespace,
    method: string,
    headers: Readonly<Record<string, string>>,
  ): GrpcResult | undefined {
    const tokenId = headers["x-modal-token-id"] ?? "";
    const tokenSecret = headers["x-modal-token-secret"] ?? "";
    if (tokenId === "" || tokenSecret === "") return fail(Code.UNAUTHENTICATED, "Missing token id or secret");
    const valid =
      ns.credentials === undefined
        ? /^ak-[A-Za-z0-9]+$/.test(tokenId) && /^as-[A-Za-z0-9]+$/.test(tokenSecret)
        : ns.credentials.tokenId === tokenId && ns.credentials.tokenSecret === tokenSecret;
    if (!valid) return fail(Code.UNAUTHENTICATED, "Invalid token id or secret");
    if (!headers["x-modal-client-type"] || !headers["x-modal-client-version"]) {
      return fail(Code.FAILED_PRECONDITION, "Client type and version headers are required");
    }
    const authToken = headers["x-modal-auth-token"];
    if (method !== "AuthTokenGet" && authToken !== undefined) {
      const known = ns.tokens.get(authToken);
      if (known === undefined || known.tokenId !== tokenId)
        return fail(Code.UNAUTHENTICATED, "Invalid auth token");
      if (known.expiresAt <= now()) return fail(Code.UNAUTHENTICATED, "Auth token expired");
    }
    return undefined;
  }

  const takeRule = <T extends { method: string; count: number }>(
    rules: T[],
    method: string,
    test = (_rule: T) => true,
  ) => {
    const rule = rules.find(
      (candidate) => candidate.method === method && candidate.count > 0 && test(candidate),
    );
    if (rule !== undefined) rule.count--;
    return rule;
  };

  /** One gRPC call, transport-independent. `headers` must have lower-case names. */
  function invoke(
    nsName: string,
    method: string,
    headers: Readonly<Record<string, string>>,
    message: Uint8Array,
  ): Invocation {
    const ns = namespace(nsName);
    const call: RecordedCall = {
      seq: ns.calls.length + 1,
      method,
      headers: { ...headers },
      request: null,
      raw: btoa(Array.from(message, (byte) => String.fromCharCode(byte)).join("")),
      grpcCode: 0,
      httpStatus: 200,
      injected: false,
    };
    ns.calls.push(call);
    const delayMs = takeRule(ns.delays, method)?.ms ?? 0;
    const finish = (result: GrpcResult, spec = METHODS[method], raw?: FailRule): Invocation => {
      call.grpcCode = result.ok ? 0 : result.code;
      if (raw !== undefined) {
        call.injected = true;
        call.httpStatus = raw.httpStatus ?? 200;
      }
      const outcome: Outcome = result.ok
        ? {
            ok: true,
            messages: result.messages.map((item) => encodeMessage(spec?.response ?? "Empty", item)),
          }
        : { ok: false, code: result.code, message: result.message };
      if (raw?.retryAfterSeconds !== undefined && !outcome.ok)
        outcome.retryAfterSeconds = raw.retryAfterSeconds;
      return { outcome, delayMs, ...(raw?.httpStatus !== undefined ? { raw } : {}) };
    };

    const spec = METHODS[method];
    if (spec === undefined)
      return finish(fail(Code.UNIMPLEMENTED, `Method not found: modal.client.ModalClient/${method}`));
    try {
      call.request = decodeMessage(spec.request, message);
    } catch {
      return finish(fail(Code.INTERNAL, "Failed to parse request"));
    }
    const needle = (rule: FailRule) =>
      rule.match === undefined || includesBytes(message, encoder.encode(rule.match));
    const before = takeRule(ns.failures, method, (rule) => !rule.afterEffect && needle(rule));
    const injected = (rule: FailRule) => {
      call.injected = true;
      return finish(
        fail(rule.grpcCode ?? Code.UNAVAILABLE, rule.grpcMessage ?? "injected failure"),
        spec,
        rule,
      );
    };
    if (before !== undefined) return injected(before);
    const rejected = authenticate(ns, method, headers);
    if (rejected !== undefined) return finish(rejected, spec);
    const handler = handlers[method];
    const result =
      handler === undefined
        ? fail(Code.UNIMPLEMENTED, `${method} is not emulated`)
        : handler({ ns, now: now(), request: call.request, headers, method });
    const after = takeRule(ns.failures, method, (rule) => rule.afterEffect === true && needle(rule));
    return after === undefined ? finish(result, spec) : injected(after);
  }

  function handle(request: EmulatorRequest): EmulatorResponse {
    const match = PATH.exec(request.path.split("?")[0] ?? "");
    if (match === null) return text(404, "not found");
    const [, nsName = "default", kind, rest = ""] = match;
    if (kind === "_emulator") {
      const control = {
        method: request.method,
        operation: rest,
        path: request.path,
        body: request.body,
        now: now(),
      };
      const reply = handleControl(namespace(nsName), control, () =>
        namespaces.set(nsName, createNamespace(nsName)),
      );
      return {
        status: reply.status,
        headers: { "content-type": "application/json" },
        body: encoder.encode(JSON.stringify(reply.json)),
        delayMs: 0,
      };
    }
    if (request.method !== "POST") return text(405, "gRPC calls are POST requests");
    if (!GRPC_CONTENT_TYPE.test(request.headers["content-type"] ?? ""))
      return text(415, "content-type must be application/grpc");
    let frames: Uint8Array[];
    try {
      frames = parseFrames(request.body);
    } catch (error) {
      const compressed = error instanceof FramingError && error.kind === "compressed";
      return trailersOnly(
        {
          ok: false,
          code: compressed ? Code.UNIMPLEMENTED : Code.INTERNAL,
          message: compressed ? "Compressed request without grpc-encoding" : "Malformed request frame",
        },
        0,
      );
    }
    const [message] = frames;
    if (message === undefined || frames.length !== 1)
      return trailersOnly(
        { ok: false, code: Code.INTERNAL, message: "A unary request carries exactly one message" },
        0,
      );
    const invocation = invoke(nsName, rest, request.headers, message);
    if (invocation.raw !== undefined && invocation.raw.grpcCode === undefined)
      return rawAnswer(invocation.raw, invocation.delayMs);
    if (!invocation.outcome.ok) {
      const response = trailersOnly(invocation.outcome, invocation.delayMs);
      if (invocation.raw?.httpStatus !== undefined) response.status = invocation.raw.httpStatus;
      return response;
    }
    const body = concatBytes(invocation.outcome.messages.map(frameMessage));
    return {
      status: 200,
      headers: { "content-type": "application/grpc" },
      body,
      trailers: { "grpc-status": "0", "grpc-message": "" },
      delayMs: invocation.delayMs,
    };
  }

  return { handle, invoke, namespace };
}

export type ModalEmulator = ReturnType<typeof createModalEmulator>;
