// The Modal client's failure handling against the emulator, in workerd: every error class as it arrives over
// HTTP, retries and their idempotency key, authentication, timeouts, and secrets kept out of errors and logs.
import { describe, expect, it } from "vitest";
import { PermanentError, RetryableError, UpstreamError } from "../../../src/errors.ts";
import { harness, IMAGE, JIT, rejection, spec, TOKEN_ID, TOKEN_SECRET } from "./harness.ts";

const b64 = (...bytes: number[]) => btoa(String.fromCharCode(...bytes));

async function ready(name: string, options: Parameters<typeof harness>[1] = {}) {
  const setup = harness(name, options);
  const appId = await setup.client.ensureApp("actions-on-modal");
  const imageId = await setup.client.ensureImage(appId, IMAGE);
  return { ...setup, appId, imageId };
}

describe("retries", () => {
  it("retries transient failures with the same x-idempotency-key and a growing x-retry-attempt", async () => {
    const { client, emulator, appId, imageId } = await ready("retry-same-key");
    await emulator.fail({ method: "SandboxCreateV2", count: 2, grpcCode: 14, grpcMessage: "try again" });
    const started = await client.startRunner(spec(appId, imageId));
    expect(started.alreadyStarted).toBe(false);
    const attempts = await emulator.calls("SandboxCreateV2");
    expect(attempts.map((call) => call.grpcCode)).toEqual([14, 14, 0]);
    const keys = new Set(attempts.map((call) => call.headers["x-idempotency-key"]));
    expect(keys.size).toBe(1);
    expect(attempts.map((call) => call.headers["x-retry-attempt"])).toEqual(["0", "1", "2"]);
    expect(attempts[0]?.headers["x-retry-delay"]).toBeUndefined();
    expect(attempts[1]?.headers["x-retry-delay"]).toMatch(/^\d+\.\d{3}$/);
    // Another logical call gets another key.
    await client.listRunners(appId, {});
    const list = await emulator.calls("SandboxListV2");
    expect(keys.has(list[0]?.headers["x-idempotency-key"])).toBe(false);
  });

  it("a lost answer (created, then the connection failed) is retried and resolves to the same sandbox", async () => {
    const { client, emulator, appId, imageId } = await ready("retry-lost-answer");
    await emulator.fail({ method: "SandboxCreateV2", count: 1, grpcCode: 14, afterEffect: true });
    const started = await client.startRunner(spec(appId, imageId));
    const sandboxes = await emulator.sandboxes();
    expect(sandboxes).toHaveLength(1);
    expect(started).toEqual({ sandboxId: sandboxes[0]?.id, alreadyStarted: true });
    const attempts = await emulator.calls("SandboxCreateV2");
    expect(attempts.map((call) => call.grpcCode)).toEqual([14, 6]);
    expect(attempts[0]?.headers["x-idempotency-key"]).toBe(attempts[1]?.headers["x-idempotency-key"]);
  });

  it("gives up after the configured attempts with a RetryableError for the queue", async () => {
    const { client, emulator, appId } = await ready("retry-exhausted", {
      retry: { attempts: 3, baseDelayMs: 1 },
    });
    await emulator.fail({ method: "SandboxListV2", count: 10, grpcCode: 13, grpcMessage: "internal" });
    const error = await rejection(client.listRunners(appId, {}));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ grpcCode: 13, operation: "SandboxListV2", reason: "internal" });
    expect(await emulator.calls("SandboxListV2")).toHaveLength(3);
  });

  it("never retries permanent errors", async () => {
    const { client, emulator, appId, imageId } = await ready("retry-permanent");
    for (const grpcCode of [3, 5, 7, 9]) {
      await emulator.fail({ method: "SandboxCreateV2", count: 1, grpcCode });
      const error = await rejection(client.startRunner(spec(appId, imageId, { name: `runner-${grpcCode}` })));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error).toMatchObject({ grpcCode, operation: "SandboxCreateV2" });
    }
    expect(await emulator.calls("SandboxCreateV2")).toHaveLength(4);
  });

  it("RESOURCE_EXHAUSTED: a short server-requested wait is sat out, a long one goes to the queue", async () => {
    const { client, emulator, appId, imageId } = await ready("throttle");
    await emulator.fail({ method: "SandboxCreateV2", count: 1, grpcCode: 8, retryAfterSeconds: 0.01 });
    await client.startRunner(spec(appId, imageId));
    const attempts = await emulator.calls("SandboxCreateV2");
    expect(attempts.map((call) => call.headers["x-throttle-retry-attempt"])).toEqual(["0", "1"]);
    expect(attempts[1]?.headers["x-throttle-retry-delay"]).toMatch(/^\d+\.\d{3}$/);

    await emulator.fail({ method: "SandboxCreateV2", count: 1, grpcCode: 8, retryAfterSeconds: 30 });
    const error = await rejection(client.startRunner(spec(appId, imageId, { name: "second" })));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ grpcCode: 8, retryAfterSeconds: 30 });
    expect(await emulator.calls("SandboxCreateV2")).toHaveLength(3);
  });

  it("ALREADY_EXISTS with no running sandbox to match is retryable, not a success", async () => {
    const { client, emulator, appId, imageId } = await ready("exists-unresolved");
    await emulator.fail({ method: "SandboxCreateV2", count: 1, grpcCode: 6, grpcMessage: "exists" });
    const error = await rejection(client.startRunner(spec(appId, imageId)));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ reason: "already_exists_unresolved" });
  });
});

