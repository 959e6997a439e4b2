/**
 * The Modal emulator as a plain Node HTTP/1.1 server (what the Worker's `fetch` speaks). All behaviour lives in
 * the runtime-neutral core (emulator.ts); this file only moves bytes, holds delayed answers and sends the
 * `grpc-status` trailer of a successful call the way a gRPC server does (chunked body, then trailers).
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { createModalEmulator, type ModalEmulator } from "./emulator.ts";

export interface RunningEmulator {
  url: string;
  close(): Promise<void>;
}

export interface RunningModalEmulator extends RunningEmulator {
  emulator: ModalEmulator;
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

export async function startModalEmulator(
  options: { port?: number; host?: string; now?: () => number } = {},
): Promise<RunningModalEmulator> {
  const emulator = createModalEmulator(options.now === undefined ? {} : { now: options.now });
  const server = createServer(async (request, response) => {
    try {
      const body = await readBody(request);
      const answer = emulator.handle({
        method: request.method ?? "GET",
        path: request.url ?? "/",
        headers: lowerCaseHeaders(request),
        body,
      });
      if (answer.delayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
        // The client gave up (its timeout): nothing left to answer.
        if (response.destroyed || request.destroyed) return;
      }
      if (answer.trailers !== undefined) {
        // `connection: close`: local workerd (kj-http, 2026-04-26 build) does not consume HTTP/1.1 trailers, so
        // the next response read from a kept-alive connection starts inside them and fails ("Invalid response
        // status line"). Closing after a trailer keeps what a gRPC server sends without tripping that bug.
        response.writeHead(answer.status, {
          ...answer.headers,
          trailer: Object.keys(answer.trailers).join(", "),
          connection: "close",
        });
        response.write(answer.body);
        response.addTrailers(answer.trailers);
        response.end();
      } else {
        response.writeHead(answer.status, {
          ...answer.headers,
          "content-length": String(answer.body.length),
        });
        response.end(answer.body);
      }
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
