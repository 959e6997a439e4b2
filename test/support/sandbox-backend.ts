/**
 * The Modal side of a test, whichever adapter the project's Worker uses: the Modal emulator for the direct gRPC
 * client, the launcher emulator for the launcher client. Dispatch tests speak to this facade, so the same tests
 * prove both adapters behind the one `SandboxProvider` port.
 */
import { inject } from "vitest";
import { DEFAULT_LAUNCHER_SECRET } from "../emulators/launcher/control.ts";
import { launcherEmulator } from "../emulators/launcher/control-client.ts";
import { gpuString, modalEmulator } from "../emulators/modal/control-client.ts";
import { TEST_PROXY_TOKEN } from "./credentials.ts";
import type { Vars } from "./vars.ts";

export interface SandboxView {
  id: string;
  name: string;
  tags: Record<string, string>;
  /** With values: tests check the JIT config arrived. */
  env: Record<string, string>;
  image: string;
  cpu: number;
  memoryMiB: number;
  timeoutSeconds: number;
  /** Modal's GPU string as the SDK writes it (`L4`, `H100:2`), or null for none. */
  gpu: string | null;
  /** Where Modal may place it; empty: anywhere. */
  regions: string[];
  command: string[];
  /** Still running (not finished, timed out or terminated). */
  running: boolean;
}

export interface StartCall {
  ok: boolean;
  /** The request as recorded, for "the JIT config is only in the secret part" checks. */
  publicPart: string;
}

export interface SandboxBackend {
  adapter: "direct" | "launcher";
  /** Variables that point a Worker at this namespace. */
  vars: Vars;
  /** The URL suffix of the call that starts a sandbox. */
  startPath: string;
  sandboxes(): Promise<SandboxView[]>;
  startCalls(runnerName: string): Promise<StartCall[]>;
  /** How many times the app and the image were looked up. */
  setupCalls(): Promise<{ app: number; image: number }>;
  /** Sandbox ids we asked Modal to terminate (successful calls), in order. */
  terminated(): Promise<string[]>;
  /** As if the sandbox's process ended on its own (the runner exited, or crashed). */
  finish(sandboxId: string): Promise<void>;
  /**
   * The next `count` starts of `runnerName` fail: transient (Modal unavailable), out of capacity (gRPC
   * RESOURCE_EXHAUSTED; the launcher's `modal_capacity` 429) or for good (invalid request).
   */
  failStart(rule: {
    kind: "unavailable" | "capacity" | "invalid";
    runnerName?: string;
    count?: number;
    message?: string;
  }): Promise<void>;
}

export function sandboxBackend(namespace: string, adapter = inject("sandboxAdapter")): SandboxBackend {
  return adapter === "launcher" ? launcherBackend(namespace) : directBackend(namespace);
}

function directBackend(namespace: string): SandboxBackend {
  const modal = modalEmulator(inject("modalEmulatorUrl"), namespace);
  const creates = new Set(["SandboxCreateV2", "SandboxCreate"]);
  return {
    adapter: "direct",
    vars: { MODAL_SERVER_URL: modal.url, MODAL_LAUNCHER_URL: "" },
    startPath: "/SandboxCreateV2",
    async sandboxes() {
      return (await modal.sandboxes()).map((sandbox) => {
        const resources = field(sandbox.definition, "resources");
        const number = (key: string) => Number(field(resources, key) ?? Number.NaN);
        const args = field(sandbox.definition, "entrypoint_args");
        return {
          id: sandbox.id,
          name: sandbox.name ?? "",
          tags: sandbox.tags,
          env: sandbox.env,
          image: String(field(sandbox.definition, "image_id")),
          cpu: number("milli_cpu") / 1000,
          memoryMiB: number("memory_mb"),
          timeoutSeconds: sandbox.timeoutSecs,
          gpu: gpuString(sandbox.resources.gpu),
          regions: sandbox.regions,
          command: Array.isArray(args) ? args.map(String) : [],
          running: sandbox.result === undefined,
        };
      });
    },
    async terminated() {
      return (await modal.calls())
        .filter((call) => call.method.startsWith("SandboxTerminate") && call.grpcCode === 0)
        .map((call) => String(field(call.request, "sandbox_id")));
    },
    async finish(sandboxId) {
      await modal.finish(sandboxId);
    },
    async startCalls(runnerName) {
      return (await modal.calls())
        .filter((call) => creates.has(call.method) && JSON.stringify(call.request).includes(runnerName))
        .map((call) => {
          const { secret_sources: _secret, ...publicPart } = call.request ?? {};
          return { ok: call.grpcCode === 0, publicPart: JSON.stringify(publicPart) };
        });
    },
    async setupCalls() {
      const calls = await modal.calls();
      return {
        app: calls.filter((call) => call.method === "AppGetOrCreate").length,
        image: calls.filter((call) => call.method === "ImageGetOrCreate").length,
      };
    },
    async failStart({ kind, runnerName, count, message }) {
      await modal.fail({
        method: "SandboxCreateV2",
        grpcCode: { unavailable: 14, capacity: 8, invalid: 3 }[kind],
        grpcMessage:
          message ??
          { unavailable: "try again", capacity: "too many sandboxes", invalid: "invalid request" }[kind],
        count: count ?? 1,
        ...(runnerName === undefined ? {} : { match: runnerName }),
      });
    },
  };
}

