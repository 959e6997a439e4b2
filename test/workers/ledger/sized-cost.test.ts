/**
 * The status page's Modal cost estimate prices what each sandbox was asked for: a job's `modal-*` labels (its
 * size is recorded in the ledger when its sandbox is requested), the configured default for rows written before
 * sizes were recorded. Ledgers are driven through their real API; the expected figures are worked out here from
 * Modal's list prices (README), not from the code under test.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.ts";
import { costSection } from "../../../src/http/status-page/overview.ts";
import { sizeJob } from "../../../src/jobs/sizing.ts";
import { ledgerFor } from "../../../src/ledger/job-ledger.ts";
import { DAY_MS, dayOf } from "../../../src/ledger/retention.ts";
import { MIGRATIONS, migrate } from "../../../src/ledger/schema.ts";
import { type SandboxSize, sandboxSizeOf } from "../../../src/ledger/usage.ts";
import { costOf, estimatedJobUsd } from "../../../src/status/report.ts";
import { claimOf, queuedJob } from "../../support/ledger-seed.ts";

// Modal's list prices as of 2026-06 (the defaults of MODAL_PRICE_*), USD per second.
const CPU = 0.0000393;
const GIB = 0.00000222;
const L4 = 0.000222;
const H100 = 0.001097;
/** The Worker's default size in these tests: 2 cores, 4 GiB, no GPU. */
const DEFAULT_PER_SECOND = 2 * CPU + 4 * GIB;

/**
 * An hour into tomorrow (UTC): every time of a test then falls on one day, and none is in the past, where the
 * ledger's own alarm (on the real clock) would take its jobs for lost.
 */
const T = (Math.floor(Date.now() / DAY_MS) + 1) * DAY_MS + 60 * 60 * 1000;
const owner = () => `sized-${crypto.randomUUID().slice(0, 8)}`;

function configured() {
  const config = loadConfig(env);
  if (!config.dispatch.ok || !config.operator.ok)
    throw new Error("the test Worker's configuration must parse");
  return {
    sizing: config.dispatch.value.runner.sizing,
    defaultSize: sandboxSizeOf(config.dispatch.value.runner),
    prices: config.operator.value.prices,
  };
}

type Ledger = ReturnType<typeof ledgerFor>;

/** A job of `labels` claimed at `at`, its sandbox requested with `size` then; returns the runner's name. */
async function start(stub: Ledger, login: string, labels: string[], size: SandboxSize, at: number) {
  const job = { ...queuedJob(login), labels };
  const claim = await stub.claim(claimOf(job, at));
  if (claim.outcome !== "dispatch") throw new Error(`expected a dispatch, got ${claim.outcome}`);
  await stub.recordStarted({
    jobId: job.id,
    runnerName: claim.runnerName,
    runnerId: 1,
    sandboxId: `sb-${job.id}`,
    jitIssuedAt: at,
    sandboxCreatedAt: at,
    size,
    now: at,
  });
  return { job, runnerName: claim.runnerName };
}

/** The job completes on its runner at `at`, and the runner is gone then (deregistered and terminated). */
async function finish(stub: Ledger, started: Awaited<ReturnType<typeof start>>, at: number) {
  await stub.recordLifecycle({
    job: { ...started.job, runnerName: started.runnerName },
    kind: "job.completed",
    receivedAt: at,
    now: at,
  });
  await stub.runnerRemoved(started.runnerName, at);
}

describe("the cost estimate of sized jobs", () => {
  it("prices a job sized by its labels at its own size, in the day's total and in its row", async () => {
    const { sizing, defaultSize, prices } = configured();
    const login = owner();
    const stub = ledgerFor(env.LEDGER, login);
    const labels = ["self-hosted", "modal", "modal-cpu-16", "modal-mem-64g", "modal-gpu-l4"];
    // As the consumer sizes it (src/dispatch/dispatch-job.ts).
    const sized = sizeJob(labels, sizing);
    if (!sized.ok) throw new Error(`the test Worker refuses ${labels.join(", ")}`);
    const started = await start(stub, login, labels, sandboxSizeOf(sized.size), T);
    const end = T + 600_000;
    await finish(stub, started, end);

    const record = await stub.getJob(started.job.id);
    expect(record?.size).toEqual({ cpu: 16, memoryMiB: 65536, gpu: { type: "L4", count: 1 } });
    const expected = 600 * (16 * CPU + 64 * GIB + L4);
    const cost = costOf([await stub.summary(end)], defaultSize, prices, dayOf(end));
    expect(cost.today).toBeCloseTo(expected, 9);
    expect(cost.days.find((day) => day.day === dayOf(end))).toMatchObject({ jobs: 1, sandboxSeconds: 600 });
    expect(record === null ? null : estimatedJobUsd(record, end, cost)).toBeCloseTo(expected, 9);
    // The configured size's figure stays what it was.
    expect(cost.perSandboxSecond).toBeCloseTo(DEFAULT_PER_SECOND, 12);
  });

  it("sums GPU-seconds per type (GPUs × seconds), prices each type at its own price, and names a type without one", async () => {
    const { defaultSize, prices } = configured();
    const login = owner();
    const stub = ledgerFor(env.LEDGER, login);
    const runs: [SandboxSize, number][] = [
      [{ cpu: 4, memoryMiB: 16384, gpu: { type: "L4", count: 1 } }, 600],
      [{ cpu: 4, memoryMiB: 16384, gpu: { type: "L4", count: 2 } }, 300],
      [{ cpu: 8, memoryMiB: 32768, gpu: { type: "H100", count: 2 } }, 300],
      [{ cpu: 1, memoryMiB: 1024, gpu: { type: "RTX-PRO-6000", count: 1 } }, 100],
    ];
    for (const [size, seconds] of runs) {
      await finish(stub, await start(stub, login, ["self-hosted", "modal"], size, T), T + seconds * 1000);
    }
    const end = T + 600_000;
    const summary = await stub.summary(end);
    expect(summary.daily.find((day) => day.day === dayOf(end))?.gpuSeconds).toEqual({
      L4: 600 + 2 * 300,
      H100: 2 * 300,
      "RTX-PRO-6000": 100,
    });
    const cost = costOf([summary], defaultSize, prices, dayOf(end));
    const coreSeconds = 4 * 600 + 4 * 300 + 8 * 300 + 1 * 100;
    const gibSeconds = 16 * 600 + 16 * 300 + 32 * 300 + 1 * 100;
    expect(cost.today).toBeCloseTo(coreSeconds * CPU + gibSeconds * GIB + 1200 * L4 + 600 * H100, 9);
    expect(cost.unpriced).toEqual([{ type: "RTX-PRO-6000", gpuSeconds: 100 }]);
    // The page says what it left out.
    const section = String(await costSection(cost));
    expect(/<p data-unpriced-gpu="RTX-PRO-6000">[\s\S]*?<\/p>/.exec(section)?.[0]).toMatch(
      /Leaves out 100.0 s\s+of RTX-PRO-6000 GPU time/,
    );
    expect(section).not.toContain('data-unpriced-gpu="L4"');
  });

  it("MODAL_PRICE_GPU_SECOND prices SANDBOX_GPU's type; other types keep Modal's list price", () => {
    const config = loadConfig({ ...env, SANDBOX_GPU: "H100:2", MODAL_PRICE_GPU_SECOND: "0.002" });
    if (!config.operator.ok) throw new Error("the prices must parse");
    const { prices } = config.operator.value;
    expect(prices.gpuSecond).toBeCloseTo(0.004, 12);
    expect(prices.gpuSecondByType.H100).toBe(0.002);
    expect(prices.gpuSecondByType.L4).toBe(L4);
  });
});

