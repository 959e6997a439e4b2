/** The webhook's section: what intake needs to accept, verify and filter deliveries. */
import * as z from "zod/mini";
import type { IntakeConfig, Section } from "../config.ts";
import { flag, integer, labelList, problemsOf, repoPatterns, required, text } from "./variables.ts";

export const IntakeEnvSchema = z.object({
  WEBHOOK_SECRET: required(),
  WEBHOOK_SECRET_PREVIOUS: text("must be a string"),
  WEBHOOK_MAX_BODY_BYTES: integer(1024 * 1024, 1024, 25 * 1024 * 1024),
  REQUIRED_LABELS: labelList(),
  ALLOWED_REPOS: repoPatterns(),
  ALLOW_PUBLIC_REPOS: flag(false),
});

export function intakeSection(env: Env): Section<IntakeConfig> {
  const parsed = IntakeEnvSchema.safeParse(env);
  if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error) };
  const vars = parsed.data;
  const webhookSecrets = [vars.WEBHOOK_SECRET];
  if (vars.WEBHOOK_SECRET_PREVIOUS !== undefined) webhookSecrets.push(vars.WEBHOOK_SECRET_PREVIOUS);
  return {
    ok: true,
    value: {
      webhookSecrets,
      maxBodyBytes: vars.WEBHOOK_MAX_BODY_BYTES,
      requiredLabels: vars.REQUIRED_LABELS,
      allowedRepos: vars.ALLOWED_REPOS,
      allowPublicRepos: vars.ALLOW_PUBLIC_REPOS,
    },
  };
}
