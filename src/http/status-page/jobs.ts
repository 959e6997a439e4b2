/**
 * The job and runner tables of the status page: what every job in flight is doing and why, per owner with its cap
 * use; what waits and for what; recent failures with their reasons; what ended lately; the runners we keep.
 */
import { html } from "hono/html";
import type { JobRecord, RunnerRecord } from "../../ledger/types.ts";
import { estimatedJobUsd, type OwnerReport, type StatusReport } from "../../status/report.ts";
import { age, ago, duration, plural, stateLabel, usd, waitExplained } from "./format.ts";
import type { Html } from "./layout.ts";

/** Every reason the job is where it is, in the order an operator asks: why waiting, what failed, why this runner. */
function why(job: JobRecord): Html {
  const lines: Html[] = [];
  if (job.waitReason !== null) lines.push(html`<div>${waitExplained(job.waitReason)}</div>`);
  if (job.lastError !== null) lines.push(html`<div class="error">last error: ${job.lastError}</div>`);
  if (job.recheck !== null) lines.push(html`<div>re-check: ${job.recheck}</div>`);
  if (job.ranOn !== null && job.ranOn !== job.runnerName) {
    lines.push(html`<div>GitHub ran it on ${job.ranOn}</div>`);
  }
  if (job.dispatchReason !== null) lines.push(html`<div class="muted">runner: ${job.dispatchReason}</div>`);
  return html`${lines}`;
}

function stateCell(job: JobRecord): Html {
  const kind = job.waitReason === null ? job.state : "waiting";
  return html`<span class="state ${kind}">${stateLabel(job)}</span>`;
}

/** When the job entered the state it is in. */
function stateSince(job: JobRecord): number | null {
  if (job.parkedAt !== null) return job.parkedAt;
  if (job.state === "running") return job.inProgressAt;
  if (job.state === "started") return job.sandboxCreatedAt;
  if (job.state === "dispatching") return job.dispatchStartedAt;
  return job.receivedAt;
}

function jobRow(report: StatusReport, now: number, job: JobRecord): Html {
  return html`<tr data-job="${job.jobId}" data-state="${job.state}">
    <th scope="row" class="mono">${job.jobId}</th><td>${job.repository}</td><td>${stateCell(job)}</td>
    <td class="num">${age(now, job.receivedAt)}</td><td class="num">${age(now, stateSince(job))}</td>
    <td class="mono">${job.runnerName ?? "—"}</td><td class="mono">${job.sandboxId ?? "—"}</td>
    <td class="num">${job.attempts}</td><td class="why">${why(job)}</td>
    <td class="num">${usd(estimatedJobUsd(job, now, report.cost))}</td>
  </tr>`;
}

function capLine(owner: OwnerReport): Html {
  const max = owner.maxRunners;
  const meter =
    max === null || max === 0
      ? ""
      : html`<meter min="0" max="${max}" value="${Math.min(owner.liveRunners, max)}" high="${Math.ceil(max * 0.8)}"
          aria-label="live runners of ${owner.owner}">${owner.liveRunners} of ${max}</meter>`;
  return html`<p class="cap" data-owner="${owner.owner}">live runners <strong>${owner.liveRunners}</strong> of
    ${max === null ? "no cap" : max} ${meter} · waiting for a slot ${owner.capWaiting}
    ${owner.paused ? html` · <strong>paused</strong>` : ""}</p>`;
}

const JOB_HEAD = html`<thead><tr><th scope="col">job</th><th scope="col">repository</th><th scope="col">state</th>
  <th scope="col" class="num">age</th><th scope="col" class="num">in state</th><th scope="col">runner</th>
  <th scope="col">sandbox</th><th scope="col" class="num">runners</th><th scope="col">why</th>
  <th scope="col" class="num">est. cost</th></tr></thead>`;

export function jobsSection(report: StatusReport, now: number): Html {
  const body =
    report.owners.length === 0
      ? html`<p class="muted">No owner has had a job yet.</p>`
      : report.owners.map(
          (owner) => html`<h3 id="owner-${owner.owner}">${owner.owner}</h3>${capLine(owner)}
      ${
        owner.inFlight.length === 0
          ? html`<p class="muted">Nothing in flight.</p>`
          : html`<div class="scroll"><table class="jobs" data-owner="${owner.owner}">
        <caption>${plural(owner.inFlight.length, "job")} in flight, oldest first</caption>${JOB_HEAD}
        <tbody>${owner.inFlight.map((job) => jobRow(report, now, job))}</tbody></table></div>`
      }`,
        );
  return html`<section aria-labelledby="jobs"><h2 id="jobs">Jobs in flight</h2>${body}</section>`;
}

