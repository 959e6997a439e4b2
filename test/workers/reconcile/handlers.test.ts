/**
 * The Worker's own entry points for the reconciler, driven as Cloudflare would call them rather than by calling
 * their work: the `scheduled` export (the Cron Trigger) and a ledger's Durable Object alarm. Runs in the operator
 * project, whose Worker and emulator namespace no other reconciler test shares: the cron's sweep lists every
 * sandbox of the namespace's Modal app.
 */
import {
  createExecutionContext,
  createScheduledController,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import worker from "../../../src/index.ts";
import { modalEmulator } from "../../emulators/modal/control-client.ts";
import { dispatched, freshRepository, ledgerOf, registration, sandboxOf } from "../../support/lifecycle.ts";

const untagged = (tags: unknown) => tags === undefined || (Array.isArray(tags) && tags.length === 0);

async function cronTick(at: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("the scheduled handler", () => {
  it("runs the cron's sweep of Modal's sandboxes once per period, however often the trigger fires", async () => {
    // The sweep lists the whole app (no tags, first page); a ledger's cycle lists by tags.
    const lists = async () =>
      (await modalEmulator(inject("modalEmulatorUrl"), inject("workerNamespace")).calls()).filter(
        (call) =>
          call.method.startsWith("SandboxList") &&
          untagged(call.request?.tags) &&
          call.request?.before_timestamp === undefined,
      ).length;
    const before = await lists();
    await cronTick(Date.now());
    const afterFirst = await lists();
    expect(afterFirst).toBeGreaterThan(before);
    await cronTick(Date.now());
    expect(await lists()).toBe(afterFirst);
  });
});

describe("a ledger's alarm", () => {
  it("is set for the new job's deadline, runs the owner's cycle, and sets itself again for what is still ahead", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    const ledger = ledgerOf(repository);
    const alarmAt = () => runInDurableObject(ledger, (_instance, state) => state.storage.getAlarm());
    const first = await alarmAt();
    expect(first).not.toBeNull();
    // No deadline is due yet: the cycle changes nothing, and the alarm stays set for the job's deadline.
    expect(await runDurableObjectAlarm(ledger)).toBe(true);
    expect(await registration(job.runnerName)).toBeDefined();
    expect((await sandboxOf(job.runnerName))?.running).toBe(true);
    expect(await alarmAt()).toBeGreaterThan(Date.now());
  });
});
