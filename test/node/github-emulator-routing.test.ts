/**
 * GitHub's routing of queued jobs to runners, as the emulator plays it when asked to: any idle runner whose
 * labels cover the job's takes the oldest such job, whichever job it was started for. And the `workflow_job`
 * deliveries each move sends to the hooks that see it, built from a real payload.
 */
import { verify } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import * as z from "zod/mini";
import type { GitHubEmulatorHandle } from "../emulators/github/control-client.ts";
import { appKeys, call, namespace, PAT, type Receiver, startReceiver } from "./support/github.ts";

const SECRET = "routing-secret";
const WorkflowJobPayload = z.object({
  action: z.string(),
  workflow_job: z.object({
    id: z.int(),
    status: z.string(),
    conclusion: z.nullable(z.string()),
    labels: z.array(z.string()),
    runner_id: z.nullable(z.int()),
    runner_name: z.nullable(z.string()),
  }),
  repository: z.object({
    full_name: z.string(),
    private: z.boolean(),
    owner: z.object({ login: z.string(), type: z.string() }),
  }),
  organization: z.optional(z.object({ login: z.string() })),
  installation: z.optional(z.object({ id: z.int() })),
  sender: z.optional(z.object({ login: z.string() })),
});

let receiver: Receiver;
let template: Record<string, unknown>;

beforeAll(async () => {
  receiver = await startReceiver();
  template = z
    .record(z.string(), z.unknown())
    .parse(JSON.parse(inject("webhookExamples")["workflow_job.queued"] ?? "{}"));
});
afterAll(() => receiver.close());

async function routed(label: string): Promise<GitHubEmulatorHandle> {
  const ns = namespace(label);
  await ns.settings({ assignJobs: true });
  return ns;
}

const jobOf = async (ns: GitHubEmulatorHandle, id: number) =>
  z
    .object({ status: z.string(), conclusion: z.nullable(z.string()), runner_name: z.nullable(z.string()) })
    .parse(
      (
        await call(ns.url, "GET", `/repos/octo-org/hello/actions/jobs/${id}`, {
          authorization: `token ${PAT}`,
        })
      ).body,
    );

describe("routing jobs to runners", () => {
  it("is off by default: a runner coming online takes nothing", async () => {
    const ns = namespace("routing-off");
    await ns.seed({
      jobs: [{ id: 1, repository: "octo-org/hello", labels: ["self-hosted"] }],
      runners: [{ repository: "octo-org/hello", name: "r1", labels: ["self-hosted"], status: "online" }],
    });
    expect((await jobOf(ns, 1)).status).toBe("queued");
    expect((await ns.runners())[0]?.busy).toBe(false);
  });

  it("gives the oldest fitting job to a runner that comes online, not the job it was started for", async () => {
    const ns = await routed("routing-oldest");
    await ns.seed({ jobs: [{ id: 1, repository: "octo-org/hello", labels: ["self-hosted", "modal"] }] });
    await ns.seed({ jobs: [{ id: 2, repository: "octo-org/hello", labels: ["self-hosted", "modal"] }] });
    // Registered for job 2 (say, with the name modal-2), it still takes job 1.
    await ns.seed({
      runners: [{ repository: "octo-org/hello", name: "modal-2", labels: ["self-hosted", "modal"] }],
    });
    const [runner] = await ns.runners();
    await ns.updateRunner(runner?.id ?? 0, { status: "online" });

    expect(await jobOf(ns, 1)).toMatchObject({ status: "in_progress", runner_name: "modal-2" });
    expect((await jobOf(ns, 2)).status).toBe("queued");
    expect((await ns.runners())[0]).toMatchObject({ busy: true, jobId: 1 });
  });

  it("matches labels without case and needs all of the job's labels among the runner's", async () => {
    const ns = await routed("routing-labels");
    await ns.seed({
      jobs: [
        { id: 1, repository: "octo-org/hello", labels: ["self-hosted", "GPU"] },
        { id: 2, repository: "octo-org/hello", labels: ["Self-Hosted", "modal"] },
      ],
      runners: [
        {
          repository: "octo-org/hello",
          name: "r",
          labels: ["self-hosted", "MODAL", "x64"],
          status: "online",
        },
      ],
    });
    expect((await jobOf(ns, 1)).status).toBe("queued");
    expect(await jobOf(ns, 2)).toMatchObject({ status: "in_progress", runner_name: "r" });
  });

  it("prefers repository runners to organization runners, and lets organization runners take the rest", async () => {
    const ns = await routed("routing-scope");
    await ns.seed({
      runners: [
        { organization: "octo-org", name: "org-1", labels: ["self-hosted"], status: "online" },
        { repository: "octo-org/hello", name: "repo-1", labels: ["self-hosted"], status: "online" },
        { repository: "octo-org/other", name: "elsewhere", labels: ["self-hosted"], status: "online" },
      ],
    });
    await ns.seed({ jobs: [{ id: 1, repository: "octo-org/hello", labels: ["self-hosted"] }] });
    await ns.seed({ jobs: [{ id: 2, repository: "octo-org/hello", labels: ["self-hosted"] }] });
    await ns.seed({ jobs: [{ id: 3, repository: "someone/hello", labels: ["self-hosted"] }] });
    expect((await jobOf(ns, 1)).runner_name).toBe("repo-1");
    expect((await jobOf(ns, 2)).runner_name).toBe("org-1");
    const third = await call(ns.url, "GET", "/repos/someone/hello/actions/jobs/3", {
      authorization: `token ${PAT}`,
    });
    expect(third.body).toMatchObject({ status: "queued" });
  });

  it("cancels a queued job without a runner, and a running one together with its runner", async () => {
    const ns = await routed("routing-cancel");
    await ns.seed({
      jobs: [
        { id: 1, repository: "octo-org/hello", labels: ["self-hosted"] },
        { id: 2, repository: "octo-org/hello", labels: ["gpu"] },
      ],
      runners: [{ repository: "octo-org/hello", name: "r", labels: ["self-hosted"], status: "online" }],
    });
    await ns.cancelJob(2);
    expect(await jobOf(ns, 2)).toMatchObject({
      status: "completed",
      conclusion: "cancelled",
      runner_name: null,
    });
    await ns.cancelJob(1);
    expect(await jobOf(ns, 1)).toMatchObject({
      status: "completed",
      conclusion: "cancelled",
      runner_name: "r",
    });
    expect(await ns.runners()).toEqual([]);
    await expect(ns.cancelJob(1)).rejects.toThrow(/409/);
    await expect(ns.cancelJob(99)).rejects.toThrow(/404/);
  });
});

