/**
 * Check runs: how a refused job is explained on its commit. Only a GitHub App installation with "Checks: write"
 * may create one; GitHub refuses PATs here, so `canWriteChecks` says no for them and the client never sends one.
 *
 * The input is checked before anything is sent: a body GitHub would refuse (422) is a bug of ours, and telling it
 * apart from a permission problem is easier here than from GitHub's message.
 */
import * as z from "zod/mini";
import { PermanentError } from "../errors.ts";
import type { Send } from "./credentials.ts";
import { parseResponse } from "./schemas.ts";

/**
 * GitHub's documented limit for `output.summary` and `output.text`: "Maximum length: 65535 characters". It has
 * been seen counting bytes (github/rest-api-description#5399), so we count UTF-8 bytes: never more than GitHub
 * takes, at the price of a shorter limit for non-ASCII text. GitHub documents no limit for `name` or `title`.
 */
export const MAX_OUTPUT_BYTES = 65_535;
const HEAD_SHA = /^[0-9a-f]{40}$/i;

export interface CheckRunRequest {
  owner: string;
  repo: string;
  /** Shown as the check's name on the commit, e.g. `actions-on-modal`. */
  name: string;
  /** The commit the job ran for (`workflow_job.head_sha`): 40 hex digits. */
  headSha: string;
  /** The job id, so that a second post for the same job can be recognised. */
  externalId: string;
  title: string;
  /** Markdown, at most 65535 UTF-8 bytes. */
  summary: string;
  /** Markdown, at most 65535 UTF-8 bytes. */
  text?: string;
  /** Milliseconds since the epoch; defaults to the client's `now()`. */
  completedAt?: number;
}

export interface CreatedCheckRun {
  id: number;
  /** Where a person sees it; GitHub's schema allows null. */
  htmlUrl: string | null;
}

const CheckRunSchema = z.object({
  id: z.int(),
  html_url: z.nullable(z.string()),
});

/**
 * Whether a token with these permissions may create check runs. Undefined stands for a PAT (no installation
 * permissions to read): we do not post check runs with PATs, and GitHub would refuse them anyway.
 */
export function canWriteChecks(permissions: Readonly<Record<string, string>> | undefined): boolean {
  return permissions?.checks === "write";
}

export function checksPermission(owner: string, repo: string): string {
  return `"Checks: read & write" for the GitHub App installation on ${owner}/${repo} (PATs cannot create check runs)`;
}

function refuse(message: string, reason: string): PermanentError {
  return new PermanentError(`GitHub createCheckRun: ${message}`, {
    service: "github",
    operation: "createCheckRun",
    reason,
  });
}

const utf8Bytes = (text: string) => new TextEncoder().encode(text).byteLength;

/** The reason the input cannot be sent, or undefined. */
function invalidInput(input: CheckRunRequest): string | undefined {
  if (input.owner.trim() === "" || input.repo.trim() === "") return "owner and repo are required";
  if (input.name.trim() === "") return "the check run needs a name";
  if (!HEAD_SHA.test(input.headSha)) return "head SHA must be 40 hexadecimal digits";
  if (input.externalId.trim() === "") return "the external id (the job id) is required";
  if (input.title.trim() === "") return "the output needs a title";
  if (input.summary.trim() === "") return "the output needs a summary";
  if (utf8Bytes(input.summary) > MAX_OUTPUT_BYTES) return `the summary is over ${MAX_OUTPUT_BYTES} bytes`;
  if (input.text !== undefined && utf8Bytes(input.text) > MAX_OUTPUT_BYTES) {
    return `the text is over ${MAX_OUTPUT_BYTES} bytes`;
  }
  if (input.completedAt !== undefined && !Number.isFinite(input.completedAt)) {
    return "completedAt must be a time";
  }
  return undefined;
}

/** GitHub's `date-time` without milliseconds, as its examples show it. */
const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

/** A completed, failed check run on `headSha`. Throws a `PermanentError` (`invalid_input`) before sending bad input. */
export async function createCheckRun(
  send: Send,
  now: () => number,
  input: CheckRunRequest,
): Promise<CreatedCheckRun> {
  const problem = invalidInput(input);
  if (problem !== undefined) throw refuse(problem, "invalid_input");
  const { owner, repo } = input;
  const body = {
    name: input.name,
    head_sha: input.headSha.toLowerCase(),
    external_id: input.externalId,
    status: "completed" as const,
    conclusion: "failure" as const,
    completed_at: isoSeconds(input.completedAt ?? now()),
    output: {
      title: input.title,
      summary: input.summary,
      ...(input.text === undefined ? {} : { text: input.text }),
    },
  };
  const result = await send(
    {
      operation: "createCheckRun",
      subject: `${owner}/${repo} commit ${body.head_sha}`,
      permission: checksPermission(owner, repo),
      invalid: `that ${body.head_sha} is a commit of ${owner}/${repo}`,
    },
    (request) => request("POST /repos/{owner}/{repo}/check-runs", { owner, repo, ...body }),
  );
  const parsed = parseResponse(CheckRunSchema, "createCheckRun", result.data);
  return { id: parsed.id, htmlUrl: parsed.html_url };
}

/** For clients without an installation token: the reason no check run is sent. */
export function checkRunsNeedApp(): PermanentError {
  return refuse(
    "check runs need GitHub App auth (an installation with Checks: write); this client has a token",
    "app_auth_required",
  );
}
