/**
 * The launcher emulator on a loopback socket, for now its own server; everything it does is in emulator.ts, which
 * can equally be mounted beside the Modal emulator.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { LauncherBackend } from "./handler.ts";
import { createLauncherEmulator, type LauncherEmulator } from "./emulator.ts";

export interface RunningLauncherEmulator {
  url: string;
  emulator: LauncherEmulator;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return new Uint8Array(Buffer.concat(chunks));
}

function lowerCaseHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
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
  const server = createServer(async (request, response) => {
    try {
      const answer = await emulator.handle({
        method: request.method ?? "GET",
        path: request.url ?? "/",
        headers: lowerCaseHeaders(request),
        body: await readBody(request),
      });
      if (answer.delayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
        // The client gave up (its timeout): nothing left to answer.
        if (response.destroyed || request.destroyed) return;
      }
      if (answer.drop === true) {
        request.socket.destroy();
        return;
      }
      response.writeHead(answer.status, { ...answer.headers, "content-length": String(answer.body.length) });
      response.end(answer.body);
    } catch (error) {
      if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" });
      response.end(`emulator error: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve),
  );
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("emulator did not bind a TCP port");
  const { port } = address satisfies AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    emulator,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
