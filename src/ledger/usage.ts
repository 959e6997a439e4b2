/**
 * What a sandbox was given and what it used, in the units Modal bills: core-seconds, GiB-seconds and GPU-seconds
 * of each type. The ledger records each sandbox's size when it is requested and adds up these resource-seconds
 * per day; the status report prices them (src/status/report.ts). Sandbox seconds alone cannot be priced once jobs
 * ask for their own size: an 8-core H100 second costs some fifty times a default one.
 */
import * as z from "zod/mini";

export interface SandboxGpu {
  /** Modal's type, upper case: `L4`, `A100-80GB`. */
  type: string;
  count: number;
}

/** The size a sandbox was requested with; a job's own (`modal-*` labels) or the configured default. */
export interface SandboxSize {
  cpu: number;
  memoryMiB: number;
  gpu: SandboxGpu | null;
}

/** Modal's GPU form as SANDBOX_GPU or the sizing labels write it (`L4`, `h100:2`) → type and count. */
export function gpuOf(spec: string | undefined): SandboxGpu | null {
  if (spec === undefined || spec === "") return null;
  const [type = "", count = "1"] = spec.split(":");
  return { type: type.toUpperCase(), count: Number(count) };
}

/** A job's size (src/jobs/sizing.ts) or the configured default (`SANDBOX_*`), as the ledger keeps it. */
export function sandboxSizeOf(size: {
  cpu: number;
  memoryMiB: number;
  gpu: string | undefined;
}): SandboxSize {
  return { cpu: size.cpu, memoryMiB: size.memoryMiB, gpu: gpuOf(size.gpu) };
}

export interface Usage {
  /** Every sandbox second, sized or not. */
  sandboxSeconds: number;
  /**
   * Of those, the seconds of sandboxes whose size the ledger does not know (requested before it recorded sizes,
   * or strays it adopted): the report prices them at the configured default size.
   */
  unsizedSeconds: number;
  /** Core-seconds of the sized sandboxes. */
  cpuSeconds: number;
  memoryGibSeconds: number;
  /** GPU-seconds (GPUs × seconds) of the sized sandboxes, by type (upper case). */
  gpuSeconds: Record<string, number>;
}

/** The `daily.gpu_seconds` column: type → GPU-seconds. */
export const GpuSecondsSchema = z.record(z.string(), z.number());

export function emptyUsage(): Usage {
  return { sandboxSeconds: 0, unsizedSeconds: 0, cpuSeconds: 0, memoryGibSeconds: 0, gpuSeconds: {} };
}

/** `seconds` of one sandbox of `size`; null: a size not recorded. */
export function usageOf(size: SandboxSize | null, seconds: number): Usage {
  if (size === null) return { ...emptyUsage(), sandboxSeconds: seconds, unsizedSeconds: seconds };
  return {
    sandboxSeconds: seconds,
    unsizedSeconds: 0,
    cpuSeconds: size.cpu * seconds,
    memoryGibSeconds: (size.memoryMiB / 1024) * seconds,
    gpuSeconds: size.gpu === null ? {} : { [size.gpu.type]: size.gpu.count * seconds },
  };
}

export function addGpuSeconds(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): Record<string, number> {
  const sum: Record<string, number> = { ...a };
  for (const [type, seconds] of Object.entries(b)) sum[type] = (sum[type] ?? 0) + seconds;
  return sum;
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    sandboxSeconds: a.sandboxSeconds + b.sandboxSeconds,
    unsizedSeconds: a.unsizedSeconds + b.unsizedSeconds,
    cpuSeconds: a.cpuSeconds + b.cpuSeconds,
    memoryGibSeconds: a.memoryGibSeconds + b.memoryGibSeconds,
    gpuSeconds: addGpuSeconds(a.gpuSeconds, b.gpuSeconds),
  };
}
