/**
 * Reading wrangler 4.86's output. The samples are what its source prints (cli-table3 tables, esbuild-formatted
 * errors in colour, the "Deployed … triggers" block); the setup tests run the same parsers end to end.
 */
import { describe, expect, it } from "vitest";
import { redact } from "../../scripts/lib/wrangler.ts";
import { readWorkerConfig } from "../../scripts/lib/wrangler-config.ts";
import {
  isWorkerNotFound,
  parseDeployTargets,
  parseQueueNames,
  parseSecretNames,
  parseUploadedSecretCount,
  parseWhoami,
  workerUrlFromTargets,
} from "../../scripts/lib/wrangler-output.ts";

describe("wrangler.toml", () => {
  it("names the Worker and each queue it binds once: producer, consumers, dead-letter queue", () => {
    expect(readWorkerConfig("wrangler.toml")).toEqual({
      name: "actions-on-modal",
      accountId: undefined,
      queues: ["actions-on-modal-jobs", "actions-on-modal-jobs-dlq"],
    });
  });
});

describe("wrangler output", () => {
  it("reads whoami --json, logged in or not", () => {
    expect(parseWhoami('{"loggedIn":false}\n')).toEqual({
      loggedIn: false,
      email: undefined,
      authType: undefined,
      accounts: [],
    });
    const json = JSON.stringify(
      { loggedIn: true, authType: "OAuth Token", email: "a@b.c", accounts: [{ id: "1", name: "A" }] },
      null,
      2,
    );
    expect(parseWhoami(json)).toMatchObject({
      loggedIn: true,
      email: "a@b.c",
      accounts: [{ id: "1", name: "A" }],
    });
    expect(parseWhoami("Getting User settings...")).toBeUndefined();
  });

  it("reads the name column of queues list's table, and nothing from an empty page", () => {
    const table = [
      "┌──────┬───────────────────────┬─────────────┬─────────────┬───────────┬───────────┐",
      "│ id   │ name                  │ created_on  │ modified_on │ producers │ consumers │",
      "├──────┼───────────────────────┼─────────────┼─────────────┼───────────┼───────────┤",
      "│ a1b2 │ other-queue           │ 2026-04-01  │ 2026-04-01  │ 0         │ 0         │",
      "├──────┼───────────────────────┼─────────────┼─────────────┼───────────┼───────────┤",
      "│ c3d4 │ actions-on-modal-jobs │ 2026-04-02  │ 2026-04-02  │ 1         │ 1         │",
      "└──────┴───────────────────────┴─────────────┴─────────────┴───────────┴───────────┘",
    ].join("\n");
    expect(parseQueueNames(table)).toEqual(["other-queue", "actions-on-modal-jobs"]);
    expect(parseQueueNames("\n")).toEqual([]);
  });

  it("reads secret list's JSON and recognizes a Worker that is not deployed yet", () => {
    expect(
      parseSecretNames('[\n  {\n    "name": "WEBHOOK_SECRET",\n    "type": "secret_text"\n  }\n]'),
    ).toEqual(["WEBHOOK_SECRET"]);
    expect(parseSecretNames("[]")).toEqual([]);
    expect(parseSecretNames("oops")).toBeUndefined();
    const notFound =
      '\x1b[31m✘ \x1b[41;31m[\x1b[41;97mERROR\x1b[41;31m]\x1b[0m \x1b[1mWorker "actions-on-modal" not found.\x1b[0m\n\n' +
      "  \n  If this is a new Worker, run `wrangler deploy` first to create it.\n";
    expect(isWorkerNotFound(notFound)).toBe(true);
    expect(isWorkerNotFound("✘ [ERROR] Authentication error [code: 10000]")).toBe(false);
  });

  it("counts what secret bulk says it uploaded", () => {
    expect(
      parseUploadedSecretCount("Finished processing secrets file:\n✨ 3 secrets successfully uploaded\n"),
    ).toBe(3);
    expect(parseUploadedSecretCount("🚨 No content found in file, or piped input.")).toBeUndefined();
  });

  it("reads the deploy targets and prefers workers.dev for the webhook URL", () => {
    const output = [
      "Total Upload: 309.17 KiB / gzip: 76.57 KiB",
      "Uploaded actions-on-modal (4.12 sec)",
      "Deployed actions-on-modal triggers (1.38 sec)",
      "  ci.example.com/* (zone name: example.com)",
      "  https://actions-on-modal.octo.workers.dev",
      "  Producer for actions-on-modal-jobs",
      "  Consumer for actions-on-modal-jobs",
      "Current Version ID: 6c0f3a3e-2f4b-4f86-9c51-0d1b5e7a9f12",
    ].join("\n");
    const targets = parseDeployTargets(output);
    expect(targets).toEqual([
      "ci.example.com/* (zone name: example.com)",
      "https://actions-on-modal.octo.workers.dev",
      "Producer for actions-on-modal-jobs",
      "Consumer for actions-on-modal-jobs",
    ]);
    expect(workerUrlFromTargets(targets)).toEqual({
      url: "https://actions-on-modal.octo.workers.dev",
      kind: "workers.dev",
    });
  });

  it("falls back to a custom domain, then a route on a host's root; never a path or wildcard route", () => {
    expect(workerUrlFromTargets(["ci.example.com (custom domain - zone name: example.com)"])).toEqual({
      url: "https://ci.example.com",
      kind: "custom domain",
    });
    expect(workerUrlFromTargets(["ci.example.com/* (zone name: example.com)"])).toEqual({
      url: "https://ci.example.com",
      kind: "route",
    });
    expect(
      workerUrlFromTargets(["example.com/ci/*", "*.example.com/*", "schedule: */5 * * * *"]),
    ).toBeUndefined();
    expect(parseDeployTargets("No deploy targets for actions-on-modal (0.12 sec)")).toEqual([]);
  });
});

describe("redact", () => {
  it("hides every secret, and every long line of a multi-line one, but leaves short words alone", () => {
    const pem = "-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\nEEEEFFFFGGGG\n-----END KEY-----\n";
    expect(redact(`token ghp_secretvalue; ${pem}; line EEEEFFFFGGGG`, ["ghp_secretvalue", pem, "ok"])).toBe(
      "token ‹redacted›; ‹redacted›\n; line ‹redacted›",
    );
    expect(redact("ok then", ["ok"])).toBe("ok then");
  });
});
