/**
 * `/status`: the status report as a page, rendered on the server with hono/html (no build step, no script but the
 * pause and resume buttons). Everything shown is escaped; nothing secret is in the report to begin with.
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { JobRecord } from "../ledger/types.ts";
import { STAGES, type Latency, type StatusReport } from "../status/report.ts";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const STAGE_LABELS: Record<(typeof STAGES)[number], string> = {
  queue: "webhook → queue",
  jit: "queue → JIT",
  sandbox: "JIT → sandbox",
  connect: "sandbox → in progress",
  pickup: "webhook → in progress",
  run: "in progress → completed",
};

function duration(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function age(now: number, since: number | null): string {
  return since === null ? "—" : duration(Math.max(0, now - since));
}

function usd(value: number | null): string {
  if (value === null) return "—";
  return value < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

function latencyTable(title: string, latency: Latency): Html {
  return html`<table class="latency">
    <caption>${title}</caption>
    <tr><th>stage</th><th>jobs</th><th>p50</th><th>p95</th></tr>
    ${STAGES.map(
      (stage) =>
        html`<tr data-stage="${stage}" class="${stage === "pickup" ? "felt" : ""}">
          <td>${STAGE_LABELS[stage]}</td><td>${latency[stage].count}</td>
          <td>${duration(latency[stage].p50)}</td><td>${duration(latency[stage].p95)}</td>
        </tr>`,
    )}
  </table>`;
}

function jobRow(now: number, job: JobRecord): Html {
  return html`<tr data-job="${job.jobId}">
    <td>${job.jobId}</td><td>${job.repository}</td><td class="state ${job.state}">${job.state}${
      job.waitReason === null ? "" : html` (${job.waitReason})`
    }</td>
    <td>${job.runnerName ?? "—"}</td><td>${job.sandboxId ?? "—"}</td><td>${job.attempts}</td>
    <td>${age(now, job.receivedAt)}</td><td class="error">${job.lastError ?? job.dispatchReason ?? ""}</td>
  </tr>`;
}

export function renderStatusPage(report: StatusReport): Html {
  const now = Date.parse(report.generatedAt);
  const paused = report.paused.api || report.paused.variable;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>actions-on-modal — status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; }
  h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.6rem; }
  table { border-collapse: collapse; margin: .5rem 0; } caption { text-align: left; font-weight: 600; }
  th, td { border-bottom: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; vertical-align: top; }
  .felt { font-weight: 600; } .error { color: #9a3412; max-width: 40rem; }
  .warning { background: #fff8c5; padding: .4rem .6rem; margin: .2rem 0; }
  .paused { background: #ffebe9; padding: .6rem; font-weight: 600; }
  .totals span { margin-right: 1.4rem; } button { margin-right: .5rem; }
</style>
</head>
<body>
<h1>actions-on-modal</h1>
<p class="totals">
  <span>owners <b>${report.totals.owners}</b></span><span>jobs in flight <b id="in-flight">${report.totals.inFlight}</b></span>
  <span>waiting <b>${report.totals.waiting}</b></span><span>live runners <b>${report.totals.liveRunners}</b></span>
  <span>failed today <b>${report.totals.failedToday}</b></span><span>as of ${report.generatedAt}</span>
</p>
${paused ? html`<p class="paused" id="paused">Dispatch is paused${report.paused.variable ? " (DISPATCH_PAUSED)" : ""}: no new runner starts; jobs wait.</p>` : ""}
<p>
  <button id="pause" data-action="pause">Pause</button>
  <button id="pause-idle" data-action="pause" data-terminate-idle="true">Pause and remove idle runners</button>
  <button id="resume" data-action="resume">Resume</button>
</p>
${report.config.problems.map((problem) => html`<p class="warning">problem: ${problem}</p>`)}
${report.config.warnings.map((warning) => html`<p class="warning">${warning}</p>`)}

<h2>Latency</h2>
${latencyTable("last hour", report.latency.hour)}
${latencyTable("last day", report.latency.day)}

<h2>Cost (estimate)</h2>
<p>${usd(report.cost.perJob)} per job today · ${usd(report.cost.today)} today ·
  ${usd(report.cost.perSandboxSecond * 3600)} per sandbox hour at the configured size · prices ${report.cost.prices.asOf}</p>

${report.owners.map(
  (owner) => html`<h2>${owner.owner}</h2>
  <p>live runners ${owner.liveRunners} of ${owner.maxRunners ?? "unlimited"} · waiting for a slot ${owner.capWaiting}
    ${owner.waiting.map((waiting) => html` · ${waiting.reason}: ${waiting.count} (oldest ${age(now, waiting.oldest)})`)}</p>
  <table class="jobs">
    <tr><th>job</th><th>repository</th><th>state</th><th>runner</th><th>sandbox</th><th>runners</th><th>age</th><th>why</th></tr>
    ${owner.inFlight.map((job) => jobRow(now, job))}
  </table>
  ${
    owner.failures.length === 0
      ? ""
      : html`<table class="failures"><caption>failed in the last day</caption>
        <tr><th>job</th><th>repository</th><th>when</th><th>reason</th></tr>
        ${owner.failures.map(
          (
            job,
          ) => html`<tr><td>${job.jobId}</td><td>${job.repository}</td><td>${age(now, job.endedAt)} ago</td>
            <td class="error">${job.lastError ?? ""}</td></tr>`,
        )}</table>`
  }`,
)}

<h2>Configuration</h2>
<table class="config">${report.config.summary.map((row) => html`<tr><td>${row.name}</td><td>${row.value}</td></tr>`)}</table>
<h2>Webhooks watched for lost deliveries</h2>
<table>${report.hooks.map(
    (hook) =>
      html`<tr><td>${hook.kind}</td><td>${hook.target}</td><td>${hook.scannedAt ?? "not yet"}</td><td class="error">${hook.lastError ?? ""}</td></tr>`,
  )}</table>
<script>${raw(`
document.querySelectorAll("button[data-action]").forEach((button) => {
  button.addEventListener("click", async () => {
    const body = button.dataset.terminateIdle === "true" ? { terminateIdle: true } : {};
    const response = await fetch("/api/" + button.dataset.action, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin",
    });
    if (response.ok) location.reload(); else alert("failed: " + response.status);
  });
});`)}</script>
</body>
</html>`;
}

export function renderLoginPage(failed: boolean): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>actions-on-modal — sign in</title></head>
<body style="font: 14px system-ui, sans-serif; margin: 2rem">
<h1 style="font-size: 1.2rem">actions-on-modal</h1>
${failed ? html`<p style="color: #9a3412">That token was not accepted.</p>` : ""}
<form method="post" action="/status/login">
  <label>STATUS_TOKEN <input type="password" name="token" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
</form>
</body></html>`;
}
