// gRPC framing and the single-exchange layer, with an injected fetch that answers crafted HTTP responses
// (every way a gRPC-over-fetch answer can go wrong), in workerd.

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { PermanentError, RetryableError, UpstreamError } from "../../../src/errors.ts";
import { type FetchLike, grpcExchange } from "../../../src/sandboxes/direct/grpc/exchange.ts";
import { FramingError, frameMessage, parseFrames } from "../../../src/sandboxes/direct/grpc/framing.ts";

const GRPC = { "content-type": "application/grpc" };

function answer(
  status: number,
  headers: Record<string, string>,
  body: Uint8Array | string = new Uint8Array(),
): FetchLike {
  return async () => new Response(typeof body === "string" ? body : body.slice().buffer, { status, headers });
}

function exchange(
  fetch: FetchLike,
  options: { stream?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
) {
  return grpcExchange(fetch, {
    url: "https://modal.test/modal.client.ModalClient/AppGetOrCreate",
    method: "AppGetOrCreate",
    headers: {},
    message: new Uint8Array([0x0a, 0x01, 0x61]),
    timeoutMs: options.timeoutMs ?? 1000,
    stream: options.stream ?? false,
    redact: (text) => text.replaceAll("as-secret", "[redacted]"),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof UpstreamError)) throw new Error(`expected an UpstreamError, got ${String(error)}`);
  expect(error.operation).toBe("AppGetOrCreate");
  expect(error.message).toContain("AppGetOrCreate");
  return error;
}

const frame = (flag: number, length: number, ...payload: number[]) =>
  new Uint8Array([
    flag,
    (length >>> 24) & 255,
    (length >>> 16) & 255,
    (length >>> 8) & 255,
    length & 255,
    ...payload,
  ]);

describe("framing", () => {
  it("frames a message with a zero flag and a big-endian length", () => {
    expect(Array.from(frameMessage(new Uint8Array([7, 8])))).toEqual([0, 0, 0, 0, 2, 7, 8]);
    expect(Array.from(frameMessage(new Uint8Array()))).toEqual([0, 0, 0, 0, 0]);
  });

  it("splits several frames, including empty messages", () => {
    const body = new Uint8Array([...frame(0, 1, 9), ...frame(0, 0), ...frame(0, 2, 1, 2)]);
    expect(parseFrames(body).map((message) => Array.from(message))).toEqual([[9], [], [1, 2]]);
    expect(parseFrames(new Uint8Array())).toEqual([]);
  });

  it("tells truncated, compressed and foreign bodies apart", () => {
    const kind = (body: Uint8Array) => {
      try {
        parseFrames(body);
        return "ok";
      } catch (error) {
        return error instanceof FramingError ? error.kind : "other";
      }
    };
    expect(kind(frame(0, 10, 1, 2))).toBe("truncated");
    expect(kind(new Uint8Array([0, 0, 0]))).toBe("truncated");
    expect(kind(frame(1, 1, 5))).toBe("compressed");
    expect(kind(new TextEncoder().encode("<html>502</html>"))).toBe("bad_flag");
  });
});

describe("exchange: success", () => {
  it("returns the one message of a unary answer (grpc-status in a trailer we cannot see)", async () => {
    const message = new BinaryWriter().tag(1, WireType.LengthDelimited).string("ap-1").finish();
    expect(await exchange(answer(200, GRPC, frameMessage(message)))).toEqual([message]);
  });

  it("accepts application/grpc+proto and a trailers-only OK on a stream with no items", async () => {
    expect(
      await exchange(answer(200, { "content-type": "application/grpc+proto", "grpc-status": "0" }), {
        stream: true,
      }),
    ).toEqual([]);
  });
});

describe("exchange: every failure is typed and names the method", () => {
  it("trailers-only errors carry the gRPC code and the decoded, redacted message", async () => {
    const error = await failure(
      exchange(
        answer(200, {
          ...GRPC,
          "grpc-status": "5",
          "grpc-message": "App%20%27x%27%20not%20found%3A%20as-secret",
        }),
      ),
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ grpcCode: 5, reason: "not_found", status: 200 });
    expect(error.message).toContain("App 'x' not found: [redacted]");
  });

  it("retryable codes make RetryableError, others PermanentError", async () => {
    for (const code of [1, 2, 4, 8, 10, 13, 14]) {
      expect(await failure(exchange(answer(200, { ...GRPC, "grpc-status": String(code) })))).toBeInstanceOf(
        RetryableError,
      );
    }
    for (const code of [3, 5, 6, 7, 9, 11, 12, 15, 16]) {
      expect(await failure(exchange(answer(200, { ...GRPC, "grpc-status": String(code) })))).toBeInstanceOf(
        PermanentError,
      );
    }
  });

  it("UNAUTHENTICATED says which variables to check", async () => {
    const error = await failure(
      exchange(answer(200, { ...GRPC, "grpc-status": "16", "grpc-message": "bad token" })),
    );
    expect(error.message).toContain("check MODAL_TOKEN_ID / MODAL_TOKEN_SECRET");
    expect(error.reason).toBe("unauthenticated");
  });

  it("a retry delay in grpc-status-details-bin becomes retryAfterSeconds", async () => {
    const policy = new BinaryWriter().tag(1, WireType.Bit32).float(2.5).finish();
    const status = new BinaryWriter()
      .tag(1, WireType.Varint)
      .int32(8)
      .tag(3, WireType.LengthDelimited)
      .fork()
      .tag(1, WireType.LengthDelimited)
      .string("type.googleapis.com/modal.client.RPCRetryPolicy")
      .tag(2, WireType.LengthDelimited)
      .bytes(policy)
      .join()
      .finish();
    const details = btoa(String.fromCharCode(...status)).replace(/=+$/, "");
    const error = await failure(
      exchange(answer(200, { ...GRPC, "grpc-status": "8", "grpc-status-details-bin": details })),
    );
    expect(error).toMatchObject({ grpcCode: 8, retryAfterSeconds: 2.5, retryable: true });
  });

  it("an HTML 502 from a proxy is UNAVAILABLE (retryable), with its Retry-After", async () => {
    const error = await failure(
      exchange(answer(502, { "content-type": "text/html", "retry-after": "7" }, "<html>Bad gateway</html>")),
    );
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ grpcCode: 14, status: 502, retryAfterSeconds: 7 });
    expect(error.message).not.toContain("<html>");
  });

  it("HTTP statuses map as the gRPC spec says", async () => {
    const codes: Array<[number, number, boolean]> = [
      [400, 13, true],
      [401, 16, false],
      [403, 7, false],
      [404, 12, false],
      [429, 14, true],
      [503, 14, true],
      [500, 2, true],
    ];
    for (const [status, code, retryable] of codes) {
      const error = await failure(exchange(answer(status, { "content-type": "text/plain" }, "nope")));
      expect({ status, code: error.grpcCode, retryable: error.retryable }).toEqual({
        status,
        code,
        retryable,
      });
    }
  });

  it("an HTML page with HTTP 200 is not gRPC: permanent, pointing at MODAL_SERVER_URL", async () => {
    const error = await failure(
      exchange(answer(200, { "content-type": "text/html" }, "<html>welcome</html>")),
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.reason).toBe("not_grpc");
    expect(error.message).toContain("MODAL_SERVER_URL");
  });

  it("an empty 200 is never a success", async () => {
    const silent = await failure(exchange(answer(200, GRPC)));
    expect(silent).toMatchObject({ reason: "empty_response", retryable: true });
    const okButEmpty = await failure(exchange(answer(200, { ...GRPC, "grpc-status": "0" })));
    expect(okButEmpty).toMatchObject({ reason: "empty_response", retryable: false });
  });

  it("garbage bytes, a frame length past the body, and a compressed frame", async () => {
    const garbage = await failure(
      exchange(answer(200, GRPC, new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]))),
    );
    expect(garbage).toMatchObject({ reason: "bad_frame", retryable: false, grpcCode: 13 });
    const truncated = await failure(exchange(answer(200, GRPC, frame(0, 100, 1, 2, 3))));
    expect(truncated).toMatchObject({ reason: "truncated_frame", retryable: true, grpcCode: 13 });
    const compressed = await failure(exchange(answer(200, GRPC, frame(1, 3, 1, 2, 3))));
    expect(compressed).toMatchObject({ reason: "compressed_frame", retryable: false, grpcCode: 12 });
  });

  it("two messages for a unary call are a bad response", async () => {
    const body = new Uint8Array([...frame(0, 0), ...frame(0, 0)]);
    expect(await failure(exchange(answer(200, GRPC, body)))).toMatchObject({ reason: "bad_response" });
  });

  it("a network error is UNAVAILABLE and retryable", async () => {
    const error = await failure(exchange(() => Promise.reject(new TypeError("connection reset"))));
    expect(error).toMatchObject({ reason: "network", grpcCode: 14, retryable: true });
  });

  it("a server that never answers times out (DEADLINE_EXCEEDED, retryable)", async () => {
    const hanging: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) =>
        init.signal.addEventListener("abort", () => reject(new Error("aborted"))),
      );
    const error = await failure(exchange(hanging, { timeoutMs: 30 }));
    expect(error).toMatchObject({ reason: "timeout", grpcCode: 4, retryable: true });
  });

  it("the caller's own abort is CANCELLED", async () => {
    const controller = new AbortController();
    const hanging: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) =>
        init.signal.addEventListener("abort", () => reject(new Error("aborted"))),
      );
    const pending = exchange(hanging, { signal: controller.signal });
    controller.abort();
    expect(await failure(pending)).toMatchObject({ reason: "cancelled", grpcCode: 1 });
  });
});
