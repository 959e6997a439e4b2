/**
 * One helper, `variable(parse, fallback, rule)`, makes a variable of a zod object from a parser of one string. Blanks
 * count as unset (the dashboard and `.dev.vars` both produce them) and get the fallback, which is each variable's
 * one default; a value the parser refuses (`undefined`) is reported by the rule, never with the value. `fields`
 * names the config field each variable is read into, so a section's type is inferred from its schema.
 */
import * as z from "zod/mini";
import type { ConfigProblem, Section } from "../config.ts";

/** A parser's refusal with a message of its own; as a fallback, the message for a variable that must be set. */
export class Problem {
  constructor(readonly message: string) {}
}

type Parse<T> = (value: string) => T | Problem | undefined;

export const variable = <T>(parse: Parse<T>, fallback: NoInfer<T> | Problem, rule: string) =>
  z.transform((raw: unknown, ctx): T => {
    const refuse = (message: string) => {
      ctx.issues.push({ code: "custom", message, input: undefined });
      return z.NEVER;
    };
    const value = typeof raw === "string" ? raw.trim() : raw;
    if (value === undefined || value === "")
      return fallback instanceof Problem ? refuse(fallback.message) : fallback;
    const parsed = typeof value === "string" ? parse(value) : undefined;
    if (parsed instanceof Problem) return refuse(parsed.message);
    return parsed === undefined ? refuse(rule) : parsed;
  });

/** A config field read from the variable of this name, or a constant (a mode's tag). */
type Field = readonly [variable: string, schema: z.core.$ZodType] | string;
type Fields<F> = {
  -readonly [K in keyof F]: F[K] extends readonly [string, infer S extends z.core.$ZodType]
    ? z.output<S>
    : F[K];
};

/**
 * A schema of `env` keyed by config field, `{ cpu: ["SANDBOX_CPU", decimal(2, 0.125, 64)] }`: problems are reported
 * by variable name, the output has the fields. `variables` lists the names, for the unknown-variable warning.
 */
export function fields<const F extends Record<string, Field>>(shape: F) {
  const entries = Object.entries(shape);
  const read = entries.flatMap(([, field]) => (typeof field === "string" ? [] : [field]));
  const schema = z.pipe(
    z.object(Object.fromEntries(read)),
    z.transform(
      (vars) =>
        // Object.fromEntries loses the keys; each value is the one its field names, so the mapped type holds.
        Object.fromEntries(
          entries.map(([key, field]) => [key, typeof field === "string" ? field : vars[field[0]]]),
        ) as Fields<F>,
    ),
  );
  return Object.assign(schema, { variables: read.map(([name]) => name) });
}

/** Schemas that each read all of `env`, as one: their values by key, or every problem of every one. */
export const all = <S extends Record<string, z.core.$ZodType>>(schemas: S) =>
  z.pipe(
    z.transform((env: unknown) => Object.fromEntries(Object.keys(schemas).map((key) => [key, env]))),
    z.object(schemas),
  );

/** Reads nothing: a mode that is off. */
export const none = z.transform((): undefined => undefined);

export const optional = <T>(parse: Parse<T>, rule: string) => variable<T | undefined>(parse, undefined, rule);
export const required = <T>(parse: Parse<T>, missing = "is required", rule = "must be a string") =>
  variable(parse, new Problem(missing), rule);

/** `env` through `schema`: its value, or every problem by variable name — values refused first, then unset ones. */
export function read<S extends z.core.$ZodType>(env: Env, schema: S): Section<z.output<S>> {
  const result = z.safeParse(schema, env);
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues.map(({ path, message }) => ({
    variable: String(path.at(-1)),
    message,
  }));
  const missing = (problem: ConfigProblem) => problem.message.startsWith("is required");
  return { ok: false, problems: [...problems.filter((p) => !missing(p)), ...problems.filter(missing)] };
}

/** Whether a variable is set to something other than blanks. */
export function isSet(env: Env, name: keyof Env): boolean {
  const value: unknown = env[name];
  return typeof value === "string" && value.trim() !== "";
}

export const text = (value: string) => value;
export const matching = (regex: RegExp) => (value: string) => (regex.test(value) ? value : undefined);
export const oneOf =
  <const T extends string>(...options: T[]) =>
  (value: string) =>
    options.find((option) => option === value);

const whole = (min: number, max: number) => (value: string) => {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(parsed) && parsed >= min && parsed <= max ? parsed : undefined;
};
export const integer = <T extends number | undefined>(fallback: T, min: number, max: number) =>
  variable<number | T>(whole(min, max), fallback, `must be a whole number from ${min} to ${max}`);

export const decimal = <T extends number | undefined>(fallback: T, min: number, max: number) =>
  variable<number | T>(
    (value) => {
      const parsed = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
      return parsed >= min && parsed <= max ? parsed : undefined;
    },
    fallback,
    `must be a number from ${min} to ${max}`,
  );

const FLAGS = new Map(Object.entries({ true: true, 1: true, false: false, 0: false }));
export const flag = (fallback: boolean) =>
  variable((value) => FLAGS.get(value.toLowerCase()), fallback, "must be true or false");

export const url = (value: string) =>
  URL.canParse(value) && /^https?:$/.test(new URL(value).protocol) ? value.replace(/\/+$/, "") : undefined;
export const httpsUrl = () => optional(url, "must be an http(s) URL");

