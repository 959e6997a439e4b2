import { beforeAll, describe, expect, it } from "vitest";
import { PermanentError } from "../../../src/errors.ts";
import { type CheckRunRequest, canWriteChecks } from "../../../src/github/client.ts";
import { HEAD_SHA } from "../../emulators/github/runs.ts";
import { type AppKeys, client, emulatorFor, generateAppKeys, rejection } from "./helpers.ts";

const APP_ID = 271;
const INSTALLATION = 41;
let keys: AppKeys;

beforeAll(async () => {
  keys = await generateAppKeys();
});

const REFUSAL: CheckRunRequest = {
  owner: "octo-org",
  repo: "hello",
  name: "actions-on-modal",
  headSha: HEAD_SHA,
  externalId: "7001",
  title: "Sandbox size not allowed: modal-gpu-h100",
  summary: "The label `modal-gpu-h100` asks for an H100; add `H100` to `ALLOWED_GPUS` to allow it.",
  completedAt: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
};

async function seeded(label: string, permissions?: Record<string, "read" | "write">) {
  const emulator = emulatorFor(label);
  await emulator.seed({
    apps: [{ id: APP_ID, publicKey: keys.publicKey }],
    installations: [
      {
        id: INSTALLATION,
        appId: APP_ID,
        account: "octo-org",
        ...(permissions === undefined ? {} : { permissions }),
      },
    ],
    jobs: [{ id: 7001, repository: "octo-org/hello", runId: 9001, status: "queued" }],
  });
  const github = client(emulator, {
    auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs8, installationId: INSTALLATION },
  });
  return { emulator, github };
}

describe("createCheckRun", () => {
  it("posts a completed, failed check run that the emulator keeps", async () => {
    const { emulator, github } = await seeded("check-runs", { checks: "write", metadata: "read" });
    expect(canWriteChecks(await github.installationPermissions())).toBe(true);

    const created = await github.createCheckRun({ ...REFUSAL, text: "Allowed GPUs: T4, L4." });
    expect(created.id).toBeGreaterThan(0);
    expect(created.htmlUrl).toBe(`https://github.com/octo-org/hello/runs/${created.id}`);

    expect(await emulator.checkRuns()).toEqual([
      expect.objectContaining({
        id: created.id,
        owner: "octo-org",
        repo: "hello",
        appId: APP_ID,
        name: "actions-on-modal",
        headSha: HEAD_SHA,
        externalId: "7001",
        status: "completed",
        conclusion: "failure",
        completedAt: "2026-01-02T03:04:05Z",
        output: { title: REFUSAL.title, summary: REFUSAL.summary, text: "Allowed GPUs: T4, L4." },
      }),
    ]);
  });

  it("maps a 403 without Checks: write to a PermanentError that names the permission", async () => {
    const { emulator, github } = await seeded("check-runs-403", { actions: "read", metadata: "read" });
    expect(canWriteChecks(await github.installationPermissions())).toBe(false);

    const error = await rejection(github.createCheckRun(REFUSAL));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ reason: "forbidden", status: 403, operation: "createCheckRun" });
    expect(String(error)).toContain("Resource not accessible by integration");
    expect(String(error)).toContain('"Checks: read & write"');
    expect(await emulator.checkRuns()).toEqual([]);
  });

  it("maps GitHub's 422 for an unknown commit to a PermanentError", async () => {
    const { github } = await seeded("check-runs-422", { checks: "write" });
    const error = await rejection(github.createCheckRun({ ...REFUSAL, headSha: "a".repeat(40) }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ reason: "invalid_request", status: 422 });
    expect(String(error)).toContain("No commit found for SHA");
  });

  it.each([
    ["a short head SHA", { headSha: "f83a356" }],
    ["a head SHA that is not hex", { headSha: "z".repeat(40) }],
    ["an empty name", { name: " " }],
    ["an empty title", { title: "" }],
    ["an empty summary", { summary: "" }],
    ["an empty external id", { externalId: "" }],
    ["a summary over 65535 bytes", { summary: "x".repeat(65_536) }],
    // 21,846 three-byte characters: under 65535 characters, over 65535 bytes.
    ["a summary over 65535 bytes in fewer characters", { summary: "€".repeat(21_846) }],
    ["a text over 65535 bytes", { text: "x".repeat(65_536) }],
  ])("refuses %s before sending", async (_, change) => {
    const { emulator, github } = await seeded("check-runs-input", { checks: "write" });
    const error = await rejection(github.createCheckRun({ ...REFUSAL, ...change }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ reason: "invalid_input", operation: "createCheckRun" });
    expect((await emulator.requests()).map((request) => request.route)).not.toContain(
      "POST /repos/{owner}/{repo}/check-runs",
    );
  });

  it("takes a summary of exactly 65535 bytes", async () => {
    const { emulator, github } = await seeded("check-runs-max", { checks: "write" });
    await github.createCheckRun({ ...REFUSAL, summary: "x".repeat(65_535) });
    expect((await emulator.checkRuns())[0]?.output.summary).toHaveLength(65_535);
  });

  it("is not for PAT clients: app_auth_required, and no call", async () => {
    const emulator = emulatorFor("check-runs-pat");
    expect(canWriteChecks(undefined)).toBe(false);
    const error = await rejection(client(emulator).createCheckRun(REFUSAL));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ reason: "app_auth_required", operation: "createCheckRun" });
    expect(await emulator.requests()).toEqual([]);
  });
});

describe("canWriteChecks", () => {
  it("is true only for checks: write", () => {
    expect(canWriteChecks({ checks: "write" })).toBe(true);
    expect(canWriteChecks({ checks: "read" })).toBe(false);
    expect(canWriteChecks({})).toBe(false);
    expect(canWriteChecks(undefined)).toBe(false);
  });
});
