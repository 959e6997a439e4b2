/**
 * Queued jobs we were never told about. For the repositories ALLOWED_REPOS names explicitly (not `owner/*`), the
 * watcher lists their queued and in-progress runs and those runs' jobs, and sends every queued job with our labels
 * that the owner's ledger does not know to the queue, as if its delivery had arrived. Bounded per cycle; needs
 * "Actions: read" on the repositories (what dispatch needs already).
 */
import type { IntakeConfig } from "../config/intake.ts";
import type { GitHubClient } from "../github/client.ts";
import type { JobMessage } from "../jobs/message.ts";
import { decideJob } from "../jobs/policy.ts";
import type { JobLedger } from "../ledger/job-ledger.ts";
import { errorFields, type Logger } from "../log.ts";

const MAX_REPOSITORIES_PER_CYCLE = 20;
const MAX_RUNS_PER_REPOSITORY = 10;

export interface ScanDeps {
  intake: IntakeConfig;
  github: GitHubClient;
  /** The client to read one repository with (the App's installation on its owner, or the PAT). */
  clientFor: (owner: string, repo: string) => Promise<GitHubClient | undefined>;
  ledger: (owner: string) => DurableObjectStub<JobLedger>;
  grant: (client: GitHubClient, want: number) => Promise<number>;
  send: (messages: JobMessage[]) => Promise<void>;
  now: number;
  log: Logger;
}

export interface ScanReport {
  repositories: number;
  found: { jobId: number; repository: string }[];
  githubCalls: number;
  errors: string[];
}

export async function findUnknownQueuedJobs(deps: ScanDeps): Promise<ScanReport> {
  const report: ScanReport = { repositories: 0, found: [], githubCalls: 0, errors: [] };
  const explicit = deps.intake.allowedRepos
    .filter((pattern) => pattern.repo !== "*")
    .slice(0, MAX_REPOSITORIES_PER_CYCLE);
  for (const { owner, repo } of explicit) {
    const repository = `${owner}/${repo}`;
    try {
      const client = await deps.clientFor(owner, repo);
      if (client === undefined) continue;
      report.repositories += 1;
      // The budget is charged for what it grants: the two listings first, then one call per run they found.
      if ((await deps.grant(client, 2)) < 2) continue;
      report.githubCalls += 2;
      const listed = [
        ...(await client.listRuns(owner, repo, { status: "queued" })),
        ...(await client.listRuns(owner, repo, { status: "in_progress" })),
      ].slice(0, MAX_RUNS_PER_REPOSITORY);
      const budget = listed.length === 0 ? 0 : await deps.grant(client, listed.length);
      const runs = listed.slice(0, budget);
      const messages: JobMessage[] = [];
      for (const run of runs) {
        report.githubCalls += 1;
        for (const job of await client.listJobsForRun(owner, repo, run.id)) {
          if (job.status !== "queued") continue;
          const decision = decideJob(deps.intake, {
            labels: job.labels,
            repository: run.repository.fullName,
            private: run.repository.private,
          });
          if (!decision.accept) continue;
          messages.push({
            v: 1,
            kind: "job.queued",
            deliveryId: `scan-${job.id}`,
            receivedAt: deps.now,
            job: {
              id: job.id,
              runId: run.id,
              runAttempt: job.runAttempt ?? run.runAttempt ?? 1,
              labels: job.labels,
              repository: run.repository.fullName,
              owner: run.repository.ownerLogin,
              ownerType: run.repository.ownerType,
              private: run.repository.private,
            },
          });
        }
      }
      if (messages.length === 0) continue;
      const unknown = new Set(
        await deps.ledger(owner).unknownJobs(messages.map((message) => message.job.id)),
      );
      const lost = messages.filter((message) => unknown.has(message.job.id));
      if (lost.length === 0) continue;
      await deps.send(lost);
      for (const message of lost) {
        report.found.push({ jobId: message.job.id, repository });
        deps.log.warn("queued job found that no delivery announced; dispatching it", {
          jobId: message.job.id,
          repository,
        });
      }
    } catch (error) {
      report.errors.push(`${repository}: ${error instanceof Error ? error.message : String(error)}`);
      deps.log.warn("could not look for queued jobs", { repository, ...errorFields(error) });
    }
  }
  return report;
}