describe("malformed answers end in a typed error naming the method", () => {
  const cases: Array<{
    name: string;
    rule: Record<string, unknown>;
    kind: typeof RetryableError | typeof PermanentError;
    reason: string;
    grpcCode: number;
  }> = [
    {
      name: "HTML 502 page",
      rule: { httpStatus: 502, contentType: "text/html", body: "<html><body>502 Bad Gateway</body></html>" },
      kind: RetryableError,
      reason: "unavailable",
      grpcCode: 14,
    },
    {
      name: "HTML page with 200",
      rule: { httpStatus: 200, contentType: "text/html", body: "<html>sign in</html>" },
      kind: PermanentError,
      reason: "not_grpc",
      grpcCode: 2,
    },
    {
      name: "empty 200",
      rule: { httpStatus: 200, contentType: "application/grpc", body: "" },
      kind: RetryableError,
      reason: "empty_response",
      grpcCode: 2,
    },
    {
      name: "garbage bytes",
      rule: {
        httpStatus: 200,
        contentType: "application/grpc",
        bodyBase64: b64(0x47, 0x41, 0x52, 0x42, 0x41, 0x47, 0x45),
      },
      kind: PermanentError,
      reason: "bad_frame",
      grpcCode: 13,
    },
    {
      name: "frame length past the body",
      rule: { httpStatus: 200, contentType: "application/grpc", bodyBase64: b64(0, 0, 0, 1, 0, 0x0a, 0x01) },
      kind: RetryableError,
      reason: "truncated_frame",
      grpcCode: 13,
    },
    {
      name: "compressed flag",
      rule: { httpStatus: 200, contentType: "application/grpc", bodyBase64: b64(1, 0, 0, 0, 2, 0x0a, 0x00) },
      kind: PermanentError,
      reason: "compressed_frame",
      grpcCode: 12,
    },
    {
      name: "undecodable protobuf",
      rule: { httpStatus: 200, contentType: "application/grpc", bodyBase64: b64(0, 0, 0, 0, 2, 0x0a, 0x05) },
      kind: PermanentError,
      reason: "bad_response",
      grpcCode: 13,
    },
    {
      name: "a success without the id",
      rule: { httpStatus: 200, contentType: "application/grpc", bodyBase64: b64(0, 0, 0, 0, 0) },
      kind: PermanentError,
      reason: "bad_response",
      grpcCode: 13,
    },
  ];
  for (const { name, rule, kind, reason, grpcCode } of cases) {
    it(name, async () => {
      const { client, emulator } = harness(`malformed-${name.replace(/\W+/g, "-")}`, {
        retry: { attempts: 2, baseDelayMs: 1 },
      });
      await emulator.fail({ method: "AppGetOrCreate", count: 5, ...rule });
      const error = await rejection(client.ensureApp("actions-on-modal"));
      expect(error).toBeInstanceOf(kind);
      expect(error).toMatchObject({ reason, grpcCode, operation: "AppGetOrCreate", service: "modal" });
      expect(String(error)).toContain("AppGetOrCreate");
      // Retryable answers were retried (2 attempts), permanent ones were not.
      expect(await emulator.calls("AppGetOrCreate")).toHaveLength(kind === RetryableError ? 2 : 1);
    });
  }

  it("a trailers-only error carries the server's message, percent-decoded", async () => {
    const { client, emulator } = harness("trailers-only");
    await emulator.fail({
      method: "AppGetOrCreate",
      count: 1,
      grpcCode: 9,
      grpcMessage: "Workspace is over its limit: 100% used",
    });
    const error = await rejection(client.ensureApp("actions-on-modal"));
    expect(error).toMatchObject({ grpcCode: 9, reason: "failed_precondition", status: 200 });
    expect(String(error)).toContain("Workspace is over its limit: 100% used");
  });
});

describe("timeouts", () => {
  it("a call that outlives its deadline is retried, then surfaces as a retryable DEADLINE_EXCEEDED", async () => {
    const { client, emulator, appId } = await ready("timeout", {
      timeoutMs: 100,
      retry: { attempts: 2, baseDelayMs: 1 },
    });
    await emulator.delay("SandboxListV2", 400, 2);
    const started = Date.now();
    const error = await rejection(client.listRunners(appId, {}));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ reason: "timeout", grpcCode: 4, operation: "SandboxListV2" });
    expect(Date.now() - started).toBeLessThan(2000);
    const attempts = await emulator.calls("SandboxListV2");
    expect(attempts).toHaveLength(2);
    expect(attempts[0]?.headers["x-idempotency-key"]).toBe(attempts[1]?.headers["x-idempotency-key"]);
  });
});

