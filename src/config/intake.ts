/** The webhook's section: what intake needs to accept, verify and filter deliveries. */
import * as z from "zod/mini";
import type { Section } from "../config.ts";
import {
  fields,
  flag,
  integer,
  labelList,
  optional,
  read,
  repoPatterns,
  required,
  text,
} from "./variables.ts";

const INTAKE = fields({
  secret: ["WEBHOOK_SECRET", required(text, "is required", "is required")],
  previousSecret: ["WEBHOOK_SECRET_PREVIOUS", optional(text, "must be a string")],
  maxBodyBytes: ["WEBHOOK_MAX_BODY_BYTES", integer(1024 * 1024, 1024, 25 * 1024 * 1024)],
  requiredLabels: ["REQUIRED_LABELS", labelList(["self-hosted", "modal"])],
  /** Empty means every repository. */
  allowedRepos: ["ALLOWED_REPOS", repoPatterns()],
  allowPublicRepos: ["ALLOW_PUBLIC_REPOS", flag(false)],
});
const Intake = z.pipe(
  INTAKE,
  z.transform(({ secret, previousSecret, ...intake }) => ({
    ...intake,
    /** The current secret first, then the previous one during a rotation. */
    webhookSecrets: [secret, previousSecret].filter((value) => value !== undefined),
  })),
);
export type IntakeConfig = z.output<typeof Intake>;

export const INTAKE_VARIABLES = INTAKE.variables;
export const intakeSection = (env: Env): Section<IntakeConfig> => read(env, Intake);