describe("workflow_job deliveries", () => {
  it("announces queued, in_progress and completed to repository, organization and App hooks", async () => {
    const ns = await routed("routing-deliveries");
    const keys = appKeys();
    await ns.seed({
      apps: [{ id: 77, publicKey: keys.publicKey }],
      installations: [{ id: 70, appId: 77, account: "octo-org" }],
      repositoryMetadata: [{ repository: "octo-org/hello", id: 123_456, private: false }],
    });
    await ns.settings({ jobPayloadTemplate: template });
    const repoHook = await ns.createHook({
      kind: "repository",
      repository: "octo-org/hello",
      url: receiver.url,
      secret: SECRET,
    });
    const orgHook = await ns.createHook({ kind: "organization", organization: "octo-org" });
    const appHook = await ns.createHook({ kind: "app", appId: 77 });
    const before = receiver.received.length;

    await ns.seed({ jobs: [{ id: 5, repository: "octo-org/hello", labels: ["self-hosted", "modal"] }] });
    await ns.seed({
      runners: [{ repository: "octo-org/hello", name: "modal-5", labels: ["self-hosted", "modal"] }],
    });
    const [runner] = await ns.runners();
    await ns.updateRunner(runner?.id ?? 0, { status: "online" });
    await ns.updateRunner(runner?.id ?? 0, { complete: { conclusion: "success" } });

    const sent = receiver.received.slice(before);
    const payloads = sent.map((delivery) => WorkflowJobPayload.parse(JSON.parse(delivery.body)));
    expect(
      payloads.map((payload) => [
        payload.action,
        payload.workflow_job.status,
        payload.workflow_job.runner_name,
      ]),
    ).toEqual([
      ["queued", "queued", null],
      ["in_progress", "in_progress", "modal-5"],
      ["completed", "completed", "modal-5"],
    ]);
    for (const delivery of sent) {
      expect(await verify(SECRET, delivery.body, delivery.headers["x-hub-signature-256"] ?? "")).toBe(true);
      expect(delivery.headers["x-github-event"]).toBe("workflow_job");
    }
    expect(payloads[0]).toMatchObject({
      workflow_job: { id: 5, labels: ["self-hosted", "modal"], runner_id: null },
      repository: {
        full_name: "octo-org/hello",
        private: false,
        owner: { login: "octo-org", type: "Organization" },
      },
      organization: { login: "octo-org" },
    });
    // The template's other fields are kept; repository hooks carry no installation.
    expect(payloads[0]?.sender?.login).toBe(
      z.object({ sender: z.object({ login: z.string() }) }).parse(template).sender.login,
    );
    expect(payloads[0]?.installation).toBeUndefined();

    const appLog = await ns.hookDeliveries(appHook);
    expect(
      appLog.map((delivery) => [delivery.action, delivery.installationId, delivery.repositoryId]),
    ).toEqual([
      ["queued", 70, 123_456],
      ["in_progress", 70, 123_456],
      ["completed", 70, 123_456],
    ]);
    expect(WorkflowJobPayload.parse(appLog[0]?.payload).installation?.id).toBe(70);
    const repoLog = await ns.hookDeliveries(repoHook);
    expect(repoLog.map((delivery) => [delivery.statusCode, delivery.installationId])).toEqual([
      [200, null],
      [200, null],
      [200, null],
    ]);
    const orgLog = await ns.hookDeliveries(orgHook);
    // One event, one GUID, whichever hook it went to.
    expect(orgLog.map((delivery) => delivery.guid)).toEqual(appLog.map((delivery) => delivery.guid));
    expect(orgLog.map((delivery) => delivery.statusCode)).toEqual([502, 502, 502]);
  });

  it("announces a cancelled queued job as completed with no runner; a user's repository has no organization", async () => {
    const ns = namespace("routing-cancel-delivery");
    await ns.seed({ repositoryMetadata: [{ repository: "mona/hello", ownerType: "User" }] });
    const hookId = await ns.createHook({ kind: "repository", repository: "mona/hello" });
    await ns.seed({ jobs: [{ id: 8, repository: "mona/hello" }] });
    await ns.cancelJob(8);
    const log = await ns.hookDeliveries(hookId);
    expect(log.map((delivery) => delivery.action)).toEqual(["queued", "completed"]);
    const payload = WorkflowJobPayload.parse(log[1]?.payload);
    expect(payload.workflow_job).toMatchObject({
      status: "completed",
      conclusion: "cancelled",
      runner_id: null,
    });
    expect(payload.repository.owner.type).toBe("User");
    expect(payload.organization).toBeUndefined();
  });
});