describe("authentication", () => {
  it("a wrong token is a permanent error naming the variables, never their values, after one call", async () => {
    const { client, emulator } = harness("auth-wrong", {
      tokenId: "ak-wrongtokenid0001",
      tokenSecret: "as-wrongsecret0001",
    });
    await emulator.credentials(TOKEN_ID, TOKEN_SECRET);
    const error = await rejection(client.ensureApp("actions-on-modal"));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ grpcCode: 16, reason: "unauthenticated", operation: "AuthTokenGet" });
    const text = `${String(error)} ${error instanceof UpstreamError ? JSON.stringify(error) : ""}`;
    expect(text).toContain("MODAL_TOKEN_ID / MODAL_TOKEN_SECRET");
    expect(text).not.toContain("ak-wrongtokenid0001");
    expect(text).not.toContain("as-wrongsecret0001");
    expect((await emulator.calls()).map((call) => call.method)).toEqual(["AuthTokenGet"]);
  });

  it("authenticate() proves the token pair with one AuthTokenGet, and keeps the token it got", async () => {
    const { client, emulator } = harness("auth-only");
    await client.authenticate();
    await client.authenticate();
    await client.ensureApp("a");
    expect((await emulator.calls()).map((call) => call.method)).toEqual(["AuthTokenGet", "AppGetOrCreate"]);
    const wrong = harness("auth-only-wrong", { tokenId: "ak-wrongtokenid0002" });
    await wrong.emulator.credentials(TOKEN_ID, TOKEN_SECRET);
    expect(await rejection(wrong.client.authenticate())).toMatchObject({
      grpcCode: 16,
      operation: "AuthTokenGet",
    });
  });

  it("caches the auth token until shortly before its exp, then fetches a new one", async () => {
    let clock = Date.now();
    const { client, emulator } = harness("auth-cache", { now: () => clock });
    await client.ensureApp("a");
    await client.ensureApp("b");
    expect((await emulator.calls("AuthTokenGet")).length).toBe(1);
    clock += 3600_000 - 30_000; // 30 s before the emulator's one-hour exp: inside the refresh margin
    await client.ensureApp("c");
    expect((await emulator.calls("AuthTokenGet")).length).toBe(2);
  });

  it("a rejected auth token is replaced once, transparently", async () => {
    const { client, emulator } = harness("auth-rejected");
    await client.ensureApp("a");
    await emulator.fail({ method: "AppGetOrCreate", count: 1, grpcCode: 16, grpcMessage: "token expired" });
    await client.ensureApp("b");
    expect((await emulator.calls()).map((call) => [call.method, call.grpcCode])).toEqual([
      ["AuthTokenGet", 0],
      ["AppGetOrCreate", 0],
      ["AppGetOrCreate", 16],
      ["AuthTokenGet", 0],
      ["AppGetOrCreate", 0],
    ]);
  });

  it("an expired token is refused by Modal; one fresh token is tried, then the error is permanent", async () => {
    const { client, emulator } = harness("auth-expired");
    await emulator.settings({ tokenLifetimeSeconds: 0 });
    const error = await rejection(client.ensureApp("a"));
    expect(error).toMatchObject({ grpcCode: 16, operation: "AppGetOrCreate" });
    expect((await emulator.calls()).map((call) => [call.method, call.grpcCode])).toEqual([
      ["AuthTokenGet", 0],
      ["AppGetOrCreate", 16],
      ["AuthTokenGet", 0],
      ["AppGetOrCreate", 16],
    ]);
  });
});

describe("secrets stay out of errors and logs", () => {
  it("a server message echoing the JIT config or the token is redacted", async () => {
    const { client, emulator, appId, imageId, logs } = await ready("redact");
    await emulator.fail({
      method: "SandboxCreateV2",
      count: 1,
      grpcCode: 3,
      grpcMessage: `invalid env value ${JIT} for token ${TOKEN_SECRET}`,
    });
    const error = await rejection(client.startRunner(spec(appId, imageId)));
    expect(String(error)).toContain("[redacted]");
    expect(String(error)).not.toContain(JIT);
    expect(String(error)).not.toContain(TOKEN_SECRET);
    await emulator.fail({ method: "SandboxCreateV2", count: 1, grpcCode: 14, grpcMessage: `retry ${JIT}` });
    await client.startRunner(spec(appId, imageId, { name: "second" }));
    const logged = logs.map((entry) => entry.line).join("\n");
    expect(logged).toContain("SandboxCreateV2");
    expect(logged).not.toContain(JIT);
    expect(logged).not.toContain(TOKEN_SECRET);
  });
});
