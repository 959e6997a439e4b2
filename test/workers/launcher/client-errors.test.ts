// The launcher client's failures, as they arrive over HTTP from the emulator, in workerd: which are worth a retry,
// which need an operator (and say what to check), and that no secret reaches an error or a log line.
import { describe, expect, it } from "vitest";
import { PermanentError, RetryableError, UpstreamError } from "../../../src/errors.ts";
import { harness, IMAGE, JIT, LAUNCHER_SECRET, PROXY_TOKEN_SECRET, rejection, spec } from "./harness.ts";

/** Every secret the client holds or carries. */
const SECRETS = [JIT, LAUNCHER_SECRET, PROXY_TOKEN_SECRET];

function expectNoSecrets(text: string) {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

async function startFailure(setup: ReturnType<typeof harness>) {
  const error = await rejection(setup.client.startRunner(spec()));
  if (!(error instanceof UpstreamError)) throw new Error(`not an UpstreamError: ${String(error)}`);
  expectNoSecrets(
    `${error.message}\n${String(error.stack)}\n${setup.logs.map((log) => log.line).join("\n")}`,
  );
  expect(error.service).toBe("launcher");
  expect(error.operation).toBe("start");
  return error;
}

describe("refusals that need an operator are permanent and say what to check", () => {
  it("Modal's proxy refusing a missing or wrong proxy token", async () => {
    const setup = harness("proxy-token", { proxyTokenId: "", proxyTokenSecret: "" });
    const missing = await startFailure(setup);
    expect(missing).toBeInstanceOf(PermanentError);
    expect(missing).toMatchObject({ status: 401, reason: "proxy_unauthorized" });
    expect(missing.message).toContain("MODAL_PROXY_TOKEN_ID / MODAL_PROXY_TOKEN_SECRET");

    const wrong = harness("proxy-token-wrong");
    await wrong.emulator.settings({ proxyTokenId: "wk-other", proxyTokenSecret: "ws-other" });
    expect(await startFailure(wrong)).toMatchObject({
      status: 401,
      reason: "proxy_unauthorized",
      retryable: false,
    });
    expect(await wrong.emulator.sandboxes()).toEqual([]);
  });

  it("a LAUNCHER_SECRET that differs from the launcher's", async () => {
    const setup = harness("bad-signature", { launcherSecret: "not-the-launcher-secret-000" });
    const error = await startFailure(setup);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ status: 401, reason: "bad_signature" });
    expect(error.message).toContain(
      "LAUNCHER_SECRET must equal LAUNCHER_SECRET in the launcher's Modal secret",
    );
    expect(error.message).not.toContain("not-the-launcher-secret-000");
  });

  it("a clock more than 300 s off", async () => {
    const setup = harness("stale", { now: () => Date.now() - 301_000 });
    expect(await startFailure(setup)).toMatchObject({
      status: 401,
      reason: "stale_timestamp",
      retryable: false,
    });
    // 300 s is still inside the window.
    const inside = harness("stale-edge", { now: () => Date.now() - 299_000 });
    await expect(inside.client.startRunner(spec())).resolves.toMatchObject({ alreadyStarted: false });
  });

  it("an image the launcher does not allow, at ensureImage and at start", async () => {
    const setup = harness("image-not-allowed");
    await setup.emulator.settings({ allowedImages: "registry.example.com/*" });
    const early = await rejection(setup.client.ensureImage("actions-on-modal", IMAGE));
    expect(early).toBeInstanceOf(PermanentError);
    expect(early).toMatchObject({ status: 403, reason: "image_not_allowed", operation: "image" });
    const error = await startFailure(setup);
    expect(error).toMatchObject({ status: 403, reason: "image_not_allowed" });
    expect(error.message).toContain("LAUNCHER_ALLOWED_IMAGES");
    expect(error.message).not.toContain(IMAGE);
  });

  it("a request the launcher finds invalid names the field, never its value", async () => {
    const setup = harness("invalid");
    const error = await rejection(setup.client.startRunner(spec({ tags: { leak: JIT } })));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ status: 400, reason: "invalid_request" });
    expect(String(error)).toContain("field env");
    expectNoSecrets(`${String(error)}\n${setup.logs.map((log) => log.line).join("\n")}`);
  });

  it("a launcher deployed without LAUNCHER_SECRET", async () => {
    const setup = harness("misconfigured");
    await setup.emulator.settings({ launcherSecret: "" });
    const error = await startFailure(setup);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ status: 500, reason: "launcher_misconfigured" });
  });

  it("Modal refusing the launcher: denied, rejected, an image that does not build", async () => {
    const setup = harness("modal-refusals");
    for (const reason of ["modal_denied", "modal_rejected", "image_build_failed"]) {
      await setup.emulator.fail({ route: "start", reason });
      const error = await startFailure(setup);
      expect(error).toBeInstanceOf(PermanentError);
      expect(error.reason).toBe(reason);
    }
  });

  it("something other than the launcher at the URL: an HTML page, a 404, a redirect", async () => {
    const setup = harness("wrong-url");
    await setup.emulator.fail([
      { route: "start", status: 200, contentType: "text/html", body: "<html>sign in</html>" },
      { route: "start", status: 404, contentType: "text/html" },
      { route: "start", status: 301, contentType: "text/html" },
      { route: "start", status: 418, contentType: "text/plain", body: "teapot" },
    ]);
    const answers = [];
    for (let index = 0; index < 4; index++) answers.push(await startFailure(setup));
    expect(answers.map((error) => [error.retryable, error.status, error.reason])).toEqual([
      [false, 200, "not_json"],
      [false, 404, "not_found"],
      [false, 301, "redirected"],
      [false, 418, "http_error"],
    ]);
    for (const error of answers) expect(error.message).toContain("MODAL_LAUNCHER_URL");
  });

  it("a 200 that is not the answer expected", async () => {
    const setup = harness("bad-answer");
    await setup.emulator.fail([
      { route: "start", status: 200, contentType: "application/json", body: "{not json" },
      { route: "start", status: 200, contentType: "application/json", body: '{"sandbox_id":""}' },
    ]);
    const garbled = await startFailure(setup);
    expect(garbled).toMatchObject({ reason: "bad_response", retryable: false });
    const incomplete = await startFailure(setup);
    expect(incomplete).toMatchObject({ reason: "bad_response", retryable: false });
    expect(incomplete.message).toContain("sandbox_id, already_started");
  });
});

