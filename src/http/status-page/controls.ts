/**
 * The dispatch banner — running or paused, and by what — with the pause and resume buttons. The buttons are the
 * page's only script: they POST JSON to /api (which takes state changes only as JSON from this origin) and reload.
 */
import { html, raw } from "hono/html";
import type { StatusReport } from "../../status/report.ts";
import { plural } from "./format.ts";
import type { Html } from "./layout.ts";

const SCRIPT = `
const result = document.getElementById("action-result");
document.querySelectorAll("button[data-action]").forEach((button) => {
  button.addEventListener("click", async () => {
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    const body = button.dataset.terminateIdle === "true" ? { terminateIdle: true } : {};
    document.querySelectorAll("button[data-action]").forEach((other) => { other.disabled = true; });
    result.textContent = button.textContent.trim() + "…";
    try {
      const response = await fetch("/api/" + button.dataset.action, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error("the Worker answered " + response.status);
      location.reload();
    } catch (error) {
      result.textContent = "Failed: " + error.message;
      document.querySelectorAll("button[data-action]").forEach((other) => { other.disabled = false; });
    }
  });
});`;

export function dispatchBanner(report: StatusReport, nonce: string): Html {
  const { api, variable } = report.paused;
  const paused = api || variable;
  const waiting = report.owners.reduce(
    (sum, owner) =>
      sum + owner.waiting.reduce((n, wait) => (wait.reason === "paused" ? n + wait.count : n), 0),
    0,
  );
  const by = [api ? "an operator (Pause)" : "", variable ? "DISPATCH_PAUSED" : ""]
    .filter(Boolean)
    .join(" and ");
  const state = paused
    ? html`<strong id="paused">Dispatch is paused</strong>
        <span>by ${by}: no new runner starts; ${plural(waiting, "job")} waiting for the resume.
        ${variable ? "Resume lifts only an operator's pause: unset DISPATCH_PAUSED to lift the variable's." : ""}</span>`
    : html`<strong id="running">Dispatch is running</strong><span>new jobs get a runner as they arrive.</span>`;
  const buttons = paused
    ? html`<button type="button" class="primary" id="resume" data-action="resume">Resume</button>`
    : html`<button type="button" id="pause" data-action="pause">Pause</button>
        <button type="button" id="pause-idle" data-action="pause" data-terminate-idle="true"
          data-confirm="Pause, and deregister and stop every runner that is not running a job?">Pause and remove idle runners</button>`;
  return html`<section class="banner${paused ? " paused" : ""}" aria-labelledby="${paused ? "paused" : "running"}">
  ${state}
  <span>${buttons}</span>
  <span id="action-result" role="status" aria-live="polite"></span>
  <noscript>The buttons need JavaScript; without it, POST /api/pause or /api/resume with the token.</noscript>
</section>
<script nonce="${nonce}">${raw(SCRIPT)}</script>`;
}
