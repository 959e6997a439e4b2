/**
 * A refused job seen from GitHub: as an App with "Checks: write" the consumer posts one failed check run on the
 * job's commit naming the label and the variable that allows it; without the permission it posts nothing; either
 * way nothing is registered and the ledger holds the reason. The consumer runs on batches of its own, each test on
 * emulator namespaces of its own (the checks are read back from the GitHub emulator).
 */

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createQueueConsumer } from "../../../src/dispatch/consumer.ts";
import { toJobMessage } from "../../../src/jobs/message.ts";
import { WorkflowJobPayloadSchema } from "../../../src/jobs/workflow-job.ts";
import { ledgerFor } from "../../../src/ledger/job-ledger.ts";
import { type AppKeyPair, generateAppKeyPair } from "../../emulators/github/app-keys.ts";
import { githubEmulator } from "../../emulators/github/control-client.ts";
import { HEAD_SHA } from "../../emulators/github/runs.ts";
import { consumeBatch } from "../../support/queue-batch.ts";
import { sandboxBackend } from "../../support/sandbox-backend.ts";
import { withVars } from "../../support/vars.ts";
import { workflowJob } from "../../support/webhook.ts";

const APP_ID = 4242;
const REFUSED = ["self-hosted", "modal", "modal-gpu-h100"];

let keys: AppKeyPair;
beforeAll(async () => {
  keys = await generateAppKeyPair();
});

async function appSetup(name: string, permissions: Record<string, "read" | "write">) {
  const owner = `${name}-${crypto.randomUUID().slice(0, 8)}`;
  const repository = `${owner}/repo`;
  const github = githubEmulator(inject("githubEmulatorUrl"), owner);
  const modal = sandboxBackend(owner);
  const payload = WorkflowJobPayloadSchema.parse(
    workflowJob("queued", { repository, labels: REFUSED, headSha: HEAD_SHA }),
  );
  const message = toJobMessage(payload, "job.queued", crypto.randomUUID(), Date.now());
  await github.seed({
    apps: [{ id: APP_ID, publicKey: keys.publicKeyPem }],
    // The installation the delivery names (the example payload's), as GitHub's would be.
    installations: [{ id: message.job.installationId ?? 0, appId: APP_ID, account: owner, permissions }],
    jobs: [{ id: message.job.id, repository, runId: 5001, status: "queued", labels: REFUSED }],
  });
  const workerEnv = withVars({
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN: "",
    GITHUB_APP_ID: String(APP_ID),
    GITHUB_APP_PRIVATE_KEY: keys.pkcs1,
    ...modal.vars,
  });
  return { github, modal, message, workerEnv, repository };
}

function consume(message: unknown, workerEnv: Env) {
  return consumeBatch(createQueueConsumer({ logSink: () => {} }), [message], workerEnv);
}

async function expectNothingRegistered(setup: Awaited<ReturnType<typeof appSetup>>) {
  const { github, modal, message } = setup;
  const record = await ledgerFor(env.LEDGER, message.job.owner).getJob(message.job.id);
  expect(record).toMatchObject({ state: "failed", runnerName: null });
  expect(record?.lastError).toMatch(/^runs-on label modal-gpu-h100 refused: .*ALLOWED_GPUS/);
  expect(await github.runners()).toEqual([]);
  expect((await github.requests()).filter((request) => request.route?.includes("jitconfig"))).toEqual([]);
  expect(await modal.sandboxes()).toEqual([]);
}

describe("a refused job on GitHub", () => {
  it("as an App with Checks: write: one failed check run on the job's commit, naming label and variable", async () => {
    const setup = await appSetup("refused-checks", {
      actions: "read",
      administration: "write",
      checks: "write",
    });
    const result = await consume(setup.message, setup.workerEnv);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
    await expectNothingRegistered(setup);

    const [owner, repo] = setup.repository.split("/");
    const runs = await setup.github.checkRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      owner,
      repo,
      appId: APP_ID,
      headSha: HEAD_SHA,
      externalId: String(setup.message.job.id),
      status: "completed",
      conclusion: "failure",
      output: { title: "Runner refused: modal-gpu-h100" },
    });
    expect(runs[0]?.name.startsWith("actions-on-modal")).toBe(true);
    expect(runs[0]?.output.summary).toContain("ALLOWED_GPUS");
    expect(runs[0]?.output.text).toContain("`modal-gpu-h100`");

    // GitHub delivering the job again changes nothing: no second check run, still nothing registered.
    await consume(setup.message, setup.workerEnv);
    expect(await setup.github.checkRuns()).toHaveLength(1);
    await expectNothingRegistered(setup);
  });

  it("as an App without Checks: write: no check run, the ledger holds the reason", async () => {
    const setup = await appSetup("refused-nochecks", { actions: "read", administration: "write" });
    const result = await consume(setup.message, setup.workerEnv);
    expect(result.explicitAcks).toHaveLength(1);
    await expectNothingRegistered(setup);
    expect(await setup.github.checkRuns()).toEqual([]);
    const posts = (await setup.github.requests()).filter((request) => request.route?.includes("check-runs"));
    expect(posts).toEqual([]);
  });
});
