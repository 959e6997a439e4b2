/**
 * For end-to-end tests through the Worker itself: its queue consumer calls the emulators' namespace of the test
 * project (vitest.config.ts), so tests share it and keep apart by repository and job id.
 */
import { env, exports } from "cloudflare:workers";
import { inject } from "vitest";
import { ledgerFor } from "../../src/ledger/job-ledger.ts";
import type { JobRecord } from "../../src/ledger/types.ts";
import { githubEmulator } from "../emulators/github/control-client.ts";
import type { JobOverrides } from "./payloads.ts";
import { sandboxBackend } from "./sandbox-backend.ts";
import { delivery, workflowJob } from "./webhook.ts";

export const github = () => githubEmulator(inject("githubEmulatorUrl"), inject("workerNamespace"));
/** The Modal side, through whichever adapter the project's Worker uses. */
export const sandboxes = () => sandboxBackend(inject("workerNamespace"));

let repoCounter = 0;
/** A repository of its own for each test, so emulator records and failure rules stay apart. */
export function uniqueRepository(): string {
  repoCounter += 1;
  return `e2e-${Date.now().toString(36)}/repo-${repoCounter}`;
}

/** Posts a signed `queued` delivery to the Worker and returns the job id and delivery id. */
export async function deliverQueued(overrides: JobOverrides & { deliveryId?: string } = {}) {
  const payload = workflowJob("queued", overrides);
  const jobId = Number(Reflect.get(Reflect.get(payload, "workflow_job") ?? {}, "id"));
  const request = await delivery(JSON.stringify(payload), {
    deliveryId: overrides.deliveryId ?? crypto.randomUUID(),
  });
  const response = await exports.default.fetch(request);
  if (response.status !== 202)
    throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
  return { jobId, deliveryId: request.headers.get("x-github-delivery") ?? "", payload };
}

export function ledgerRecord(owner: string, jobId: number): Promise<JobRecord | null> {
  return ledgerFor(env.LEDGER, owner).getJob(jobId);
}

/** Polls the ledger until the job reaches one of `states`. */
export async function waitForState(
  repository: string,
  jobId: number,
  states: readonly JobRecord["state"][],
  timeoutMs = 20_000,
): Promise<JobRecord> {
  const owner = repository.split("/")[0] ?? "";
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await ledgerRecord(owner, jobId);
    if (record !== null && states.includes(record.state)) return record;
    if (Date.now() > deadline) {
      throw new Error(`job ${jobId} did not reach ${states.join("/")}: ${JSON.stringify(record)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
