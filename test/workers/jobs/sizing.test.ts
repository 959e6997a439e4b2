import { describe, expect, it } from "vitest";
import type { SizingLimits } from "../../../src/config/dispatch.ts";
import { loadConfig } from "../../../src/config.ts";
import {
  describeRefusal,
  MODAL_GPU_TYPES,
  maxGpuCount,
  parseSizingLabels,
  sizeJob,
} from "../../../src/jobs/sizing.ts";
import { GPU_MAX_COUNT } from "../../emulators/modal/handlers-sandbox.ts";
import { withVars } from "../../support/vars.ts";

/** The limits unset, whatever the test Worker's own configuration allows (vitest.config.ts). */
const UNSET = {
  MAX_SANDBOX_CPU: "",
  MAX_SANDBOX_MEMORY_MB: "",
  MAX_SANDBOX_TIMEOUT_SECONDS: "",
  ALLOWED_GPUS: "",
  RUNNER_IMAGES: "",
  ALLOWED_REGIONS: "",
};

function limitsFrom(vars: Record<string, string>): SizingLimits {
  const config = loadConfig(withVars({ ...UNSET, ...vars }));
  if (!config.dispatch.ok) throw new Error(JSON.stringify(config.dispatch.problems));
  return config.dispatch.value.runner.sizing;
}

const GENEROUS = {
  MAX_SANDBOX_CPU: "16",
  MAX_SANDBOX_MEMORY_MB: "65536",
  MAX_SANDBOX_TIMEOUT_SECONDS: "21600",
  ALLOWED_GPUS: "l4,h100:2",
  RUNNER_IMAGES: "cuda=ghcr.io/acme/runner-cuda:12",
  ALLOWED_REGIONS: "us-east",
};

describe("sizing labels", () => {
  it("reads every key, case-insensitively, and leaves other labels alone", () => {
    const parsed = parseSizingLabels([
      "self-hosted",
      "modal",
      "Modal-CPU-0.5",
      "modal-mem-32g",
      "modal-gpu-a100-80gbx2",
      "modal-timeout-2h",
      "modal-image-cuda",
      "modal-region-us-east",
      "linux",
    ]);
    expect(parsed).toEqual({
      ok: true,
      asked: true,
      request: {
        cpu: 0.5,
        memoryMiB: 32768,
        gpu: { type: "a100-80gb", count: 2 },
        timeoutSeconds: 7200,
        image: "cuda",
        region: "us-east",
      },
    });
    expect(parseSizingLabels(["modal-mem-512m", "modal-timeout-90m"])).toMatchObject({
      request: { memoryMiB: 512, timeoutSeconds: 5400 },
    });
    expect(parseSizingLabels(["self-hosted", "modal"])).toEqual({ ok: true, asked: false, request: {} });
  });

  it.each([
    [["modal-cpu-8", "modal-cpu-4"], "modal-cpu-4", /second cpu label/],
    [["modal-disk-100g"], "modal-disk-100g", /not a sizing label/],
    [["modal-cpu-lots"], "modal-cpu-lots", /cores must be a number/],
    [["modal-cpu-0"], "modal-cpu-0", /more than 0/],
    [["modal-mem-32"], "modal-mem-32", /32g/],
    [["modal-gpu-v100"], "modal-gpu-v100", /not a Modal GPU/],
    [["modal-gpu-h100x9"], "modal-gpu-h100x9", /1 to 8 H100 GPUs/],
    // Modal attaches at most four A10s: refused here, before a runner is registered, not by Modal after.
    [["modal-gpu-a10gx5"], "modal-gpu-a10gx5", /1 to 4 A10G GPUs/],
    [["modal-timeout-30s"], "modal-timeout-30s", /90m or 2h/],
    [["modal-timeout-0m"], "modal-timeout-0m", /at least 1m/],
    [["modal-image-Bad!"], "modal-image-Bad!", /image must be/],
  ])("refuses %j", (labels, label, reason) => {
    const parsed = parseSizingLabels(labels);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.refusal.label).toBe(label);
    expect(parsed.refusal.reason).toMatch(reason);
  });
});

