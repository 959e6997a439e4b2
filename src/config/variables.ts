/**
 * Parsers for one variable each. Every message is ours and names a rule, never a value. Empty strings count as
 * unset: the dashboard and `.dev.vars` both produce them.
 */
import * as z from "zod/mini";
import type { ConfigProblem, RepoPattern } from "../config.ts";
import { DEFAULT_REQUIRED_LABELS } from "../config.ts";

export const unset = (value: unknown) =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

/** A string variable, trimmed; empty counts as unset. */
export const text = (message: string) =>
  z.pipe(
    z.transform(unset),
    z.optional(
      z.pipe(
        z.string({ error: message }),
        z.transform((value) => value.trim()),
      ),
    ),
  );

export const required = (message = "is required") =>
  z.pipe(
    z.transform(unset),
    z.pipe(
      z.string({ error: message }),
      z.transform((value) => value.trim()),
    ),
  );

export const integer = (fallback: number, min: number, max: number) => {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return fallback;
      const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return fallback;
      }
      return parsed;
    }),
  );
};

export const decimal = (fallback: number, min: number, max: number) => {
  const message = `must be a number from ${min} to ${max}`;
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return fallback;
      const parsed = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
      if (!(parsed >= min && parsed <= max)) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return fallback;
      }
      return parsed;
    }),
  );
};

export const flag = (fallback: boolean) => {
  const message = "must be true or false";
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return fallback;
      const lower = value.toLowerCase();
      if (lower === "true" || lower === "1") return true;
      if (lower === "false" || lower === "0") return false;
      ctx.issues.push({ code: "custom", message, input: undefined });
      return fallback;
    }),
  );
};

export const httpsUrl = (message: string) =>
  z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return undefined;
      if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return undefined;
      }
      return value.replace(/\/+$/, "");
    }),
  );

const LABEL = /^[^,\s][^,]*$/;
export const labelList = () => {
  const message = "must be a comma-separated list of runner labels";
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return DEFAULT_REQUIRED_LABELS;
      const labels = value
        .split(",")
        .map((label) => label.trim())
        .filter((label) => label !== "");
      if (labels.length === 0 || labels.some((label) => !LABEL.test(label))) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return DEFAULT_REQUIRED_LABELS;
      }
      return labels;
    }),
  );
};

// GitHub's rules: owners are alphanumerics and single hyphens; repositories also allow `.` and `_`.
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^(?:[A-Za-z0-9._-]{1,100}|\*)$/;
export const repoPatterns = () => {
  const message = "must be a comma-separated list of owner/repo or owner/* entries";
  return z.pipe(
    text(message),
    z.transform((value, ctx): RepoPattern[] => {
      if (value === undefined) return [];
      const patterns: RepoPattern[] = [];
      for (const entry of value.split(",")) {
        const trimmed = entry.trim();
        if (trimmed === "") continue;
        const [owner = "", repo = "", extra] = trimmed.split("/");
        if (extra !== undefined || !OWNER.test(owner) || !REPO.test(repo)) {
          ctx.issues.push({ code: "custom", message, input: undefined });
          return [];
        }
        patterns.push({ owner, repo });
      }
      return patterns;
    }),
  );
};

/**
 * The oldest actions/runner release GitHub lets register or re-register. From GitHub's 2026 changelog on
 * self-hosted runner version enforcement: 2.329.0 or later, fully enforced from 25 September 2026 on github.com
 * (31 July on GHE.com with data residency), after brownouts. A pinned version below it is a configuration
 * problem, not a warning: GitHub would refuse every runner, so jobs wait in the ledger until RUNNER_VERSION is
 * fixed instead of failing one by one. (The other rule, a release at most 30 days behind the newest, cannot be
 * judged offline and is left to GitHub.)
 */
export const MIN_RUNNER_VERSION = "2.329.0";

const RUNNER_VERSION = /^v?(\d+)\.(\d+)\.(\d+)$/;

/** Whether `a` is older than `b`, both `major.minor.patch`. */
function olderVersion(a: string, b: string): boolean {
  const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
  for (let i = 0; i < 3; i++) {
    const difference = (x[i] ?? 0) - (y[i] ?? 0);
    if (difference !== 0) return difference < 0;
  }
  return false;
}

