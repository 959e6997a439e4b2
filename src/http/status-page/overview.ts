/**
 * The parts of the status page that sum the deployment up: the headline figures (webhook → in progress first:
 * what users wait for), problems and warnings, the deep checks of the credentials, per-stage latency, the cost
 * estimate, and the configuration.
 */
import { html } from "hono/html";
import {
  type CostEstimate,
  type Latency,
  STAGES,
  type Stage,
  type StatusReport,
} from "../../status/report.ts";
import { clock, duration, plural, usd } from "./format.ts";
import type { Html } from "./layout.ts";

/** Pipeline order; `pickup` (the sum users feel) is shown first, on its own row. */
const STAGE_LABELS: Record<Stage, string> = {
  pickup: "webhook → in progress (what users wait for)",
  queue: "webhook → queue (consumer took it)",
  jit: "queue → JIT config issued",
  sandbox: "JIT → sandbox accepted by Modal",
  connect: "sandbox → in progress (runner booted and took the job)",
  run: "in progress → completed (the job itself)",
};
const STAGE_ORDER: readonly Stage[] = ["pickup", ...STAGES.filter((stage) => stage !== "pickup")];

export function issues(report: StatusReport): Html | string {
  const { problems, warnings } = report.config;
  if (problems.length === 0 && warnings.length === 0) return "";
  return html`<section aria-labelledby="issues"><h2 id="issues">Problems and warnings</h2>
  <ul class="issues">
    ${problems.map((problem) => html`<li class="problem"><strong>Problem:</strong> ${problem}</li>`)}
    ${warnings.map((warning) => html`<li class="warning"><strong>Warning:</strong> ${warning}</li>`)}
  </ul></section>`;
}

/** The deep checks (`/healthz?deep=1`): one row per check, a failed one with what to change. */
export function checksSection(report: StatusReport): Html {
  const checks = report.checks;
  if (checks === undefined) {
    return html`<section aria-labelledby="checks"><h2 id="checks">Checks</h2>
  <p class="muted">Not run yet: <a href="/healthz?deep=1">run them</a>.</p></section>`;
  }
  return html`<section aria-labelledby="checks"><h2 id="checks">Checks</h2>
  <p class="muted">${checks.ok ? "Every check passed" : "A check failed"}, as of ${clock(checks.checkedAt)}
    (run at most once a minute; <a href="/healthz?deep=1">JSON</a>).</p>
  <div class="scroll"><table id="checks-table"><thead><tr><th></th><th>check</th><th>what was seen</th><th>what to change</th></tr></thead>
  <tbody>${checks.checks.map(
    (check) => html`<tr data-check="${check.name}" class="${check.ok ? "ok" : "failed"}">
      <td>${check.ok ? html`<span class="state finished">ok</span>` : html`<span class="state failed">failed</span>`}</td>
      <td class="mono">${check.name}</td><td class="why">${check.detail}</td>
      <td class="why">${check.fix === undefined ? "" : html`<strong>${check.fix}</strong>`}</td></tr>`,
  )}</tbody></table></div></section>`;
}

export function tiles(report: StatusReport): Html {
  const pickup = report.latency.hour.pickup;
  const pickupDay = report.latency.day.pickup;
  const inFlight = report.owners.flatMap((owner) => owner.inFlight);
  const running = inFlight.filter((job) => job.state === "running").length;
  const maxRunners = report.owners[0]?.maxRunners;
  return html`<section class="tiles" aria-label="Summary">
  <div class="tile felt" id="felt-latency"><span>webhook → in progress, last hour</span>
    <span class="value"><span>p50 ${duration(pickup.p50)}</span> <span>p95 ${duration(pickup.p95)}</span></span>
    <span class="muted">${plural(pickup.count, "job")}; last day p50 ${duration(pickupDay.p50)} · p95 ${duration(pickupDay.p95)}</span></div>
  <div class="tile"><span>jobs in flight</span><span class="value" id="in-flight">${report.totals.inFlight}</span>
    <span class="muted">${running} running</span></div>
  <div class="tile"><span>waiting</span><span class="value" id="waiting-total">${report.totals.waiting}</span>
    <span class="muted">in the ledger, not on the queue</span></div>
  <div class="tile"><span>live runners</span><span class="value">${report.totals.liveRunners}</span>
    <span class="muted">cap ${maxRunners === undefined ? "—" : (maxRunners ?? "none")} per owner</span></div>
  <div class="tile"><span>failed, last 24 h</span><span class="value" id="failed-total">${report.totals.failedToday}</span>
    <span class="muted">see Recent failures</span></div>
  <div class="tile"><span>est. Modal cost today</span><span class="value">${usd(report.cost.today)}</span>
    <span class="muted">${usd(report.cost.perJob)} per job</span></div>
</section>`;
}

