/**
 * A job whose labels ask for a sandbox the operator does not allow: no runner, no sandbox, the job failed in the
 * ledger with its reason, a log line, and — when we act as a GitHub App with "Checks: write" — a failed check run
 * on the job's commit that names the label and the variable that would allow it. Without that permission the
 * ledger, the status page and the log say it. Posting is best effort: the refusal stands whatever GitHub answers.
 */
import { canWriteChecks } from "../github/client.ts";
import type { JobMessage } from "../jobs/message.ts";
import { describeRefusal, type Refusal } from "../jobs/sizing.ts";
import { errorFields } from "../log.ts";
import type { DispatchDeps } from "./dispatch-job.ts";

/** The check's name on the commit. */
export const CHECK_NAME = "actions-on-modal";

export async function refuseJob(
  deps: Pick<DispatchDeps, "config" | "github" | "ledger" | "now" | "log">,
  message: JobMessage,
  refusal: Refusal,
): Promise<{ kind: "refused"; reason: string }> {
  const { job } = message;
  const reason = describeRefusal(refusal);
  const { first } = await deps.ledger.refuse({
    job,
    receivedAt: message.receivedAt,
    message,
    reason,
    now: deps.now(),
  });
  const log = deps.log.child({ jobId: job.id, repository: job.repository });
  log.warn("job refused", { label: refusal.label, reason, variable: refusal.variable });
  if (first) await explainOnCommit(deps, message, refusal, reason, log);
  return { kind: "refused", reason };
}

async function explainOnCommit(
  deps: Pick<DispatchDeps, "config" | "github">,
  message: JobMessage,
  refusal: Refusal,
  reason: string,
  log: DispatchDeps["log"],
): Promise<void> {
  const { job } = message;
  if (deps.config.github.auth.kind !== "app" || job.headSha === undefined) return;
  try {
    if (!canWriteChecks(await deps.github.installationPermissions())) {
      log.info("no check run for the refused job: the App lacks Checks: write");
      return;
    }
    const [owner = "", repo = ""] = job.repository.split("/");
    const fix =
      refusal.variable === undefined
        ? "Change the label in the workflow's `runs-on`."
        : `Change the label in the workflow's \`runs-on\`, or ask the operator to allow it with \`${refusal.variable}\`.`;
    const created = await deps.github.createCheckRun({
      owner,
      repo,
      name: job.name === undefined || job.name === null ? CHECK_NAME : `${CHECK_NAME}: ${job.name}`,
      headSha: job.headSha,
      externalId: String(job.id),
      title: `Runner refused: ${refusal.label}`,
      summary: `${reason}.\n\n${fix}`,
      text: `Job ${job.id} asked for: ${job.labels.map((label) => `\`${label}\``).join(", ")}.`,
    });
    log.info("check run posted for the refused job", { checkRunId: created.id });
  } catch (error) {
    log.warn("check run for the refused job not posted", errorFields(error));
  }
}
