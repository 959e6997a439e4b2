/**
 * The one Node HTTP/1.1 server the emulators share: it moves bytes between a socket and an emulator's
 * runtime-neutral handler, holds delayed answers, drops connections on request, and sends HTTP trailers the way a
 * gRPC server does. Each emulator's server.ts only adapts its request and answer shapes.
 */
import { createServer, type IncomingMessage } from "node:http";

export interface RawRequest {
  method: string;
  /** Path and query as received, e.g. `/ns/test/repos/o/r`. */
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
  /** Hold the answer this long (a slow upstream); a client that gives up meanwhile gets nothing. */
  delayMs?: number | undefined;
  /** Close the connection instead of answering (a network error for the client). */
  drop?: boolean;
  /** Sent after a chunked body, as gRPC sends `grpc-status`. */
  trailers?: Record<string, string>;
}

export interface LoopbackServer {
  url: string;
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

export async function serveOnLoopback(
  handle: (request: RawRequest) => RawAnswer | Promise<RawAnswer>,
  options: { port?: number; host?: string } = {},
): Promise<LoopbackServer> {
  const server = createServer(async (request, response) => {
    try {
      const answer = await handle({
        method: (request.method ?? "GET").toUpperCase(),
        path: request.url ?? "/",
        headers: lowerCaseHeaders(request),
        body: await readBody(request),
      });
      if (answer.delayMs !== undefined && answer.delayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
        if (response.destroyed || request.destroyed) return;
      }
      if (answer.drop === true) {
        request.socket.destroy();
        return;
      }
      const body = typeof answer.body === "string" ? Buffer.from(answer.body) : answer.body;
      if (answer.trailers !== undefined) {
        // `connection: close`: local workerd (kj-http, 2026-04-26 build) does not consume HTTP/1.1 trailers, so
        // the next response read from a kept-alive connection starts inside them and fails ("Invalid response
        // status line"). Closing after a trailer keeps what a gRPC server sends without tripping that bug.
        response.writeHead(answer.status, {
          ...answer.headers,
          trailer: Object.keys(answer.trailers).join(", "),
          connection: "close",
        });
        response.write(body);
        response.addTrailers(answer.trailers);
        response.end();
        return;
      }
      // HTTP forbids a length on 204 and 304 answers.
      const length =
        answer.status === 204 || answer.status === 304 ? {} : { "content-length": String(body.length) };
      response.writeHead(answer.status, { ...answer.headers, ...length });
      response.end(body);
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
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
