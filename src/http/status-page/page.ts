/**
 * `/status`: the status report as one page, rendered on the server (hono/html escapes every value). Read from the
 * top: is dispatch running, what is wrong, how long users wait, then every job and why, then the details.
 */
import { html } from "hono/html";
import type { StatusReport } from "../../status/report.ts";
import { dispatchBanner } from "./controls.ts";
import { clock } from "./format.ts";
import { endedSection, failuresSection, jobsSection, runnersSection, waitingSection } from "./jobs.ts";
import { type Html, layout } from "./layout.ts";
import { checksSection, configSection, costSection, issues, latencyTable, tiles } from "./overview.ts";

export interface StatusPageOptions {
  report: StatusReport;
  /** Who passed the operator check: an Access identity, `token` or `session`. */
  identity: string;
  nonce: string;
  /** Seconds between reloads, when asked for with `?refresh=`. */
  refreshSeconds?: number;
}

function header(options: StatusPageOptions): Html {
  const { report, identity, refreshSeconds } = options;
  const refresh =
    refreshSeconds === undefined
      ? html`<a href="/status?refresh=30">reload every 30 s</a>`
      : html`reloads every ${refreshSeconds} s (<a href="/status">stop</a>)`;
  return html`<header>
  <h1>actions-on-modal status</h1>
  <span class="muted">as of <time datetime="${report.generatedAt}">${clock(report.generatedAt)}</time></span>
  <span><a href="/status">reload</a> · ${refresh} · <a href="/api/status">JSON</a></span>
  <span class="muted">signed in as ${identity}</span>
  ${
    identity === "session"
      ? html`<form method="post" action="/status/logout"><button type="submit">Sign out</button></form>`
      : ""
  }
</header>`;
}

export function renderStatusPage(options: StatusPageOptions): Html {
  const { report, nonce } = options;
  const now = Date.parse(report.generatedAt);
  const body = html`<a class="skip" href="#jobs">Skip to the jobs</a>
${header(options)}
<main>
${dispatchBanner(report, nonce)}
${issues(report)}
${tiles(report)}
${report.checks?.ok === false ? checksSection(report) : ""}
${jobsSection(report, now)}
${waitingSection(report, now)}
${failuresSection(report, now)}
${latencyTable(report)}
${endedSection(report, now)}
${runnersSection(report, now)}
${costSection(report.cost)}
${report.checks?.ok === false ? "" : checksSection(report)}
${configSection(report)}
</main>`;
  return layout({
    title: "actions-on-modal — status",
    nonce,
    body,
    ...(options.refreshSeconds === undefined ? {} : { refreshSeconds: options.refreshSeconds }),
  });
}