function launcherBackend(namespace: string): SandboxBackend {
  const launcher = launcherEmulator(inject("launcherEmulatorUrl"), namespace);
  return {
    adapter: "launcher",
    vars: {
      MODAL_LAUNCHER_URL: launcher.url,
      MODAL_PROXY_TOKEN_ID: TEST_PROXY_TOKEN.id,
      MODAL_PROXY_TOKEN_SECRET: TEST_PROXY_TOKEN.secret,
      LAUNCHER_SECRET: DEFAULT_LAUNCHER_SECRET,
    },
    startPath: "/start",
    async sandboxes() {
      return (await launcher.sandboxes({ secrets: true }))
        .filter((sandbox) => sandbox.running)
        .map((sandbox) => ({
          id: sandbox.sandboxId,
          name: sandbox.name,
          tags: sandbox.tags,
          env: sandbox.env,
          image: sandbox.image,
          cpu: sandbox.cpu,
          memoryMiB: sandbox.memoryMiB,
          timeoutSeconds: sandbox.timeoutSeconds,
          gpu: sandbox.gpu,
          regions: sandbox.regions ?? [],
          command: sandbox.command,
          running: sandbox.running,
        }));
    },
    async terminated() {
      return (await launcher.calls({ route: "terminate" }))
        .filter((call) => call.status === 200)
        .map((call) => String(field(call.body, "sandbox_id")));
    },
    async finish(sandboxId) {
      await launcher.finish(sandboxId);
    },
    async startCalls(runnerName) {
      return (await launcher.calls({ route: "start", secrets: true }))
        .filter((call) => (call.rawBody ?? "").includes(runnerName))
        .map((call) => {
          const body = call.body;
          const publicPart =
            typeof body === "object" && body !== null
              ? Object.entries(body).filter(([key]) => key !== "env")
              : [];
          return { ok: call.status === 200, publicPart: JSON.stringify(Object.fromEntries(publicPart)) };
        });
    },
    async setupCalls() {
      const calls = await launcher.calls();
      return {
        app: calls.filter((call) => call.path === "/app").length,
        image: calls.filter((call) => call.path === "/image").length,
      };
    },
    async failStart({ kind, runnerName, count }) {
      await launcher.fail({
        route: "start",
        reason: { unavailable: "modal_unavailable", capacity: "modal_capacity", invalid: "modal_rejected" }[
          kind
        ],
        count: count ?? 1,
        ...(runnerName === undefined ? {} : { match: runnerName }),
      });
    },
  };
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? Reflect.get(value, key) : undefined;
}

/** The runner id inside an encoded JIT config (base64 JSON whose `.runner` file is base64 JSON too). */
export function runnerIdInJitConfig(encoded: string): number {
  const runner: unknown = JSON.parse(atob(String(field(JSON.parse(atob(encoded)), ".runner"))));
  return Number(field(runner, "agentId") ?? Number.NaN);
}
