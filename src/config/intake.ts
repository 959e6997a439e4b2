/** The webhook's section: what intake needs to accept, verify and filter deliveries. */
import * as z from "zod/mini";
import type { IntakeConfig, Section } from "../config.ts";
import { flag, integer, labelList, optional, read, repoPatterns, required, text } from "./variables.ts";

const INTAKE = {
  WEBHOOK_SECRET: required(text, "is required", "is required"),
  WEBHOOK_SECRET_PREVIOUS: optional(text, "must be a string"),
  WEBHOOK_MAX_BODY_BYTES: integer(1024 * 1024, 1024, 25 * 1024 * 1024),
  REQUIRED_LABELS: labelList(["self-hosted", "modal"]),
  ALLOWED_REPOS: repoPatterns(),
  ALLOW_PUBLIC_REPOS: flag(false),
};

const Intake = z.pipe(
  z.object(INTAKE),
  z.transform(
    (vars): IntakeConfig => ({
      webhookSecrets: [vars.WEBHOOK_SECRET, vars.WEBHOOK_SECRET_PREVIOUS].filter(
        (secret) => secret !== undefined,
      ),
      maxBodyBytes: vars.WEBHOOK_MAX_BODY_BYTES,
      requiredLabels: vars.REQUIRED_LABELS,
      allowedRepos: vars.ALLOWED_REPOS,
      allowPublicRepos: vars.ALLOW_PUBLIC_REPOS,
    }),
  ),
);

export const INTAKE_VARIABLES = Object.keys(INTAKE);
export const intakeSection = (env: Env): Section<IntakeConfig> => read(env, Intake);
