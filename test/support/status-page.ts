/**
 * For tests of the status page: GitHub's lifecycle deliveries for a job with the runner and conclusion the test
 * names, and the page's tables and rows picked out of its HTML (assertions on text and rows, never on layout).
 */
import { exports } from "cloudflare:workers";
import { delivery, workflowJob } from "./webhook.ts";

/** A signed `in_progress` or `completed` delivery of the job, as GitHub sends it, through the Worker. */
export async function deliverJobEvent(
  action: "in_progress" | "completed",
  repository: string,
  jobId: number,
  details: { runnerName: string | null; conclusion?: string },
): Promise<void> {
  const payload = workflowJob(action, { repository, jobId });
  const job: unknown = payload.workflow_job;
  if (typeof job !== "object" || job === null) throw new Error("the example has no workflow_job");
  Reflect.set(job, "runner_name", details.runnerName);
  Reflect.set(job, "conclusion", action === "completed" ? (details.conclusion ?? "success") : null);
  const response = await exports.default.fetch(await delivery(JSON.stringify(payload)));
  if (response.status !== 202) throw new Error(`webhook answered ${response.status}`);
}

/** The `<table …>` whose opening tag contains `attributes`, or "" when there is none. */
export function tableOf(html: string, attributes: string): string {
  const start = html.indexOf(`<table ${attributes}`);
  if (start === -1) return "";
  const end = html.indexOf("</table>", start);
  return html.slice(start, end === -1 ? undefined : end + "</table>".length);
}

/** The row of `jobId` in a table, or "" when it has none. */
export function jobRow(table: string, jobId: number): string {
  return new RegExp(`<tr data-job="${jobId}"[^>]*>[\\s\\S]*?</tr>`).exec(table)?.[0] ?? "";
}
