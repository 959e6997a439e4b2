/**
 * The GitHub emulator on a loopback socket (see emulator.ts for what it does, control.ts for its control API).
 */
import { type LoopbackServer, serveOnLoopback } from "../loopback-server.ts";
import { createGitHubEmulator } from "./emulator.ts";

export type RunningEmulator = LoopbackServer;

const decoder = new TextDecoder();

export async function startGitHubEmulator(
  options: { port?: number; host?: string } = {},
): Promise<RunningEmulator> {
  const emulator = createGitHubEmulator();
  const host = options.host ?? "127.0.0.1";
  return serveOnLoopback(async (request) => {
    const response = await emulator.handle({
      method: request.method,
      url: `http://${request.headers.host ?? host}${request.path}`,
      headers: request.headers,
      body: decoder.decode(request.body),
    });
    if (response.kind === "drop")
      return { status: 0, headers: {}, body: "", drop: true, delayMs: response.delayMs };
    return {
      status: response.status,
      headers: response.headers,
      body: response.body,
      delayMs: response.delayMs,
    };
  }, options);
}
