/** The operator section: who may see the status page and use /api, and the prices behind cost estimates. */
import * as z from "zod/mini";
import type { OperatorConfig, Section } from "../config.ts";
import {
  decimal,
  failed,
  HOST_RULE,
  host,
  httpsUrl,
  isSet,
  matching,
  optional,
  read,
  required,
  text,
} from "./variables.ts";

export const PRICES_AS_OF = "2026-06";
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

const OPERATOR = {
  STATUS_TOKEN: optional(matching(/^\S{20,}$/), "must be at least 20 characters without spaces"),
  MODAL_PRICE_CPU_CORE_SECOND: decimal(0.0000393, 0, 1),
  MODAL_PRICE_MEMORY_GIB_SECOND: decimal(0.00000222, 0, 1),
  MODAL_PRICE_GPU_SECOND: decimal(undefined, 0, 1),
  SANDBOX_GPU: optional(text, "must be a string"),
};

/** Cloudflare Access: both of its variables once either is set. */
const both = "is required with the other Cloudflare Access variable";
const ACCESS = {
  ACCESS_TEAM_DOMAIN: required(host, both, HOST_RULE),
  ACCESS_AUD: required(
    matching(/^[A-Za-z0-9]{16,128}$/),
    both,
    "must be the Access application's audience (AUD) tag",
  ),
  ACCESS_CERTS_URL: httpsUrl(),
};

const Access = z.pipe(
  z.object(ACCESS),
  z.transform((vars): OperatorConfig["access"] => {
    const team = vars.ACCESS_TEAM_DOMAIN.includes(".")
      ? vars.ACCESS_TEAM_DOMAIN
      : `${vars.ACCESS_TEAM_DOMAIN}.cloudflareaccess.com`;
    const certsUrl = vars.ACCESS_CERTS_URL ?? `https://${team}/cdn-cgi/access/certs`;
    return { teamDomain: team, audience: vars.ACCESS_AUD, certsUrl };
  }),
);

export const OPERATOR_VARIABLES = [...Object.keys(OPERATOR), ...Object.keys(ACCESS)];

export function operatorSection(env: Env): Section<OperatorConfig> {
  const parsed = read(env, z.object(OPERATOR));
  const access = isSet(env, "ACCESS_TEAM_DOMAIN") || isSet(env, "ACCESS_AUD") ? read(env, Access) : undefined;
  if (!parsed.ok || access?.ok === false) return failed(access, parsed);
  const vars = parsed.value;
  const [type = "", count = "1"] = vars.SANDBOX_GPU?.split(":") ?? [];
  const gpuPrice = vars.MODAL_PRICE_GPU_SECOND ?? GPU_SECOND[type.toUpperCase()] ?? 0;
  const configured = [
    "MODAL_PRICE_CPU_CORE_SECOND",
    "MODAL_PRICE_MEMORY_GIB_SECOND",
    "MODAL_PRICE_GPU_SECOND",
  ] as const;
  return {
    ok: true,
    value: {
      statusToken: vars.STATUS_TOKEN,
      access: access?.value,
      prices: {
        cpuCoreSecond: vars.MODAL_PRICE_CPU_CORE_SECOND,
        memoryGibSecond: vars.MODAL_PRICE_MEMORY_GIB_SECOND,
        gpuSecond: vars.SANDBOX_GPU === undefined ? 0 : gpuPrice * Number(count),
        asOf: configured.some((name) => isSet(env, name)) ? "configured" : PRICES_AS_OF,
      },
    },
  };
}
