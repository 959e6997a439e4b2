/**
 * A `LauncherBackend` in memory: what Modal does for the launcher, as far as the launcher can tell — apps created
 * on lookup (in environments the workspace has), sandbox names unique among an app's running sandboxes, tag
 * filters, listing newest first. Sandboxes
 * keep their `env` so that tests can check the JIT config arrived (the control API hides it unless asked).
 */
import { type LauncherBackend, LauncherBackendError, type SandboxCreateInput } from "./handler.ts";

export interface MemorySandbox extends SandboxCreateInput {
  sandboxId: string;
  running: boolean;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

export interface MemoryBackend extends LauncherBackend {
  sandboxes(): MemorySandbox[];
  /** `environment/name` or `name` of every app looked up. */
  apps(): string[];
  /** As if the sandbox's process ended: it stops counting as running and frees its name. */
  finish(sandboxId: string): boolean;
}

const appKey = (environment: string | null, appName: string) =>
  environment === null ? appName : `${environment}/${appName}`;

export function createMemoryBackend(options: {
  now: () => number;
  /** Whether the workspace has this environment (null: its default one, which it always has). */
  hasEnvironment?: (environment: string) => boolean;
}): MemoryBackend {
  const apps = new Set<string>();
  const sandboxes = new Map<string, MemorySandbox>();
  let counter = 0;
  const running = (environment: string | null, appName: string) =>
    [...sandboxes.values()].filter(
      (sandbox) =>
        sandbox.running && appKey(sandbox.environment, sandbox.appName) === appKey(environment, appName),
    );

  return {
    async lookupApp(environment, appName) {
      if (environment !== null && options.hasEnvironment?.(environment) === false) {
        throw new LauncherBackendError("modal_rejected", `Environment '${environment}' not found`);
      }
      apps.add(appKey(environment, appName));
    },
    async createSandbox(input) {
      if (running(input.environment, input.appName).some((sandbox) => sandbox.name === input.name))
        return "name_taken";
      counter += 1;
      const sandboxId = `sb-launcher${String(counter).padStart(12, "0")}`;
      sandboxes.set(sandboxId, { ...input, sandboxId, running: true, createdAt: options.now() });
      return { sandboxId };
    },
    async findSandbox(environment, appName, name) {
      return running(environment, appName).find((sandbox) => sandbox.name === name)?.sandboxId;
    },
    async listSandboxes(environment, appName, tags) {
      return running(environment, appName)
        .filter((sandbox) => Object.entries(tags).every(([key, value]) => sandbox.tags[key] === value))
        .reverse()
        .map((sandbox) => ({ sandboxId: sandbox.sandboxId, tags: { ...sandbox.tags } }));
    },
    async terminateSandbox(sandboxId) {
      const sandbox = sandboxes.get(sandboxId);
      if (sandbox === undefined) return false;
      sandbox.running = false;
      return true;
    },
    sandboxes: () => [...sandboxes.values()].map((sandbox) => ({ ...sandbox })),
    apps: () => [...apps],
    finish(sandboxId) {
      const sandbox = sandboxes.get(sandboxId);
      if (sandbox === undefined) return false;
      sandbox.running = false;
      return true;
    },
  };
}