describe("transient failures are retryable, with the launcher's requested delay", () => {
  it("Modal out of capacity (429) and unavailable (503)", async () => {
    const setup = harness("capacity");
    await setup.emulator.fail([
      { route: "start", reason: "modal_capacity" },
      { route: "start", reason: "modal_unavailable" },
      { route: "start", reason: "internal" },
    ]);
    const capacity = await startFailure(setup);
    expect(capacity).toBeInstanceOf(RetryableError);
    expect(capacity).toMatchObject({ status: 429, reason: "modal_capacity", retryAfterSeconds: 30 });
    expect(await startFailure(setup)).toMatchObject({
      status: 503,
      reason: "modal_unavailable",
      retryAfterSeconds: 5,
    });
    expect(await startFailure(setup)).toMatchObject({ status: 500, reason: "internal", retryable: true });
  });

  it("a name taken by a sandbox that has just ended (409)", async () => {
    const setup = harness("name-conflict");
    await setup.emulator.fail({ route: "start", reason: "name_conflict" });
    const error = await startFailure(setup);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ status: 409, reason: "name_conflict", retryAfterSeconds: 5 });
  });

  it("a gateway page (502) and a rate limit without the launcher's body", async () => {
    const setup = harness("gateway");
    await setup.emulator.fail([
      { route: "start", status: 502 },
      { route: "start", status: 429, contentType: "text/plain", retryAfter: 7 },
    ]);
    expect(await startFailure(setup)).toMatchObject({ status: 502, reason: "unavailable", retryable: true });
    expect(await startFailure(setup)).toMatchObject({
      status: 429,
      reason: "rate_limited",
      retryable: true,
      retryAfterSeconds: 7,
    });
  });

  it("a dropped connection and a launcher that does not answer in time", async () => {
    const setup = harness("network", { timeoutMs: 300 });
    await setup.emulator.fail([
      { route: "start", drop: true },
      { route: "start", delayMs: 1_000 },
    ]);
    expect(await startFailure(setup)).toMatchObject({ reason: "network", retryable: true });
    const slow = await startFailure(setup);
    expect(slow).toMatchObject({ reason: "timeout", retryable: true });
    expect(slow.message).toContain("300 ms");
  });
});

describe("logs", () => {
  it("every call is logged with its operation, and no log line carries a secret", async () => {
    const setup = harness("logs");
    const { client } = setup;
    const app = await client.ensureApp("actions-on-modal");
    const image = await client.ensureImage(app, IMAGE);
    const started = await client.startRunner(spec({ appId: app, imageId: image }));
    await client.startRunner(spec({ appId: app, imageId: image }));
    await client.listRunners(app, {});
    await client.terminate(started.sandboxId);
    await setup.emulator.fail({ route: "start", reason: "modal_capacity" });
    await rejection(client.startRunner(spec()));
    const lines = setup.logs.map((log) => JSON.parse(log.line));
    expect(lines.map((line) => [line.msg, line.operation])).toEqual([
      ["launcher call", "app"],
      ["launcher call", "image"],
      ["launcher call", "start"],
      ["launcher call", "start"],
      ["launcher call", "list"],
      ["launcher call", "terminate"],
      ["launcher call failed", "start"],
    ]);
    expect(lines[2]).toMatchObject({ runnerName: "aom-1-runner", status: 200 });
    expect(lines[6]).toMatchObject({ reason: "modal_capacity", status: 429 });
    expectNoSecrets(setup.logs.map((log) => log.line).join("\n"));
  });
});
