/**
 * From the port's `RunnerSandboxSpec` to the protobuf `Sandbox` definition, with the checks the SDK makes before
 * sending (so a bad spec fails here, permanently and clearly, instead of as an INVALID_ARGUMENT from Modal).
 * Error messages name the rule, never a value: `env` holds the runner's JIT config.
 */
import { PermanentError } from "../../errors.ts";
import type { RunnerSandboxSpec } from "../provider.ts";
import type { SandboxDefinition } from "./messages/sandbox-create.ts";

/** Modal's object-name rule (SDK `checkObjectName`): ≤ 64 of [A-Za-z0-9-_.], and not shaped like an app id. */
const OBJECT_NAME = /^[a-zA-Z0-9\-_.]{1,64}$/;
const APP_ID = /^ap-[a-zA-Z0-9]{22}$/;
/** SDK `validateEnvVarKeys`. */
const ENV_KEY = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** `!` and `+` end Modal's `H100!` (never upgraded) and `B200+` (B200 or better). */
const GPU = /^([A-Za-z0-9-]+[!+]?)(?::(\d{1,2}))?$/;
/** A Modal region or region group: lowercase words joined by '-', e.g. `us-east`, `eu-west-1`. */
const REGION = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** Env values this long are treated as secrets for the leak check below (paths and flags are shorter). */
const SECRET_LIKE_LENGTH = 32;
/** Modal's maximum sandbox lifetime. */
const MAX_TIMEOUT_SECONDS = 24 * 60 * 60;

function invalid(operation: string, message: string): PermanentError {
  return new PermanentError(`Modal ${operation} not sent: ${message}`, {
    service: "modal",
    operation,
    reason: "invalid_argument",
    grpcCode: 3,
  });
}

/** Parses `A10G` or `H100:2` the way the SDK's `parseGpuConfig` does (type upper-cased, count defaults to 1). */
export function parseGpu(gpu: string | undefined): { type: string; count: number } | undefined {
  if (gpu === undefined || gpu === "") return undefined;
  const match = GPU.exec(gpu);
  const count = Number(match?.[2] ?? "1");
  if (match?.[1] === undefined || count < 1)
    throw invalid("SandboxCreate", "gpu must look like A10G or H100:2");
  return { type: match[1].toUpperCase(), count };
}

export function toSandboxDefinition(
  spec: RunnerSandboxSpec,
  operation: string,
  secretIds: readonly string[],
): SandboxDefinition {
  if (!OBJECT_NAME.test(spec.name) || APP_ID.test(spec.name)) {
    throw invalid(operation, "name must be 1-64 letters, digits, '-', '_' or '.'");
  }
  if (spec.command.length === 0) throw invalid(operation, "command must not be empty");
  if (
    !Number.isInteger(spec.timeoutSeconds) ||
    spec.timeoutSeconds < 1 ||
    spec.timeoutSeconds > MAX_TIMEOUT_SECONDS
  ) {
    throw invalid(operation, `timeoutSeconds must be a whole number from 1 to ${MAX_TIMEOUT_SECONDS}`);
  }
  if (!(spec.cpu > 0) || !Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 1) {
    throw invalid(operation, "cpu and memoryMiB must be positive (memoryMiB a whole number)");
  }
  for (const key of Object.keys(spec.env)) {
    if (!ENV_KEY.test(key))
      throw invalid(operation, "env keys must be letters, digits and '_', not starting with a digit");
  }
  const regions = spec.regions ?? [];
  if (!regions.every((region) => REGION.test(region))) {
    throw invalid(operation, "regions must be lowercase names like us-east or eu-west-1");
  }
  if (Object.keys(spec.tags).includes("")) throw invalid(operation, "tag names must not be empty");
  // Names, tags and arguments show in Modal's dashboard and listings. A long env value (the JIT config is
  // kilobytes) found there is a caller bug that would leak a credential: refuse rather than send.
  const visible = [spec.name, ...spec.command, ...Object.keys(spec.tags), ...Object.values(spec.tags)];
  const longValues = Object.values(spec.env).filter((value) => value.length >= SECRET_LIKE_LENGTH);
  if (longValues.some((secret) => visible.some((text) => text.includes(secret)))) {
    throw invalid(operation, "name, command or tags carry a value of env; pass secrets through env only");
  }
  return {
    entrypointArgs: spec.command,
    imageId: spec.imageId,
    secretIds,
    memoryMb: spec.memoryMiB,
    // The SDK truncates: cpu 0.125 → 125 milli-CPU.
    milliCpu: Math.trunc(spec.cpu * 1000),
    gpu: parseGpu(spec.gpu),
    timeoutSecs: spec.timeoutSeconds,
    regions,
    name: spec.name,
  };
}