describe("a ledger from before sizes were recorded", () => {
  it("takes a started sandbox without a size (a consumer of the version before, during a deploy): priced at the default", async () => {
    const { defaultSize, prices } = configured();
    const login = owner();
    const stub = ledgerFor(env.LEDGER, login);
    const job = queuedJob(login);
    const claim = await stub.claim(claimOf(job, T));
    if (claim.outcome !== "dispatch") throw new Error(`expected a dispatch, got ${claim.outcome}`);
    await stub.recordStarted({
      jobId: job.id,
      runnerName: claim.runnerName,
      runnerId: 1,
      sandboxId: `sb-${job.id}`,
      jitIssuedAt: T,
      sandboxCreatedAt: T,
      now: T,
    });
    const now = T + 600_000;
    const summary = await stub.summary(now);
    expect(summary.inFlight.find((record) => record.jobId === job.id)?.size).toBeNull();
    expect(summary.runners.find((runner) => runner.runnerName === claim.runnerName)?.size).toBeNull();
    expect(costOf([summary], defaultSize, prices, dayOf(now)).today).toBeCloseTo(600 * DEFAULT_PER_SECOND, 9);
  });

  it("migrates: its days and its runners keep their seconds, priced at the default size beside sized ones", async () => {
    const { sizing, defaultSize, prices } = configured();
    const login = owner();
    const stub = ledgerFor(env.LEDGER, login);
    const yesterday = dayOf(T - DAY_MS);
    const firstSized = MIGRATIONS.findIndex((statement) => statement.includes("sandbox_cpu"));
    expect(firstSized).toBeGreaterThan(0);
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      // The database as the version before sizes left it: a day's aggregate and a runner still live.
      for (const table of ["jobs", "runners", "daily", "cache", "meta", "schema_version"]) {
        sql.exec(`DROP TABLE ${table}`);
      }
      sql.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
      for (const statement of MIGRATIONS.slice(0, firstSized)) sql.exec(statement);
      sql.exec("INSERT INTO schema_version (version) VALUES (?)", firstSized);
      sql.exec(
        "INSERT INTO daily (day, finished, runners, sandbox_seconds) VALUES (?, 1, 1, 600)",
        yesterday,
      );
      sql.exec(
        `INSERT INTO runners (runner_name, job_id, attempt, repository, labels, reason, state, claimed_at,
           requested_at, updated_at)
         VALUES ('modal-1-1', 1, 1, ?, '[]', 'first dispatch', 'live', ?, ?, ?)`,
        `${login}/api`,
        T - 300_000,
        T - 300_000,
        T - 300_000,
      );
      // What the object's constructor does on its next start.
      migrate(sql);
    });
    // A sized job after the migration, on the same day as the old runner.
    const labels = ["self-hosted", "modal", "modal-cpu-8"];
    const sized = sizeJob(labels, sizing);
    if (!sized.ok) throw new Error("the test Worker refuses modal-cpu-8");
    await finish(stub, await start(stub, login, labels, sandboxSizeOf(sized.size), T), T + 600_000);

    const now = T + 600_000;
    const summary = await stub.summary(now);
    expect(summary.runners.find((runner) => runner.runnerName === "modal-1-1")?.size).toBeNull();
    const cost = costOf([summary], defaultSize, prices, dayOf(now));
    expect(cost.days.find((day) => day.day === yesterday)?.usd).toBeCloseTo(600 * DEFAULT_PER_SECOND, 9);
    // The old runner, live for 900 s so far, at the default size; the sized one at 8 cores and 4 GiB for 600 s.
    const sizedUsd = 600 * (8 * CPU + 4 * GIB);
    const oldUsd = 900 * DEFAULT_PER_SECOND;
    expect(cost.today).toBeCloseTo(sizedUsd + oldUsd, 9);
  });
});
