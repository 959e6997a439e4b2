/** The Cloudflare Access emulator on a loopback socket (see emulator.ts for what it does, control.ts for its API). */
import { type LoopbackServer, serveOnLoopback } from "../loopback-server.ts";
import { createAccessEmulator } from "./emulator.ts";

export async function startAccessEmulator(
  options: { port?: number; host?: string; now?: () => number } = {},
): Promise<LoopbackServer> {
  const emulator = createAccessEmulator(options.now === undefined ? {} : { now: options.now });
  return serveOnLoopback((request) => emulator.handle(request), options);
}
