/**
 * Per-job sizing from `runs-on` labels, within the operator's limits:
 *
 *   runs-on: [self-hosted, modal, modal-cpu-8, modal-mem-32g, modal-gpu-l4]
 *
 * Keys (one label each, compared case-insensitively): `modal-cpu-<cores>` (decimals allowed), `modal-mem-<n>g`
 * (GiB) or `-<n>m` (MiB), `modal-gpu-<type>` or `-<type>x<count>`, `modal-timeout-<n>m` or `-<n>h`,
 * `modal-image-<alias>`, `modal-region-<region>`. A label shaped `modal-<key>-…` with another key, a second label for
 * one key, or a value out of bounds refuses the job: a guess would start the wrong machine, and a refusal says why.
 * Labels that are not ours (`modal` itself, `gpu`, `linux`) pass through untouched.
 */
import * as z from "zod/mini";
import type { SizingLimits } from "../config/dispatch.ts";

/**
 * Modal's GPU types (modal.com/docs/guide/gpu, December 2026), lower-case as written in a label. The list is the
 * one the Modal emulator accepts, so a job we size is never refused by Modal after its runner was registered.
 */
export const MODAL_GPU_TYPES = [
  "t4",
  "l4",
  "a10",
  "a10g",
  "a100-40gb",
  "a100-80gb",
  "l40s",
  "rtx-pro-6000",
  "h100",
  "h200",
  "b200",
] as const;
export type ModalGpuType = (typeof MODAL_GPU_TYPES)[number];
/** Modal attaches at most eight GPUs to one container... */
export const MAX_GPU_COUNT = 8;
/** ...and at most four of the A10 kind (A10G is the A10's older name). */
export function maxGpuCount(type: string): number {
  return type === "a10" || type === "a10g" ? 4 : MAX_GPU_COUNT;
}

export const SIZING_KEYS = ["cpu", "mem", "gpu", "timeout", "image", "region"] as const;
export type SizingKey = (typeof SIZING_KEYS)[number];

/** What the labels ask for; a setting left out takes the operator's default. */
export interface SizeRequest {
  cpu?: number;
  memoryMiB?: number;
  gpu?: { type: ModalGpuType; count: number };
  timeoutSeconds?: number;
  image?: string;
  region?: string;
}

/** The sandbox a job gets. */
export interface JobSize {
  cpu: number;
  memoryMiB: number;
  timeoutSeconds: number;
  /** Modal's form: `L4`, `H100:2`. */
  gpu: string | undefined;
  /** An image reference from RUNNER_IMAGES; undefined: the default runner image. */
  image: string | undefined;
  regions: string[] | undefined;
}

export interface Refusal {
  /** The label as the workflow wrote it. */
  label: string;
  reason: string;
  /** The variable that would allow it, when one would. */
  variable?: string;
}

export type SizingResult = { ok: true; size: JobSize; asked: boolean } | { ok: false; refusal: Refusal };

const OURS = /^modal-([a-z0-9]+)-(.+)$/;

const cores = z.pipe(
  z.string().check(z.regex(/^(?:\d{1,3})(?:\.\d{1,3})?$/, "cores must be a number such as 4 or 0.5")),
  z.transform(Number),
);
const memory = z.pipe(
  z.string().check(z.regex(/^\d{1,7}(?:\.\d{1,3})?[gm]$/, "memory must look like 32g (GiB) or 512m (MiB)")),
  z.transform((text) => {
    const amount = Number(text.slice(0, -1));
    return text.endsWith("g") ? amount * 1024 : amount;
  }),
);
const gpu = z.pipe(
  z.string().check(z.regex(/^[a-z0-9-]+?(?:x\d{1,2})?$/, "a GPU must look like l4 or h100x2")),
  z.transform((text) => {
    const match = /^(.+?)(?:x(\d{1,2}))?$/.exec(text);
    return { type: match?.[1] ?? text, count: Number(match?.[2] ?? "1") };
  }),
);
const duration = z.pipe(
  z.string().check(z.regex(/^\d{1,5}[mh]$/, "a timeout must look like 90m or 2h")),
  z.transform((text) => Number(text.slice(0, -1)) * (text.endsWith("h") ? 3600 : 60)),
);
const name = z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be a short lower-case name"));

function message(error: z.core.$ZodError): string {
  return error.issues[0]?.message ?? "is not valid";
}

