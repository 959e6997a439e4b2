/**
 * A typed handle on one namespace of the launcher emulator, for tests (in workerd or Node): the launcher URL to
 * give a client, and the control API. Each test takes its own namespace so that test files can run in parallel.
 */
import * as z from "zod/mini";
import {
  type Failure,
  type RecordedCall,
  RecordedCallSchema,
  type SandboxState,
  SandboxStateSchema,
  type Settings,
} from "./control.ts";

const CallsSchema = z.object({ calls: z.array(RecordedCallSchema) });
const SandboxesSchema = z.object({ sandboxes: z.array(SandboxStateSchema) });

export interface LauncherEmulatorHandle {
  /** The launcher's base URL in this namespace: what MODAL_LAUNCHER_URL would be. */
  readonly url: string;
  settings(settings: Settings): Promise<void>;
  fail(failure: Failure | Failure[]): Promise<void>;
  /** Requests so far; `secrets: true` keeps `modal-secret`, env values and the raw body. */
  calls(options?: { route?: string; secrets?: boolean }): Promise<RecordedCall[]>;
  sandboxes(options?: { secrets?: boolean }): Promise<SandboxState[]>;
  finish(sandboxId: string): Promise<void>;
  reset(): Promise<void>;
}

export function launcherEmulator(emulatorUrl: string, namespace: string): LauncherEmulatorHandle {
  const url = `${emulatorUrl.replace(/\/+$/, "")}/ns/${namespace}`;
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${url}/_emulator/${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`launcher emulator ${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text);
  };
  const query = (entries: Record<string, string | undefined>) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(entries)) if (value !== undefined) params.set(key, value);
    const text = params.toString();
    return text === "" ? "" : `?${text}`;
  };
  return {
    url,
    async settings(settings) {
      await control("POST", "settings", settings);
    },
    async fail(failure) {
      await control("POST", "fail", failure);
    },
    async calls(options = {}) {
      const path = `calls${query({ route: options.route, secrets: options.secrets ? "true" : undefined })}`;
      return CallsSchema.parse(await control("GET", path)).calls;
    },
    async sandboxes(options = {}) {
      const path = `sandboxes${query({ secrets: options.secrets ? "true" : undefined })}`;
      return SandboxesSchema.parse(await control("GET", path)).sandboxes;
    },
    async finish(sandboxId) {
      await control("POST", `sandboxes/${sandboxId}/finish`);
    },
    async reset() {
      await control("POST", "reset");
    },
  };
}
