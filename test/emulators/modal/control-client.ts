/**
 * A typed client of the emulator's control API for tests (runtime-neutral: plain `fetch`, usable from workerd
 * and Node). `modalEmulator(base, "my-test")` gives the namespace's gRPC base URL and its controls.
 */
import * as z from "zod/mini";
import type { FailRule } from "./state.ts";

/** A failure rule as the control API takes it: `count` defaults to 1. */
export type FailRuleInput = Omit<FailRule, "count"> & { count?: number };

const CallSchema = z.object({
  seq: z.number(),
  method: z.string(),
  headers: z.record(z.string(), z.string()),
  request: z.nullable(z.record(z.string(), z.unknown())),
  raw: z.string(),
  grpcCode: z.number(),
  httpStatus: z.number(),
  injected: z.boolean(),
});
export type EmulatorCall = z.infer<typeof CallSchema>;

const SandboxSchema = z.object({
  id: z.string(),
  version: z.number(),
  appId: z.string(),
  name: z.optional(z.string()),
  tags: z.record(z.string(), z.string()),
  definition: z.record(z.string(), z.unknown()),
  env: z.record(z.string(), z.string()),
  createdAt: z.number(),
  timeoutSecs: z.number(),
  resources: z.object({
    milliCpu: z.number(),
    memoryMb: z.number(),
    gpu: z.optional(z.object({ type: z.string(), count: z.number() })),
  }),
  regions: z.array(z.string()),
  result: z.optional(z.object({ status: z.number(), exitcode: z.number() })),
});
export type EmulatorSandbox = z.infer<typeof SandboxSchema>;

/** A recorded GPU config (type and count, as on the wire) in the SDK's string form: `L4`, `H100:2`; null for none. */
export function gpuString(gpu: EmulatorSandbox["resources"]["gpu"]): string | null {
  if (gpu === undefined) return null;
  return gpu.count > 1 ? `${gpu.type}:${gpu.count}` : gpu.type;
}

export function modalEmulator(baseUrl: string, namespace: string) {
  const url = `${baseUrl}/ns/${namespace}`;
  const control = async (method: "GET" | "POST", operation: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${url}/_emulator/${operation}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const json: unknown = await response.json();
    if (!response.ok) throw new Error(`emulator ${operation}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    /** The namespace's server URL, to give a client as `serverUrl`. */
    url,
    calls: async (method?: string): Promise<EmulatorCall[]> =>
      z
        .array(CallSchema)
        .parse(await control("GET", method === undefined ? "calls" : `calls?method=${method}`)),
    fail: (rule: FailRuleInput) => control("POST", "fail", rule),
    delay: (method: string, ms: number, count?: number) => control("POST", "delay", { method, ms, count }),
    reset: () => control("POST", "reset", {}),
    image: (settings: { buildPolls?: number; outcome?: number; exception?: string }) =>
      control("POST", "image", settings),
    settings: (settings: {
      tokenLifetimeSeconds?: number;
      listPageSize?: number;
      imageBuilderVersion?: string;
    }) => control("POST", "settings", settings),
    credentials: (tokenId: string, tokenSecret: string) =>
      control("POST", "credentials", { tokenId, tokenSecret }),
    environment: (name: string) => control("POST", "environments", { name }),
    sandboxes: async (): Promise<EmulatorSandbox[]> =>
      z.array(SandboxSchema).parse(await control("GET", "sandboxes")),
    finish: (sandboxId: string, status = 1, exitcode = 0) =>
      control("POST", `sandboxes/${sandboxId}/finish`, { status, exitcode }),
  };
}

export type ModalEmulatorControl = ReturnType<typeof modalEmulator>;