function stats(latency: Latency, stage: Stage): Html {
  const row = latency[stage];
  return html`<td class="num">${row.count}</td><td class="num">${duration(row.p50)}</td><td class="num">${duration(row.p95)}</td>`;
}

export function latencyTable(report: StatusReport): Html {
  return html`<section aria-labelledby="latency"><h2 id="latency">Latency per stage</h2>
  <div class="scroll"><table id="latency-table">
    <caption>By when the webhook arrived; p50 and p95 of the jobs that got that far.</caption>
    <thead><tr><th scope="col" rowspan="2">stage</th><th scope="colgroup" colspan="3">last hour</th>
      <th scope="colgroup" colspan="3">last day</th></tr>
      <tr><th scope="col" class="num">jobs</th><th scope="col" class="num">p50</th><th scope="col" class="num">p95</th>
      <th scope="col" class="num">jobs</th><th scope="col" class="num">p50</th><th scope="col" class="num">p95</th></tr></thead>
    <tbody>${STAGE_ORDER.map(
      (stage) => html`<tr data-stage="${stage}"${stage === "pickup" ? html` class="felt"` : ""}>
        <th scope="row">${STAGE_LABELS[stage]}</th>${stats(report.latency.hour, stage)}${stats(report.latency.day, stage)}</tr>`,
    )}</tbody>
  </table></div></section>`;
}

export function costSection(cost: CostEstimate): Html {
  const days = [...cost.days].reverse().slice(0, 14);
  return html`<section aria-labelledby="cost"><h2 id="cost">Modal cost (estimate)</h2>
  <p id="cost-line">${usd(cost.today)} today · ${usd(cost.perJob)} per job ended today ·
    ${usd(cost.perSandboxSecond * 3600)} per sandbox hour at the configured size ·
    prices ${cost.prices.asOf === "configured" ? "configured" : `of ${cost.prices.asOf}`}
    <span class="muted">(Modal's bill is the truth)</span></p>
  ${cost.unpriced.map(
    (gpu) => html`<p data-unpriced-gpu="${gpu.type}"><strong>Leaves out ${duration(gpu.gpuSeconds * 1000)}
      of ${gpu.type} GPU time:</strong> no price is known for that type, so every figure here reads low.</p>`,
  )}
  ${
    days.length === 0
      ? ""
      : html`<div class="scroll"><table id="cost-days"><caption>Per day (UTC), newest first</caption>
    <thead><tr><th scope="col">day</th><th scope="col" class="num">jobs ended</th>
      <th scope="col" class="num">sandbox time</th><th scope="col" class="num">est. USD</th></tr></thead>
    <tbody>${days.map(
      (day) => html`<tr><th scope="row">${day.day}</th><td class="num">${day.jobs}</td>
        <td class="num">${duration(day.sandboxSeconds * 1000)}</td><td class="num">${usd(day.usd)}</td></tr>`,
    )}</tbody></table></div>`
  }</section>`;
}

export function configSection(report: StatusReport): Html {
  return html`<section aria-labelledby="configuration"><h2 id="configuration">Configuration</h2>
  <p class="muted">Effective values; secrets only as set or not set.</p>
  <dl id="config" class="config">${report.config.summary.map(
    (row) =>
      html`<div data-variable="${row.name}"><dt><code>${row.name}</code></dt><dd class="mono">${row.value}</dd></div>`,
  )}</dl>
  <h3 id="hooks">Webhooks watched for lost deliveries</h3>
  ${
    report.hooks.length === 0
      ? html`<p class="muted">None seen yet: a hook is listed once a delivery from it arrives.</p>`
      : html`<div class="scroll"><table>
    <thead><tr><th scope="col">kind</th><th scope="col">target</th><th scope="col">last scanned</th>
      <th scope="col">last error</th></tr></thead>
    <tbody>${report.hooks.map(
      (hook) => html`<tr><td>${hook.kind}</td><td>${hook.target}</td>
        <td>${hook.scannedAt === null ? "not yet" : clock(hook.scannedAt)}</td>
        <td class="error">${hook.lastError ?? ""}</td></tr>`,
    )}</tbody></table></div>`
  }</section>`;
}
