/**
 * The GitHub emulator on a loopback socket (see emulator.ts for what it does, control.ts for its control API).
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { createGitHubEmulator } from "./emulator.ts";

export interface RunningEmulator {
  url: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

export async function startGitHubEmulator(
  options: { port?: number; host?: string } = {},
): Promise<RunningEmulator> {
  const emulator = createGitHubEmulator();
  const host = options.host ?? "127.0.0.1";
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const body = await readBody(req);
        const response = await emulator.handle({
          method: (req.method ?? "GET").toUpperCase(),
          url: `http://${req.headers.host ?? host}${req.url ?? "/"}`,
          headers: headersOf(req),
          body,
        });
        if (response.delayMs !== undefined)
          await new Promise((resolve) => setTimeout(resolve, response.delayMs));
        if (response.kind === "drop") {
          req.socket.destroy();
          return;
        }
        res.writeHead(response.status, response.headers).end(response.body);
      } catch (error) {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" }).end(
            JSON.stringify({
              message: `emulator error: ${error instanceof Error ? error.message : String(error)}`,
            }),
          );
        }
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const address = server.address();
  if (address === null || typeof address === "string")
    throw new Error("the GitHub emulator has no TCP address");
  const { port } = address satisfies AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
