// Placeholder: replaced by the Modal emulator (issue 3).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface RunningEmulator {
  url: string;
  close(): Promise<void>;
}

export async function startModalEmulator(
  options: { port?: number; host?: string } = {},
): Promise<RunningEmulator> {
  const server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