export const host = (value: string) => {
  const name = value.replace(/^https?:\/\//, "").replace(/\/+$/, "");
  return /^[A-Za-z0-9.-]+(:\d+)?$/.test(name) ? name : undefined;
};
export const HOST_RULE = "must be a host name such as github.example.com";

/** A comma-separated list: each trimmed item (lower-cased unless told) through `item`; blanks skipped. */
const listOf =
  <T>(item: (value: string) => T | undefined, lower = true) =>
  (value: string) => {
    const items = value
      .split(",")
      .map((text) => (lower ? text.trim().toLowerCase() : text.trim()))
      .filter((text) => text !== "")
      .map(item);
    return items.every((parsed) => parsed !== undefined) ? items : undefined;
  };

export const labelList = (fallback: string[]) =>
  variable(
    (value) => {
      const labels = listOf(matching(/^[^,\s][^,]*$/), false)(value);
      return labels?.length === 0 ? undefined : labels;
    },
    fallback,
    "must be a comma-separated list of runner labels",
  );

export interface RepoPattern {
  owner: string;
  /** `*` matches every repository of the owner. */
  repo: string;
}

// GitHub's rules: owners are alphanumerics and single hyphens; repositories also allow `.` and `_`.
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^(?:[A-Za-z0-9._-]{1,100}|\*)$/;
const repoPattern = (entry: string): RepoPattern | undefined => {
  const [owner = "", repo = "", extra] = entry.split("/");
  return extra === undefined && OWNER.test(owner) && REPO.test(repo) ? { owner, repo } : undefined;
};
export const repoPatterns = () =>
  variable(listOf(repoPattern, false), [], "must be a comma-separated list of owner/repo or owner/* entries");

/**
 * The oldest actions/runner release GitHub lets register or re-register. From GitHub's 2026 changelog on
 * self-hosted runner version enforcement: 2.329.0 or later, fully enforced from 25 September 2026 on github.com
 * (31 July on GHE.com with data residency), after brownouts. A pinned version below it is a configuration
 * problem, not a warning: GitHub would refuse every runner, so jobs wait in the ledger until RUNNER_VERSION is
 * fixed instead of failing one by one. (The other rule, a release at most 30 days behind the newest, cannot be
 * judged offline and is left to GitHub.)
 */
export const MIN_RUNNER_VERSION = "2.329.0";

/** Whether `a` is older than `b`, both `major.minor.patch`. */
function olderVersion(a: string, b: string): boolean {
  const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
  const difference = x.map((part, i) => part - (y[i] ?? 0)).find((d) => d !== 0) ?? 0;
  return difference < 0;
}

export const runnerVersion = () =>
  variable(
    (value) => {
      if (value.toLowerCase() === "latest") return "latest";
      if (!/^v?(\d+)\.(\d+)\.(\d+)$/.test(value)) return undefined;
      const version = value.replace(/^v/, "");
      return olderVersion(version, MIN_RUNNER_VERSION)
        ? new Problem(
            `is older than ${MIN_RUNNER_VERSION}, the oldest runner GitHub registers: use latest or ${MIN_RUNNER_VERSION} or newer`,
          )
        : version;
    },
    "latest",
    "must be latest or a runner version such as 2.330.0",
  );

/** A whole number, or `unlimited` (no cap). 0 means what it says: no runner starts, every job waits. */
export const runnerCap = (fallback: number) =>
  variable<number | null>(
    (value) => (value.toLowerCase() === "unlimited" ? null : whole(0, 100_000)(value)),
    fallback,
    "must be a whole number from 0 to 100000, or unlimited",
  );

/** `ALLOWED_GPUS`: `l4,h100:2` → type → the most one job may ask for (1 unless given). */
export const gpuAllowList = (types: readonly string[], maxCount: (type: string) => number) =>
  variable(
    (value) => {
      const gpus = listOf((item): [string, number] | undefined => {
        const [type = "", count = "1"] = item.split(":");
        const most = whole(1, types.includes(type) ? maxCount(type) : 0)(count);
        return most === undefined ? undefined : [type, most];
      })(value);
      return gpus && new Map(gpus);
    },
    new Map<string, number>(),
    `must list Modal GPU types (${types.join(", ")}), each optionally with a count such as h100:2`,
  );

const ALIAS = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const IMAGE = /^[a-z0-9][a-z0-9._\-/:@]*$/i;
/** `RUNNER_IMAGES`: `cuda=ghcr.io/acme/runner-cuda:12,node=ghcr.io/acme/runner-node:22` → alias → image. */
export const imageMap = () =>
  variable(
    (value) => {
      const pairs = listOf((item): [string, string] | undefined => {
        const at = item.indexOf("=");
        const [alias, image] = [item.slice(0, at).trim().toLowerCase(), item.slice(at + 1).trim()];
        return at > 0 && ALIAS.test(alias) && IMAGE.test(image) ? [alias, image] : undefined;
      }, false)(value);
      const images = new Map(pairs);
      return pairs !== undefined && images.size === pairs.length ? images : undefined;
    },
    new Map<string, string>(),
    "must be alias=image pairs separated by commas, e.g. cuda=ghcr.io/acme/runner-cuda:12",
  );

/** `ALLOWED_REGIONS`: `us-east,eu-west` (Modal's region names). */
export const regionList = () =>
  variable(
    listOf(matching(/^[a-z0-9][a-z0-9-]{0,62}$/)),
    [],
    "must be Modal region names separated by commas, e.g. us-east,eu-west",
  );
