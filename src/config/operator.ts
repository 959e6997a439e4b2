/** The operator section: who may see the status page and use /api, and the prices behind cost estimates. */
import * as z from "zod/mini";
import type { OperatorConfig, Section } from "../config.ts";
import { decimal, hostname, httpsUrl, isSet, pattern, problemsOf, text } from "./variables.ts";

export const PRICES_AS_OF = "2026-06";
const DEFAULT_CPU_CORE_SECOND = 0.0000393;
const DEFAULT_MEMORY_GIB_SECOND = 0.00000222;
const GPU_SECOND: Record<string, number> = {
  T4: 0.000164,
  L4: 0.000222,
  A10G: 0.000306,
  A10: 0.000306,
  L40S: 0.000542,
  "A100-40GB": 0.000583,
  A100: 0.000583,
  "A100-80GB": 0.000694,
  H100: 0.001097,
  H200: 0.001261,
  B200: 0.001736,
};

export const OperatorEnvSchema = z.object({
  STATUS_TOKEN: pattern(/^\S{20,}$/, "must be at least 20 characters without spaces"),
  ACCESS_TEAM_DOMAIN: hostname(),
  ACCESS_AUD: pattern(/^[A-Za-z0-9]{16,128}$/, "must be the Access application's audience (AUD) tag"),
  ACCESS_CERTS_URL: httpsUrl("must be an http(s) URL"),
  MODAL_PRICE_CPU_CORE_SECOND: decimal(DEFAULT_CPU_CORE_SECOND, 0, 1),
  MODAL_PRICE_MEMORY_GIB_SECOND: decimal(DEFAULT_MEMORY_GIB_SECOND, 0, 1),
  MODAL_PRICE_GPU_SECOND: decimal(-1, 0, 1),
  SANDBOX_GPU: text("must be a string"),
});

export function operatorSection(env: Env): Section<OperatorConfig> {
  const parsed = OperatorEnvSchema.safeParse(env);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  const set = (name: keyof Env) => isSet(env, name);
  if (set("ACCESS_TEAM_DOMAIN") !== set("ACCESS_AUD")) {
    const missing = set("ACCESS_TEAM_DOMAIN") ? "ACCESS_AUD" : "ACCESS_TEAM_DOMAIN";
    problems.push({ variable: missing, message: "is required with the other Cloudflare Access variable" });
  }
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  const vars = parsed.data;
  const gpu = vars.SANDBOX_GPU?.split(":");
  const gpuCount = Number(gpu?.[1] ?? "1");
  const configured =
    vars.MODAL_PRICE_GPU_SECOND >= 0 ||
    set("MODAL_PRICE_CPU_CORE_SECOND") ||
    set("MODAL_PRICE_MEMORY_GIB_SECOND");
  const gpuSecond =
    gpu === undefined
      ? 0
      : (vars.MODAL_PRICE_GPU_SECOND >= 0
          ? vars.MODAL_PRICE_GPU_SECOND
          : (GPU_SECOND[gpu[0]?.toUpperCase() ?? ""] ?? 0)) * gpuCount;
  const team = vars.ACCESS_TEAM_DOMAIN;
  return {
    ok: true,
    value: {
      statusToken: vars.STATUS_TOKEN,
      access:
        team === undefined || vars.ACCESS_AUD === undefined
          ? undefined
          : {
              teamDomain: team.includes(".") ? team : `${team}.cloudflareaccess.com`,
              audience: vars.ACCESS_AUD,
              certsUrl:
                vars.ACCESS_CERTS_URL ??
                `https://${team.includes(".") ? team : `${team}.cloudflareaccess.com`}/cdn-cgi/access/certs`,
            },
      prices: {
        cpuCoreSecond: vars.MODAL_PRICE_CPU_CORE_SECOND,
        memoryGibSecond: vars.MODAL_PRICE_MEMORY_GIB_SECOND,
        gpuSecond,
        asOf: configured ? "configured" : PRICES_AS_OF,
      },
    },
  };
}