describe("sizeJob within the operator's limits", () => {
  it("gives a job that asks nothing the SANDBOX_* defaults", () => {
    expect(sizeJob(["self-hosted", "modal"], limitsFrom({ SANDBOX_GPU: "T4" }))).toEqual({
      ok: true,
      asked: false,
      size: {
        cpu: 2,
        memoryMiB: 4096,
        timeoutSeconds: 3600,
        gpu: "T4",
        image: undefined,
        regions: undefined,
      },
    });
  });

  it("gives exactly what was asked when the limits allow it", () => {
    const sized = sizeJob(
      ["modal-cpu-8", "modal-mem-32g", "modal-gpu-l4", "modal-image-CUDA", "modal-region-us-east"],
      limitsFrom(GENEROUS),
    );
    expect(sized).toEqual({
      ok: true,
      asked: true,
      size: {
        cpu: 8,
        memoryMiB: 32768,
        timeoutSeconds: 3600,
        gpu: "L4",
        image: "ghcr.io/acme/runner-cuda:12",
        regions: ["us-east"],
      },
    });
    expect(sizeJob(["modal-gpu-h100x2"], limitsFrom(GENEROUS))).toMatchObject({ size: { gpu: "H100:2" } });
    expect(
      sizeJob(["modal-gpu-rtx-pro-6000x2"], limitsFrom({ ...GENEROUS, ALLOWED_GPUS: "rtx-pro-6000:2" })),
    ).toMatchObject({ size: { gpu: "RTX-PRO-6000:2" } });
  });

  it("asks only for GPUs Modal attaches, in counts Modal allows (the emulator's list, from Modal's docs)", () => {
    for (const type of MODAL_GPU_TYPES) {
      expect([type, GPU_MAX_COUNT[type.toUpperCase()]]).toEqual([type, maxGpuCount(type)]);
    }
  });

  it("holds unset maxima to the defaults, and allows no GPU, image or region until an operator does", () => {
    const defaults = limitsFrom({});
    const cases: [string, string][] = [
      ["modal-cpu-4", "MAX_SANDBOX_CPU"],
      ["modal-mem-8g", "MAX_SANDBOX_MEMORY_MB"],
      ["modal-timeout-2h", "MAX_SANDBOX_TIMEOUT_SECONDS"],
      ["modal-gpu-t4", "ALLOWED_GPUS"],
      ["modal-image-cuda", "RUNNER_IMAGES"],
      ["modal-region-us-east", "ALLOWED_REGIONS"],
    ];
    for (const [label, variable] of cases) {
      const sized = sizeJob(["self-hosted", "modal", label], defaults);
      expect(sized.ok, label).toBe(false);
      if (sized.ok) continue;
      expect(sized.refusal).toMatchObject({ label, variable });
      expect(describeRefusal(sized.refusal)).toContain(`(${variable} allows it)`);
    }
    expect(sizeJob(["modal-cpu-1", "modal-mem-1g", "modal-timeout-10m"], defaults)).toMatchObject({
      ok: true,
      size: { cpu: 1, memoryMiB: 1024, timeoutSeconds: 600 },
    });
  });

  it("refuses more GPUs than ALLOWED_GPUS allows of a type", () => {
    const sized = sizeJob(["modal-gpu-l4x2"], limitsFrom(GENEROUS));
    expect(sized).toMatchObject({
      ok: false,
      refusal: { label: "modal-gpu-l4x2", variable: "ALLOWED_GPUS" },
    });
  });
});

describe("sizing variables", () => {
  it.each([
    ["ALLOWED_GPUS", "v100"],
    ["ALLOWED_GPUS", "h100:9"],
    ["ALLOWED_GPUS", "a10:8"],
    ["RUNNER_IMAGES", "cuda"],
    ["RUNNER_IMAGES", "a=x:1,a=y:2"],
    ["ALLOWED_REGIONS", "US East"],
    ["MAX_SANDBOX_CPU", "128"],
  ])("%s=%s is a configuration problem", (variable, value) => {
    const config = loadConfig(withVars({ [variable]: value }));
    expect(config.dispatch.ok).toBe(false);
    expect(config.problems.map((problem) => problem.variable)).toContain(variable);
  });

  it("refuses a maximum below its default", () => {
    const config = loadConfig(withVars({ SANDBOX_CPU: "8", MAX_SANDBOX_CPU: "4" }));
    expect(config.problems).toContainEqual({
      variable: "MAX_SANDBOX_CPU",
      message: "must be at least SANDBOX_CPU",
    });
  });
});