export const runnerVersion = () => {
  const message = "must be latest or a runner version such as 2.330.0";
  const tooOld = `is older than ${MIN_RUNNER_VERSION}, the oldest runner GitHub registers: use latest or ${MIN_RUNNER_VERSION} or newer`;
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined || value.toLowerCase() === "latest") return "latest";
      if (!RUNNER_VERSION.test(value)) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return "latest";
      }
      const version = value.replace(/^v/, "");
      if (olderVersion(version, MIN_RUNNER_VERSION)) {
        ctx.issues.push({ code: "custom", message: tooOld, input: undefined });
      }
      return version;
    }),
  );
};

export const hostname = () => {
  const message = "must be a host name such as github.example.com";
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return undefined;
      const host = value.replace(/^https?:\/\//, "").replace(/\/+$/, "");
      if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(host)) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return undefined;
      }
      return host;
    }),
  );
};

/** A whole number, or `unlimited` (no cap). 0 means what it says: no runner starts, every job waits. */
export const runnerCap = () => {
  const message = "must be a whole number from 0 to 100000, or unlimited";
  return z.pipe(
    text(message),
    z.transform((value, ctx): number | null => {
      if (value === undefined) return 50;
      if (value.toLowerCase() === "unlimited") return null;
      const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(parsed) || parsed > 100_000) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return 50;
      }
      return parsed;
    }),
  );
};

export const ENV_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const APP_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const pattern = (regex: RegExp, message: string, fallback?: string) =>
  z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return fallback;
      if (!regex.test(value)) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return fallback;
      }
      return value;
    }),
  );

export function problemsOf(error: z.core.$ZodError): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const variable = String(issue.path[0] ?? "configuration");
    // Our own messages name a rule; zod's fallback messages describe types. Neither carries the value.
    if (!problems.some((problem) => problem.variable === variable)) {
      problems.push({ variable, message: issue.message });
    }
  }
  return problems;
}

/** Whether a variable is set to something other than blanks. */
export function isSet(env: Env, name: keyof Env): boolean {
  const value: unknown = env[name];
  return typeof value === "string" && value.trim() !== "";
}

/** A comma-separated list split into trimmed, lower-cased, non-empty items; `[]` when unset. */
const list = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== "");

/** `ALLOWED_GPUS`: `l4,h100:2` → type → the most one job may ask for (1 unless given). */
export const gpuAllowList = (types: readonly string[], maxCount: (type: string) => number) => {
  const message = `must list Modal GPU types (${types.join(", ")}), each optionally with a count such as h100:2`;
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      const allowed = new Map<string, number>();
      for (const item of list(value)) {
        const [type = "", count = "1"] = item.split(":");
        const most = /^\d+$/.test(count) ? Number(count) : Number.NaN;
        if (!types.includes(type) || !(most >= 1 && most <= maxCount(type))) {
          ctx.issues.push({ code: "custom", message, input: undefined });
          return new Map<string, number>();
        }
        allowed.set(type, most);
      }
      return allowed;
    }),
  );
};

const ALIAS = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const IMAGE = /^[a-z0-9][a-z0-9._\-/:@]*$/i;
/** `RUNNER_IMAGES`: `cuda=ghcr.io/acme/runner-cuda:12,node=ghcr.io/acme/runner-node:22` → alias → image. */
export const imageMap = () => {
  const message = "must be alias=image pairs separated by commas, e.g. cuda=ghcr.io/acme/runner-cuda:12";
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      const images = new Map<string, string>();
      for (const item of (value ?? "").split(",").map((entry) => entry.trim())) {
        if (item === "") continue;
        const at = item.indexOf("=");
        const alias = item.slice(0, at).trim().toLowerCase();
        const image = item.slice(at + 1).trim();
        if (at < 1 || !ALIAS.test(alias) || !IMAGE.test(image) || images.has(alias)) {
          ctx.issues.push({ code: "custom", message, input: undefined });
          return new Map<string, string>();
        }
        images.set(alias, image);
      }
      return images;
    }),
  );
};

const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** `ALLOWED_REGIONS`: `us-east,eu-west` (Modal's region names). */
export const regionList = () => {
  const message = "must be Modal region names separated by commas, e.g. us-east,eu-west";
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      const regions = list(value);
      if (regions.some((region) => !REGION.test(region))) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return [];
      }
      return regions;
    }),
  );
};
