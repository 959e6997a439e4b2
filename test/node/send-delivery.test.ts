/** `npm run webhook:send`: its command line, and the delivery it sends, checked with Node's own HMAC. */
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { runScript } from "./support/run-script.ts";

const SCRIPT = "scripts/send-delivery.ts";

describe("webhook:send command line", () => {
  it("prints the usage for --help and exits 0", async () => {
    const result = await runScript(SCRIPT, ["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run webhook:send -- \[options\]/);
    expect(result.stdout).toContain("--secret <secret>");
    expect(result.stderr).toBe("");
  });

  it.each([
    [["--bogus"], "error: unknown option --bogus"],
    [["--url"], "error: Option '--url <value>' argument missing"],
    [["stray"], "error: unexpected argument stray"],
    [["--secret", "s", "--action", "finished"], "error: --action must be one of"],
    [["--secret", "s", "--job-id", "abc"], "error: --job-id must be a positive integer"],
  ])("refuses %j with a short usage error and exit 2, no stack trace", async (args, message) => {
    const result = await runScript(SCRIPT, args, { env: { WEBHOOK_SECRET: undefined } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain("Usage: npm run webhook:send -- [options]");
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr.split("\n").length).toBeLessThan(6);
  });

  it("asks for a secret when there is none", async () => {
    const result = await runScript(SCRIPT, [], { env: { WEBHOOK_SECRET: undefined } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: --secret or WEBHOOK_SECRET is required");
  });
});

describe("webhook:send delivery", () => {
  it("posts a workflow_job the way GitHub signs it", async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = "";
      request.setEncoding("utf8").on("data", (chunk: string) => {
        body += chunk;
      });
      request.on("end", () => {
        received.push({ headers: request.headers, body });
        response.writeHead(202, { "content-type": "application/json" }).end('{"queued":4242}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const result = await runScript(
        SCRIPT,
        [
          "--url",
          `http://127.0.0.1:${port}/webhook`,
          "--job-id",
          "4242",
          "--repo",
          "octo-org/app",
          "--delivery-id",
          "d-1",
        ],
        { env: { WEBHOOK_SECRET: "s3cret-for-the-test" } },
      );
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('202 {"queued":4242} (delivery d-1)\n');
    } finally {
      server.close();
    }
    expect(received).toHaveLength(1);
    const [delivery] = received;
    if (delivery === undefined) throw new Error("no delivery");
    const expected = createHmac("sha256", "s3cret-for-the-test").update(delivery.body).digest("hex");
    expect(delivery.headers["x-hub-signature-256"]).toBe(`sha256=${expected}`);
    expect(delivery.headers["x-github-event"]).toBe("workflow_job");
    expect(delivery.headers["x-github-delivery"]).toBe("d-1");
    const payload = JSON.parse(delivery.body);
    expect(payload.action).toBe("queued");
    expect(payload.workflow_job.id).toBe(4242);
    expect(payload.workflow_job.labels).toEqual(["self-hosted", "modal"]);
    expect(payload.repository.full_name).toBe("octo-org/app");
  });

  it("says in one line that the Worker cannot be reached", async () => {
    const result = await runScript(SCRIPT, ["--url", "http://127.0.0.1:9/webhook", "--secret", "s"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^could not reach http:\/\/127\.0\.0\.1:9\/webhook: /);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
