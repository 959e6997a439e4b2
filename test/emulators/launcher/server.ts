/**
 * The launcher emulator on a loopback socket, for now its own server; everything it does is in emulator.ts, which
 * can equally be mounted beside the Modal emulator.
 */
import { type LoopbackServer, serveOnLoopback } from "../loopback-server.ts";
import { createLauncherEmulator, type LauncherEmulator } from "./emulator.ts";
import type { LauncherBackend } from "./handler.ts";

export interface RunningLauncherEmulator extends LoopbackServer {
  emulator: LauncherEmulator;
}

export async function startLauncherEmulator(
  options: {
    port?: number;
    host?: string;
    now?: () => number;
    backendFor?: (namespace: string) => LauncherBackend;
  } = {},
): Promise<RunningLauncherEmulator> {
  const emulator = createLauncherEmulator({
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.backendFor === undefined ? {} : { backendFor: options.backendFor }),
  });
  const server = await serveOnLoopback((request) => emulator.handle(request), options);
  return { ...server, emulator };
}
