/** The operator section: who may see the status page and use /api, and the prices behind cost estimates. */
import * as z from "zod/mini";
import type { Section } from "../config.ts";
import * as v from "./variables.ts";

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

/** A bearer token for /status and /api (secret); used when Cloudflare Access is not configured. */
const TOKEN = v.fields({
  statusToken: [
    "STATUS_TOKEN",
    v.optional(v.matching(/^\S{20,}$/), "must be at least 20 characters without spaces"),
  ],
});

const PRICES = v.fields({
  cpu: ["MODAL_PRICE_CPU_CORE_SECOND", v.decimal(undefined, 0, 1)],
  memory: ["MODAL_PRICE_MEMORY_GIB_SECOND", v.decimal(undefined, 0, 1)],
  gpu: ["MODAL_PRICE_GPU_SECOND", v.decimal(undefined, 0, 1)],
  sandboxGpu: ["SANDBOX_GPU", v.optional(v.text, "must be a string")],
});
/** USD per second, for cost estimates only (Modal's bill is the truth). */
const Prices = z.pipe(
  PRICES,
  z.transform(({ cpu, memory, gpu, sandboxGpu }) => {
    const [type = "", count = "1"] = sandboxGpu?.split(":") ?? [];
    const gpuPrice = gpu ?? GPU_SECOND[type.toUpperCase()] ?? 0;
    // MODAL_PRICE_GPU_SECOND is the price of SANDBOX_GPU's type (its meaning before jobs could ask for other
    // GPUs); every other type a `modal-gpu-*` label asks for is priced off Modal's list.
    const gpuSecondByType: Record<string, number> =
      gpu === undefined || sandboxGpu === undefined
        ? { ...GPU_SECOND }
        : { ...GPU_SECOND, [type.toUpperCase()]: gpu };
    return {
      cpuCoreSecond: cpu ?? 0.0000393,
      memoryGibSecond: memory ?? 0.00000222,
      /** All of SANDBOX_GPU's GPUs (the configured type and count), per second; 0 when SANDBOX_GPU is unset. */
      gpuSecond: sandboxGpu === undefined ? 0 : gpuPrice * Number(count),
      /**
       * USD per GPU-second by type (upper case, as src/ledger/usage.ts keeps it); a type not listed has no known
       * price, and the estimate says it leaves it out.
       */
      gpuSecondByType,
      /** When the defaults were read off Modal's price list, or `configured`. */
      asOf: [cpu, memory, gpu].some((price) => price !== undefined) ? "configured" : PRICES_AS_OF,
    };
  }),
);
export type ModalPrices = z.output<typeof Prices>;

/** Cloudflare Access: the team's domain and the application's audience tag; both once either is set. */
const both = "is required with the other Cloudflare Access variable";
const ACCESS = v.fields({
  team: ["ACCESS_TEAM_DOMAIN", v.required(v.host, both, v.HOST_RULE)],
  audience: [
    "ACCESS_AUD",
    v.required(
      v.matching(/^[A-Za-z0-9]{16,128}$/),
      both,
      "must be the Access application's audience (AUD) tag",
    ),
  ],
  certsUrl: ["ACCESS_CERTS_URL", v.httpsUrl()],
});
const Access = z.pipe(
  ACCESS,
  z.transform(({ team, audience, certsUrl }) => {
    const teamDomain = team.includes(".") ? team : `${team}.cloudflareaccess.com`;
    return { teamDomain, audience, certsUrl: certsUrl ?? `https://${teamDomain}/cdn-cgi/access/certs` };
  }),
);

export const OPERATOR_VARIABLES = [TOKEN, PRICES, ACCESS].flatMap((group) => group.variables);

/** Who may see the status page and use /api, and what a sandbox second costs (for estimates). */
export interface OperatorConfig {
  statusToken: string | undefined;
  access: z.output<typeof Access> | undefined;
  prices: ModalPrices;
}

export function operatorSection(env: Env): Section<OperatorConfig> {
  const access = v.isSet(env, "ACCESS_TEAM_DOMAIN") || v.isSet(env, "ACCESS_AUD") ? Access : v.none;
  const parsed = v.read(env, v.all({ access, token: TOKEN, prices: Prices }));
  if (!parsed.ok) return parsed;
  const { token, ...operator } = parsed.value;
  return { ok: true, value: { ...operator, statusToken: token.statusToken } };
}
