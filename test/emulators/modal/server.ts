/**
 * The Modal emulator as a plain Node HTTP/1.1 server (what the Worker's `fetch` speaks). All behaviour lives in
 * the runtime-neutral core (emulator.ts); this file only moves bytes, holds delayed answers and sends the
 * `grpc-status` trailer of a successful call the way a gRPC server does (chunked body, then trailers).
 */
import { type LoopbackServer, serveOnLoopback } from "../loopback-server.ts";
import { createModalEmulator, type ModalEmulator } from "./emulator.ts";

export type RunningEmulator = LoopbackServer;

export interface RunningModalEmulator extends RunningEmulator {
  emulator: ModalEmulator;
}

export async function startModalEmulator(
  options: { port?: number; host?: string; now?: () => number } = {},
): Promise<RunningModalEmulator> {
  const emulator = createModalEmulator(options.now === undefined ? {} : { now: options.now });
  const server = await serveOnLoopback((request) => emulator.handle(request), options);
  return { ...server, emulator };
}
