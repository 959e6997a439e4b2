/**
 * Bursts against GitHub's secondary limit, with time driven by hand: the consumer's clock, the emulator's clock
 * (its rolling window, stopped at the test's time), and the ledger's due messages (`releaseDue`, what its alarm
 * would send). Minutes of GitHub's time pass in seconds. GitHub's side only: run with the direct adapter alone
 * (the launcher would refuse requests signed an hour ahead of its clock).
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { JobMessage } from "../../../src/jobs/message.ts";
import { ledgerFor } from "../../../src/ledger/job-ledger.ts";
import { generateAppKeyPair } from "../../emulators/github/app-keys.ts";
import { githubEmulator } from "../../emulators/github/control-client.ts";
import { queuedMessage, runMessages } from "../../support/lifecycle.ts";
import { sandboxBackend } from "../../support/sandbox-backend.ts";
import { withVars } from "../../support/vars.ts";

const WINDOW_MS = 60_000;

function setup(name: string) {
  const namespace = `${name}-${crypto.randomUUID().slice(0, 8)}`;
  return {
    namespace,
    github: githubEmulator(inject("githubEmulatorUrl"), namespace),
    modal: sandboxBackend(namespace),
  };
}

/**
 * Runs `messages` to completion at virtual time: everything ready at `t` goes through the consumer, then time moves
 * to the next due message. Returns the time the last job was started and how many messages the queue would retry.
 */
async function simulate(options: {
  messages: JobMessage[];
  workerEnv: Env;
  owners: string[];
  github: ReturnType<typeof githubEmulator>;
  start: number;
  until: number;
}) {
  let t = options.start;
  let pending = options.messages.map((body) => ({ body, at: t }));
  let retried = 0;
  const ledgers = options.owners.map((owner) => ledgerFor(env.LEDGER, owner));
  while (t <= options.until) {
    await options.github.fixClock(t);
    const ready = pending.filter((item) => item.at <= t);
    pending = pending.filter((item) => item.at > t);
    for (let index = 0; index < ready.length; index += 10) {
      const chunk = ready.slice(index, index + 10).map((item) => item.body);
      const now = t;
      retried += (await runMessages(chunk, { env: options.workerEnv, now: () => now })).retryMessages.length;
    }
    for (const ledger of ledgers) {
      for (const due of await ledger.releaseDue(t))
        pending.push({ body: due.body, at: t + (due.delaySeconds ?? 0) * 1000 });
    }
    const waiting = (
      await Promise.all(ledgers.map((ledger) => ledger.listJobs(["queued", "dispatching"], 5000)))
    ).flat();
    if (pending.length === 0 && waiting.length === 0) break;
    const next = Math.min(
      ...pending.map((item) => item.at),
      ...waiting.map((job) => job.wakeAt ?? Number.POSITIVE_INFINITY),
    );
    t = Number.isFinite(next) ? Math.max(t + 1, next) : t + 1000;
  }
  return { end: t, retried };
}

describe("a burst against GitHub's secondary limit", () => {
  it("300 jobs, 80 registrations a minute: no call into an announced limit, no duplicate, none dead-lettered", async () => {
    const { namespace, github, modal } = setup("burst");
    await github.seed({ secondaryRateLimit: { limit: 80, windowSeconds: 60, retryAfterSeconds: 60 } });
    // Paced at GitHub's own limit, so the limit is reached and must be honoured.
    const workerEnv = withVars({
      GITHUB_API_URL: github.url,
      ...modal.vars,
      MAX_RUNNERS_PER_OWNER: "unlimited",
      JIT_RATE_PER_HOUR: "4800",
      JIT_BURST: "80",
    });
    const repository = `${namespace}/repo`;
    const messages = Array.from({ length: 300 }, () => queuedMessage(repository));
    // An hour ahead of the real clock: the ledger's own alarm (which runs on the real one) never finds anything due
    // while the test drives time, so nothing but the test sends the waiting jobs.
    const start = Date.now() + 60 * WINDOW_MS;
    const { end, retried } = await simulate({
      messages,
      workerEnv,
      owners: [namespace],
      github,
      start,
      until: start + 15 * WINDOW_MS,
    });

    const ledger = ledgerFor(env.LEDGER, namespace);
    const started = (await ledger.listJobs(["started"], 1000)).length;
    expect(started).toBe(300);
    const names = (await modal.sandboxes()).map((sandbox) => sandbox.name);
    expect(new Set(names).size).toBe(300);
    expect(names).toHaveLength(300);
    expect(retried).toBe(0);
    const [usage] = await github.rateLimits();
    expect(usage?.duringAnnouncedLimit).toBe(0);
    // At most one refusal (the call that found the limit, or a probe) per window.
    const windows = Math.ceil((end - start) / WINDOW_MS) + 1;
    expect(usage?.secondaryRefusals ?? 0).toBeLessThanOrEqual(windows);
    expect(end - start).toBeLessThanOrEqual((Math.ceil(300 / 80) + 1) * WINDOW_MS);
  }, 180_000);

  it("two installations do not wait on each other's limit", async () => {
    const { namespace, github, modal } = setup("two-installations");
    const keys = await generateAppKeyPair();
    await github.seed({
      apps: [{ id: 4242, publicKey: keys.publicKeyPem }],
      installations: [
        { id: 11, appId: 4242, account: `${namespace}-a` },
        { id: 22, appId: 4242, account: `${namespace}-b` },
      ],
    });
    const workerEnv = withVars({
      GITHUB_API_URL: github.url,
      GITHUB_TOKEN: "",
      GITHUB_APP_ID: "4242",
      GITHUB_APP_PRIVATE_KEY: keys.pkcs1,
      ...modal.vars,
      MAX_RUNNERS_PER_OWNER: "unlimited",
    });
    const forOwner = (owner: string, installationId: number) => {
      const message = queuedMessage(`${owner}/repo`);
      return { ...message, job: { ...message.job, installationId } };
    };
    const jit = "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig";
    // GitHub tells installation 11 to wait a minute.
    await github.fail({
      route: jit,
      pathIncludes: `/repos/${namespace}-a/`,
      status: 403,
      retryAfter: 60,
      body: {
        message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
      },
    });
    const now = Date.now();
    const refused = forOwner(`${namespace}-a`, 11);
    await runMessages([refused], { env: workerEnv, now: () => now });
    const next = forOwner(`${namespace}-a`, 11);
    const others = [forOwner(`${namespace}-b`, 22), forOwner(`${namespace}-b`, 22)];
    await runMessages([next, ...others], { env: workerEnv, now: () => now + 1000 });

    const ledgerA = ledgerFor(env.LEDGER, `${namespace}-a`);
    for (const job of [refused, next]) {
      const record = await ledgerA.getJob(job.job.id);
      expect(record).toMatchObject({ state: "queued", waitReason: "rate_limited" });
      expect(record?.wakeAt).toBeGreaterThanOrEqual(now + 60_000);
    }
    expect(await ledgerFor(env.LEDGER, `${namespace}-b`).listJobs(["started"])).toHaveLength(2);
    // Installation 11's second job made no call into the announced limit.
    const calls = (await github.requests()).filter((request) => request.route === jit);
    expect(calls.filter((request) => request.path.includes(`/repos/${namespace}-a/`))).toHaveLength(1);
    expect(calls.filter((request) => request.path.includes(`/repos/${namespace}-b/`))).toHaveLength(2);
  });
});