export function waitingSection(report: StatusReport, now: number): Html {
  const rows = report.owners.flatMap((owner) =>
    owner.waiting.map((wait) => ({ owner: owner.owner, ...wait })),
  );
  return html`<section aria-labelledby="waiting"><h2 id="waiting">Waiting</h2>
  ${
    rows.length === 0
      ? html`<p class="muted">Nothing waits.</p>`
      : html`<div class="scroll"><table id="waiting-table">
    <thead><tr><th scope="col">owner</th><th scope="col">reason</th><th scope="col" class="num">jobs</th>
      <th scope="col" class="num">oldest waits</th><th scope="col">what lets them go</th></tr></thead>
    <tbody>${rows.map(
      (row) => html`<tr data-reason="${row.reason}"><td>${row.owner}</td><th scope="row">${row.reason}</th>
        <td class="num">${row.count}</td><td class="num">${age(now, row.oldest)}</td>
        <td>${waitExplained(row.reason)}</td></tr>`,
    )}</tbody></table></div>`
  }</section>`;
}

export function failuresSection(report: StatusReport, now: number): Html {
  const failures = report.owners
    .flatMap((owner) => owner.failures)
    .sort((a, b) => (b.endedAt ?? 0) - (a.endedAt ?? 0));
  return html`<section aria-labelledby="failures"><h2 id="failures">Recent failures (24 h)</h2>
  ${
    failures.length === 0
      ? html`<p class="muted">No job failed in the last day.</p>`
      : html`<div class="scroll"><table id="failures-table">
    <thead><tr><th scope="col">job</th><th scope="col">repository</th><th scope="col">failed</th>
      <th scope="col" class="num">runners</th><th scope="col">last runner</th><th scope="col">reason</th></tr></thead>
    <tbody>${failures.map(
      (
        job,
      ) => html`<tr data-job="${job.jobId}"><th scope="row" class="mono">${job.jobId}</th><td>${job.repository}</td>
        <td>${ago(now, job.endedAt)} ago</td><td class="num">${job.attempts}</td>
        <td class="mono">${job.runnerName ?? "—"}</td><td class="why error">${job.lastError ?? "no reason recorded"}</td></tr>`,
    )}</tbody></table></div>`
  }</section>`;
}

export function endedSection(report: StatusReport, now: number): Html | string {
  const ended = report.owners
    .flatMap((owner) => owner.ended)
    .sort((a, b) => (b.endedAt ?? 0) - (a.endedAt ?? 0));
  if (ended.length === 0) return "";
  return html`<section aria-labelledby="ended"><h2 id="ended">Finished and cancelled (24 h)</h2>
  <div class="scroll"><table id="ended-table">
    <thead><tr><th scope="col">job</th><th scope="col">repository</th><th scope="col">state</th>
      <th scope="col">ended</th><th scope="col">ran on</th><th scope="col" class="num">webhook → completed</th>
      <th scope="col" class="num">est. cost</th></tr></thead>
    <tbody>${ended.map(
      (
        job,
      ) => html`<tr data-job="${job.jobId}" data-state="${job.state}"><th scope="row" class="mono">${job.jobId}</th>
        <td>${job.repository}</td><td><span class="state ${job.state}">${job.state}${
          job.conclusion === null || job.conclusion === job.state ? "" : ` (${job.conclusion})`
        }</span></td><td>${ago(now, job.endedAt)} ago</td><td class="mono">${job.ranOn ?? "—"}</td>
        <td class="num">${duration(job.completedAt === null ? null : job.completedAt - job.receivedAt)}</td>
        <td class="num">${usd(estimatedJobUsd(job, now, report.cost))}</td></tr>`,
    )}</tbody></table></div></section>`;
}

function runnerNote(runner: RunnerRecord): string {
  return [runner.retireReason, runner.lastError].filter((text) => text !== null).join("; ");
}

export function runnersSection(report: StatusReport, now: number): Html | string {
  const runners = report.owners.flatMap((owner) => owner.runners);
  if (runners.length === 0) return "";
  return html`<section aria-labelledby="runners"><h2 id="runners">Runners</h2>
  <div class="scroll"><table id="runners-table"><caption>Every runner we started that is not gone yet.</caption>
    <thead><tr><th scope="col">runner</th><th scope="col">started for job</th><th scope="col">state</th>
      <th scope="col">running job</th><th scope="col">sandbox</th><th scope="col">GitHub says</th>
      <th scope="col" class="num">age</th><th scope="col">note</th></tr></thead>
    <tbody>${runners.map(
      (
        runner,
      ) => html`<tr data-runner="${runner.runnerName}"><th scope="row" class="mono">${runner.runnerName}</th>
        <td class="mono">${runner.jobId}</td><td>${runner.state}</td><td class="mono">${runner.busyJobId ?? "—"}</td>
        <td class="mono">${runner.sandboxId ?? "—"}</td><td>${runner.githubStatus ?? "not looked yet"}</td>
        <td class="num">${age(now, runner.claimedAt)}</td><td class="why">${runnerNote(runner)}</td></tr>`,
    )}</tbody></table></div></section>`;
}