/** Reads the sizing labels. Refuses on the first label that is not understood. */
export function parseSizingLabels(
  labels: readonly string[],
): { ok: true; request: SizeRequest; asked: boolean } | { ok: false; refusal: Refusal } {
  const seen = new Map<string, string>();
  const request: SizeRequest = {};
  for (const label of labels) {
    const match = OURS.exec(label.trim().toLowerCase());
    if (match === null) continue;
    const [, key = "", value = ""] = match;
    if (!SIZING_KEYS.some((known) => known === key)) {
      return {
        ok: false,
        refusal: { label, reason: `modal-${key}-… is not a sizing label (known: ${SIZING_KEYS.join(", ")})` },
      };
    }
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      return { ok: false, refusal: { label, reason: `a second ${key} label (the first is ${earlier})` } };
    }
    seen.set(key, label);
    const refuse = (reason: string) => ({ ok: false as const, refusal: { label, reason } });
    if (key === "cpu") {
      const parsed = cores.safeParse(value);
      if (!parsed.success) return refuse(message(parsed.error));
      if (!(parsed.data > 0)) return refuse("cores must be more than 0");
      request.cpu = parsed.data;
    } else if (key === "mem") {
      const parsed = memory.safeParse(value);
      if (!parsed.success) return refuse(message(parsed.error));
      if (!Number.isInteger(parsed.data) || parsed.data < 1)
        return refuse("memory must be a whole number of MiB");
      request.memoryMiB = parsed.data;
    } else if (key === "gpu") {
      const parsed = gpu.safeParse(value);
      if (!parsed.success) return refuse(message(parsed.error));
      const type = MODAL_GPU_TYPES.find((known) => known === parsed.data.type);
      if (type === undefined)
        return refuse(`${parsed.data.type} is not a Modal GPU (${MODAL_GPU_TYPES.join(", ")})`);
      if (parsed.data.count < 1 || parsed.data.count > maxGpuCount(type)) {
        return refuse(`a sandbox takes 1 to ${maxGpuCount(type)} ${type.toUpperCase()} GPUs`);
      }
      request.gpu = { type, count: parsed.data.count };
    } else if (key === "timeout") {
      const parsed = duration.safeParse(value);
      if (!parsed.success) return refuse(message(parsed.error));
      if (parsed.data < 60) return refuse("a timeout must be at least 1m");
      request.timeoutSeconds = parsed.data;
    } else {
      const parsed = name.safeParse(value);
      if (!parsed.success) return refuse(`the ${key} ${message(parsed.error)}`);
      if (key === "image") request.image = parsed.data;
      else request.region = parsed.data;
    }
  }
  return { ok: true, request, asked: seen.size > 0 };
}

/** The labels' request held to the operator's limits. */
export function sizeJob(labels: readonly string[], limits: SizingLimits): SizingResult {
  const parsed = parseSizingLabels(labels);
  if (!parsed.ok) return parsed;
  const { request } = parsed;
  const labelOf = (key: SizingKey) =>
    labels.find((label) => label.trim().toLowerCase().startsWith(`modal-${key}-`)) ?? `modal-${key}-…`;
  const refuse = (key: SizingKey, reason: string, variable: string): SizingResult => ({
    ok: false,
    refusal: { label: labelOf(key), reason, variable },
  });

  if (request.cpu !== undefined && request.cpu > limits.maxCpu) {
    return refuse(
      "cpu",
      `${request.cpu} cores is over MAX_SANDBOX_CPU (${limits.maxCpu})`,
      "MAX_SANDBOX_CPU",
    );
  }
  if (request.memoryMiB !== undefined && request.memoryMiB > limits.maxMemoryMiB) {
    return refuse(
      "mem",
      `${request.memoryMiB} MiB is over MAX_SANDBOX_MEMORY_MB (${limits.maxMemoryMiB})`,
      "MAX_SANDBOX_MEMORY_MB",
    );
  }
  if (request.timeoutSeconds !== undefined && request.timeoutSeconds > limits.maxTimeoutSeconds) {
    return refuse(
      "timeout",
      `${request.timeoutSeconds} s is over MAX_SANDBOX_TIMEOUT_SECONDS (${limits.maxTimeoutSeconds})`,
      "MAX_SANDBOX_TIMEOUT_SECONDS",
    );
  }
  let gpuSpec = limits.defaults.gpu;
  if (request.gpu !== undefined) {
    const allowed = limits.allowedGpus.get(request.gpu.type);
    if (allowed === undefined) {
      return refuse("gpu", `GPU ${request.gpu.type} is not in ALLOWED_GPUS`, "ALLOWED_GPUS");
    }
    if (request.gpu.count > allowed) {
      return refuse(
        "gpu",
        `${request.gpu.count} × ${request.gpu.type} is more than ALLOWED_GPUS allows (${allowed})`,
        "ALLOWED_GPUS",
      );
    }
    const type = request.gpu.type.toUpperCase();
    gpuSpec = request.gpu.count === 1 ? type : `${type}:${request.gpu.count}`;
  }
  let image: string | undefined;
  if (request.image !== undefined) {
    image = limits.images.get(request.image);
    if (image === undefined)
      return refuse("image", `image ${request.image} is not in RUNNER_IMAGES`, "RUNNER_IMAGES");
  }
  if (request.region !== undefined && !limits.allowedRegions.includes(request.region)) {
    return refuse("region", `region ${request.region} is not in ALLOWED_REGIONS`, "ALLOWED_REGIONS");
  }
  return {
    ok: true,
    asked: parsed.asked,
    size: {
      cpu: request.cpu ?? limits.defaults.cpu,
      memoryMiB: request.memoryMiB ?? limits.defaults.memoryMiB,
      timeoutSeconds: request.timeoutSeconds ?? limits.defaults.timeoutSeconds,
      gpu: gpuSpec,
      image,
      regions: request.region === undefined ? undefined : [request.region],
    },
  };
}

/** One line for the ledger, the log and the check run. */
export function describeRefusal(refusal: Refusal): string {
  const fix = refusal.variable === undefined ? "" : ` (${refusal.variable} allows it)`;
  return `runs-on label ${refusal.label} refused: ${refusal.reason}${fix}`;
}
