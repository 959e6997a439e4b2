// The emulator rejects what Modal rejects, at the protocol level, over raw HTTP from workerd. (Our client never
// sends these requests; a client that did would learn it here instead of in production.)

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, inject, it } from "vitest";
import { frameMessage, parseFrames } from "../../../src/sandboxes/direct/grpc/framing.ts";
import { decodeAppGetOrCreateResponse } from "../../../src/sandboxes/direct/messages/app.ts";
import { decodeImageGetOrCreateResponse } from "../../../src/sandboxes/direct/messages/image.ts";
import { modalEmulator } from "../../emulators/modal/control-client.ts";

const HEADERS = {
  "content-type": "application/grpc",
  te: "trailers",
  "x-modal-client-type": "8",
  "x-modal-client-version": "1.0.0",
  "x-modal-token-id": "ak-rawclient0001",
  "x-modal-token-secret": "as-rawclient0001",
};

function namespace(name: string) {
  return modalEmulator(inject("modalEmulatorUrl"), `raw-${name}-${crypto.randomUUID()}`);
}

async function call(
  base: string,
  method: string,
  message: Uint8Array,
  headers: Record<string, string> = HEADERS,
  body: Uint8Array = frameMessage(message),
  httpMethod = "POST",
) {
  const response = await fetch(`${base}/modal.client.ModalClient/${method}`, {
    method: httpMethod,
    headers,
    ...(httpMethod === "POST" ? { body } : {}),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    grpcStatus: response.headers.get("grpc-status"),
    grpcMessage: decodeURIComponent(response.headers.get("grpc-message") ?? ""),
    contentType: response.headers.get("content-type"),
    bytes,
  };
}

const { LengthDelimited: LEN, Varint: VARINT } = WireType;
const appRequest = (name: string) =>
  new BinaryWriter().tag(1, LEN).string(name).tag(3, VARINT).int32(1).finish();

describe("protocol", () => {
  it("answers a good call with 200, application/grpc and exactly one frame", async () => {
    const { url } = namespace("ok");
    const answer = await call(url, "AppGetOrCreate", appRequest("app"));
    expect(answer).toMatchObject({ status: 200, contentType: "application/grpc", grpcStatus: null });
    expect(answer.bytes[0]).toBe(0);
    expect(answer.bytes.length).toBe(5 + new DataView(answer.bytes.buffer).getUint32(1));
  });

  it("refuses a non-gRPC content type with HTTP 415 and GET with 405", async () => {
    const { url } = namespace("types");
    expect(
      (await call(url, "AppGetOrCreate", appRequest("a"), { ...HEADERS, "content-type": "application/json" }))
        .status,
    ).toBe(415);
    expect(
      (await call(url, "AppGetOrCreate", appRequest("a"), HEADERS, new Uint8Array(), "GET")).status,
    ).toBe(405);
  });

  it("answers errors trailers-only: grpc-status and grpc-message headers, empty body", async () => {
    const { url } = namespace("unknown-method");
    const answer = await call(url, "NoSuchMethod", new Uint8Array());
    expect(answer).toMatchObject({ status: 200, grpcStatus: "12", contentType: "application/grpc" });
    expect(answer.grpcMessage).toContain("NoSuchMethod");
    expect(answer.bytes.length).toBe(0);
  });

  it("rejects malformed request framing and undecodable messages with INTERNAL, compression with UNIMPLEMENTED", async () => {
    const { url } = namespace("framing");
    const truncated = new Uint8Array([0, 0, 0, 0, 9, 1]);
    expect((await call(url, "AppGetOrCreate", new Uint8Array(), HEADERS, truncated)).grpcStatus).toBe("13");
    const two = new Uint8Array([...frameMessage(appRequest("a")), ...frameMessage(appRequest("b"))]);
    expect((await call(url, "AppGetOrCreate", new Uint8Array(), HEADERS, two)).grpcStatus).toBe("13");
    expect((await call(url, "AppGetOrCreate", new Uint8Array([0x0a, 0x09, 0x61]))).grpcStatus).toBe("13");
    const compressed = frameMessage(appRequest("a"));
    compressed[0] = 1;
    expect((await call(url, "AppGetOrCreate", new Uint8Array(), HEADERS, compressed)).grpcStatus).toBe("12");
  });
});

describe("authentication", () => {
  it("missing or malformed credentials are UNAUTHENTICATED; missing client headers FAILED_PRECONDITION", async () => {
    const { url } = namespace("auth");
    const { "x-modal-token-secret": _secret, ...noSecret } = HEADERS;
    expect((await call(url, "AppGetOrCreate", appRequest("a"), noSecret)).grpcStatus).toBe("16");
    expect(
      (await call(url, "AppGetOrCreate", appRequest("a"), { ...HEADERS, "x-modal-token-id": "not-a-token" }))
        .grpcStatus,
    ).toBe("16");
    const { "x-modal-client-version": _version, ...noVersion } = HEADERS;
    expect((await call(url, "AppGetOrCreate", appRequest("a"), noVersion)).grpcStatus).toBe("9");
  });

  it("accepts only the configured pair once credentials are set, and checks the auth token", async () => {
    const emulator = namespace("auth-pair");
    await emulator.credentials("ak-theonlyone", "as-theonlyone");
    expect((await call(emulator.url, "AppGetOrCreate", appRequest("a"))).grpcStatus).toBe("16");
    const good = { ...HEADERS, "x-modal-token-id": "ak-theonlyone", "x-modal-token-secret": "as-theonlyone" };
    expect((await call(emulator.url, "AppGetOrCreate", appRequest("a"), good)).grpcStatus).toBeNull();
    const forged = await call(emulator.url, "AppGetOrCreate", appRequest("a"), {
      ...good,
      "x-modal-auth-token": "a.b.c",
    });
    expect(forged).toMatchObject({ grpcStatus: "16", grpcMessage: "Invalid auth token" });
  });
});

describe("state rules", () => {
  it("unknown app ids are NOT_FOUND; an app name is required", async () => {
    const { url } = namespace("apps");
    expect(
      (await call(url, "AppGetOrCreate", new BinaryWriter().tag(3, VARINT).int32(1).finish())).grpcStatus,
    ).toBe("3");
    const image = new BinaryWriter()
      .tag(2, LEN)
      .fork()
      .tag(6, LEN)
      .string("FROM alpine")
      .join()
      .tag(4, LEN)
      .string("ap-doesnotexist0000000000")
      .finish();
    expect((await call(url, "ImageGetOrCreate", image)).grpcStatus).toBe("5");
    expect(
      (await call(url, "SandboxTerminateV2", new BinaryWriter().tag(1, LEN).string("sb-nope").finish()))
        .grpcStatus,
    ).toBe("5");
  });

  it("an image definition must start with FROM; a V2 sandbox refuses a GPU", async () => {
    const emulator = namespace("images");
    const app = await call(emulator.url, "AppGetOrCreate", appRequest("a"));
    const { appId } = decodeAppGetOrCreateResponse(parseFrames(app.bytes)[0] ?? new Uint8Array());
    const bad = new BinaryWriter()
      .tag(2, LEN)
      .fork()
      .tag(6, LEN)
      .string("RUN echo")
      .join()
      .tag(4, LEN)
      .string(appId)
      .finish();
    expect((await call(emulator.url, "ImageGetOrCreate", bad)).grpcStatus).toBe("3");
    const good = new BinaryWriter()
      .tag(2, LEN)
      .fork()
      .tag(6, LEN)
      .string("FROM alpine")
      .join()
      .tag(4, LEN)
      .string(appId)
      .finish();
    const image = await call(emulator.url, "ImageGetOrCreate", good);
    const { imageId } = decodeImageGetOrCreateResponse(parseFrames(image.bytes)[0] ?? new Uint8Array());
    // SandboxCreateV2Request{ app_id=1, definition=2 → { image_id=3, resources=5 → { gpu_config=4 → { count=2, gpu_type=4 } } } }
    const gpuSandbox = new BinaryWriter()
      .tag(1, LEN)
      .string(appId)
      .tag(2, LEN)
      .fork()
      .tag(3, LEN)
      .string(imageId)
      .tag(5, LEN)
      .fork()
      .tag(4, LEN)
      .fork()
      .tag(2, VARINT)
      .uint32(1)
      .tag(4, LEN)
      .string("A10G")
      .join()
      .join()
      .join()
      .finish();
    const answer = await call(emulator.url, "SandboxCreateV2", gpuSandbox);
    expect(answer).toMatchObject({ grpcStatus: "3", grpcMessage: "GPUs are not supported by V2 Sandboxes" });
  });

  it("records every call with its decoded request", async () => {
    const emulator = namespace("record");
    await call(emulator.url, "AppGetOrCreate", appRequest("recorded"));
    const [recorded] = await emulator.calls();
    expect(recorded).toMatchObject({
      method: "AppGetOrCreate",
      request: { app_name: "recorded", object_creation_type: 1 },
      grpcCode: 0,
      headers: { "x-modal-client-type": "8" },
    });
  });
});
