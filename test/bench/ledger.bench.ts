/**
 * `npm run bench:ledger`: what one claim costs as an owner's history grows — 1,000, 100,000 and 1,000,000
 * finished jobs (and their runners) written straight into a ledger's tables, then claims on top of them, timed
 * from the caller across the Durable Object's RPC boundary. workerd's clock ticks in whole milliseconds, so the
 * mean is taken over a run of claims in a row; p95 is per call. Beside it: an empty call (the RPC alone), the live-
 * runner count read without its index (what every claim paid before the index, over the whole history), and the
 * rows the claim's queries read. Runs in workerd (vitest-pool-workers), outside `npm test`.
 *
 * Figures only: the 2× target is printed, not asserted — timing belongs to benchmarks, not to tests.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { HOT_QUERIES } from "../../src/ledger/capacity.ts";
import { ledgerFor } from "../../src/ledger/job-ledger.ts";
import { DAY_MS } from "../../src/ledger/retention.ts";
import { claimOf, hotQueryRowsRead, queuedJob, seedHistory } from "../support/ledger-seed.ts";

const SIZES = [1_000, 100_000, 1_000_000];
const CLAIMS = 300;
const WARMUP = 30;
const SEED_CHUNK = 100_000;
// A cap the claims never reach, so every claim counts its live runners (the query that used to scan history).
const CAP = 100_000;

interface Figures {
  rows: number;
  seedSeconds: number;
  claim: Timing;
  empty: Timing;
  unindexed: Timing;
  rowsRead: Record<string, number>;
}

interface Timing {
  mean: number;
  p95: number;
}

async function timed(times: number, call: () => Promise<unknown>): Promise<Timing> {
  const samples: number[] = [];
  const start = performance.now();
  for (let index = 0; index < times; index++) {
    const before = performance.now();
    await call();
    samples.push(performance.now() - before);
  }
  const mean = (performance.now() - start) / times;
  samples.sort((a, b) => a - b);
  return { mean, p95: samples[Math.floor(0.95 * samples.length)] ?? Number.NaN };
}

async function measure(rows: number): Promise<Figures> {
  const login = `bench-${rows}-${crypto.randomUUID().slice(0, 6)}`;
  const stub = ledgerFor(env.LEDGER, login);
  const seedStart = performance.now();
  for (let from = 0; from < rows; from += SEED_CHUNK) {
    await seedHistory(stub, Math.min(SEED_CHUNK, rows - from), Date.now() - DAY_MS, { from });
  }
  const seedSeconds = (performance.now() - seedStart) / 1000;
  const claim = async () => {
    const result = await stub.claim(claimOf(queuedJob(login), Date.now(), CAP));
    expect(result.outcome).toBe("dispatch");
  };
  await timed(WARMUP, claim);
  const claims = await timed(CLAIMS, claim);
  const empty = await timed(CLAIMS, () => stub.getJob(0));
  const scan = HOT_QUERIES.liveRunners.replace("FROM runners", "FROM runners NOT INDEXED");
  const unindexed = await timed(20, () =>
    runInDurableObject(stub, (_instance, state) => state.storage.sql.exec(scan, 0).toArray()),
  );
  const rowsRead = await runInDurableObject(stub, (_instance, state) => hotQueryRowsRead(state.storage.sql));
  return { rows, seedSeconds, claim: claims, empty, unindexed, rowsRead };
}

it(
  "prints a claim's cost at 1k / 100k / 1M finished rows",
  async () => {
    const figures: Figures[] = [];
    for (const rows of SIZES) figures.push(await measure(rows));

    const ms = (value: number) => value.toFixed(3).padStart(9);
    const lines = [
      "",
      `bench:ledger — ${CLAIMS} claims per ledger (after ${WARMUP} warm-up), timed across the Durable Object's RPC`,
      "",
      `  ${"finished rows".padEnd(14)} ${"seeded (s)".padStart(10)} ${"claim mean".padStart(10)} ${"claim p95".padStart(9)} ${"empty mean".padStart(10)} ${"no index".padStart(9)}   (ms)`,
      ...figures.map(
        (f) =>
          `  ${f.rows.toLocaleString("en-US").padEnd(14)} ${f.seedSeconds.toFixed(1).padStart(10)} ${ms(f.claim.mean).padStart(10)} ${ms(f.claim.p95)} ${ms(f.empty.mean).padStart(10)} ${ms(f.unindexed.mean)}`,
      ),
      "",
      "  no index: the live-runner count read NOT INDEXED, one RPC each — what a claim paid before the index.",
      "",
      "  rows read by the claim's queries (the same at every size means no scan of history):",
      ...Object.keys(figures[0]?.rowsRead ?? {}).map(
        (name) =>
          `    ${name.padEnd(16)} ${figures.map((f) => String(f.rowsRead[name]).padStart(6)).join(" ")}`,
      ),
    ];
    const small = figures[0];
    const large = figures[figures.length - 1];
    if (small !== undefined && large !== undefined) {
      const ratio = large.claim.mean / small.claim.mean;
      lines.push(
        "",
        `  claim mean at ${large.rows.toLocaleString("en-US")} ÷ at ${small.rows.toLocaleString("en-US")}: ${ratio.toFixed(2)}× (target < 2×: ${ratio < 2 ? "met" : "NOT met"})`,
      );
    }
    console.log(lines.join("\n"));
  },
  30 * 60_000,
);
