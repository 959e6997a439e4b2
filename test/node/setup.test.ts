/**
 * `npm run setup`, run for real (`tsx scripts/setup.ts`) against a fake wrangler (WRANGLER_BIN) that answers as
 * wrangler 4.86 prints, keeps the account's state between runs, and records every call with its stdin.
 */
import { generateKeyPairSync } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type FakeState, fakeAccount, QUEUES } from "./support/fake-wrangler.ts";
import { runScript, type ScriptResult } from "./support/run-script.ts";

const SCRIPT = "scripts/setup.ts";
const WORKER_URL = "https://actions-on-modal.octo-ops.workers.dev";

const MODAL_TOKEN = { id: "ak-setuptest0000000001", secret: "as-setuptest-secret-0000000001" };
const PEM = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
}).privateKey;

/** Variables setup reads; cleared so that the developer's own shell cannot leak into a run. */
const CLEAN_ENV = Object.fromEntries(
  [
    "GITHUB_TOKEN",
    "MODAL_TOKEN_ID",
    "MODAL_TOKEN_SECRET",
    "MODAL_LAUNCHER_URL",
    "MODAL_PROXY_TOKEN_ID",
    "MODAL_PROXY_TOKEN_SECRET",
    "LAUNCHER_SECRET",
    "CLOUDFLARE_ACCOUNT_ID",
    "CLOUDFLARE_API_TOKEN",
  ].map((name) => [name, undefined]),
);

/** A fresh Cloudflare account with an App key on disk, and `npm run setup` run against it. */
function setupAccount(overrides: Partial<FakeState> = {}) {
  const account = fakeAccount(overrides);
  const keyPath = join(account.dir, "app-key.pem");
  writeFileSync(keyPath, PEM);
  return {
    ...account,
    keyPath,
    secretFile: join(account.dir, "webhook-secret"),
    setup: (args: string[], env: Record<string, string | undefined> = {}) =>
      runScript(SCRIPT, args, { env: { ...CLEAN_ENV, ...account.env, ...env } }),
  };
}

const printed = (result: ScriptResult) => `${result.stdout}\n${result.stderr}`;

/** The secret, and every long line of it (a PEM's body), appears nowhere in `text`. */
function expectAbsent(text: string, secrets: string[]) {
  for (const secret of secrets) {
    for (const piece of [secret, ...secret.split("\n")].filter((line) => line.length >= 16)) {
      expect(text).not.toContain(piece);
    }
  }
}

const appAndModal = (account: ReturnType<typeof setupAccount>) => [
  "--github-app-id",
  "123456",
  "--github-app-key",
  account.keyPath,
  "--modal-token-id",
  MODAL_TOKEN.id,
  "--modal-token-secret",
  MODAL_TOKEN.secret,
  "--secret-file",
  account.secretFile,
];

// Each test has its own fake account; a run is a few processes, so they can overlap.
describe.concurrent("npm run setup", { timeout: 60_000 }, () => {
  it("prints its usage for --help and runs nothing", async () => {
    const account = setupAccount();
    const result = await account.setup(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run setup -- \[options\]/);
    expect(result.stdout).toContain("--rotate-webhook-secret");
    expect(account.calls()).toEqual([]);
  });

  it("--dry-run prints the exact plan, secret values by name, and runs and writes nothing", async () => {
    const account = setupAccount();
    const result = await account.setup(["--dry-run", ...appAndModal(account)]);
    expect(result.code).toBe(0);
    const pemLines = PEM.trimEnd().split("\n").length;
    expect(result.stdout).toBe(
      [
        'Plan for the Worker "actions-on-modal" (dry run: nothing is run and nothing is changed)',
        "",
        "1. wrangler whoami --json",
        "     stops here unless wrangler is logged in to one account (several: choose with --account-id)",
        "2. wrangler queues list",
        "     then `wrangler queues list --page 2`, 3, … only while a queue below is still unseen and the last page had rows",
        "3. wrangler queues create actions-on-modal-jobs",
        "     only if the list does not show it",
        "4. wrangler queues create actions-on-modal-jobs-dlq",
        "     only if the list does not show it",
        "5. wrangler secret list --format json",
        "     (a Worker not deployed yet has none)",
        `6. write the generated WEBHOOK_SECRET to ${account.secretFile} (mode 0600)`,
        "     only if one is generated",
        '7. wrangler secret bulk < JSON on stdin {"WEBHOOK_SECRET":"<WEBHOOK_SECRET>","GITHUB_APP_ID":"<GITHUB_APP_ID>","GITHUB_APP_PRIVATE_KEY":"<GITHUB_APP_PRIVATE_KEY>","MODAL_TOKEN_ID":"<MODAL_TOKEN_ID>","MODAL_TOKEN_SECRET":"<MODAL_TOKEN_SECRET>"}',
        "     WEBHOOK_SECRET          generated here (32 random bytes, hex) only if the list does not show it",
        "     GITHUB_APP_ID           from --github-app-id",
        `     GITHUB_APP_PRIVATE_KEY  from file ${account.keyPath} (PEM, ${pemLines} lines, line breaks kept)`,
        "     MODAL_TOKEN_ID          from --modal-token-id",
        "     MODAL_TOKEN_SECRET      from --modal-token-secret",
        "8. wrangler deploy",
        "9. print the webhook URL (the deployed workers.dev URL, custom domain or route, + /webhook) and the next step",
        "",
      ].join("\n"),
    );
    expect(result.stderr).toBe("");
    expect(account.calls()).toEqual([]);
    expect(existsSync(account.secretFile)).toBe(false);
    expectAbsent(printed(result), [PEM, MODAL_TOKEN.secret]);
  });

  it("a first run creates both queues, stores every secret in one bulk call, deploys and prints the webhook URL", async () => {
    const account = setupAccount();
    const result = await account.setup(appAndModal(account));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    const calls = account.calls();
    expect(calls.map((call) => call.argv.join(" "))).toEqual([
      "whoami --json",
      "queues list",
      "queues list --page 2",
      `queues create ${QUEUES[0]}`,
      `queues create ${QUEUES[1]}`,
      "secret list --format json",
      "secret bulk",
      "deploy",
    ]);
    // Offline-friendly and parseable: no telemetry, no update check, no colour.
    for (const call of calls) {
      expect(call.env).toMatchObject({
        NO_COLOR: "1",
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_HIDE_BANNER: "true",
      });
    }

    const bulk = calls.find((call) => call.argv[1] === "bulk");
    if (bulk === undefined) throw new Error("no secret bulk call");
    // One line of JSON (wrangler joins piped lines without a separator), the PEM's line breaks escaped inside it.
    expect(bulk.stdin).not.toContain("\n");
    const stored = JSON.parse(bulk.stdin);
    expect(Object.keys(stored)).toEqual([
      "WEBHOOK_SECRET",
      "GITHUB_APP_ID",
      "GITHUB_APP_PRIVATE_KEY",
      "MODAL_TOKEN_ID",
      "MODAL_TOKEN_SECRET",
    ]);
    expect(stored.GITHUB_APP_PRIVATE_KEY).toBe(PEM);
    expect(stored.GITHUB_APP_PRIVATE_KEY.split("\n").length).toBeGreaterThan(20);
    expect(stored.GITHUB_APP_ID).toBe("123456");
    expect(stored.MODAL_TOKEN_ID).toBe(MODAL_TOKEN.id);
    expect(stored.MODAL_TOKEN_SECRET).toBe(MODAL_TOKEN.secret);
    expect(stored.WEBHOOK_SECRET).toMatch(/^[0-9a-f]{64}$/);

    // The generated secret went to the file the operator chose, readable by its owner only.
    expect(readFileSync(account.secretFile, "utf8")).toBe(`${stored.WEBHOOK_SECRET}\n`);
    expect(statSync(account.secretFile).mode & 0o777).toBe(0o600);

    expect(account.state()).toMatchObject({ queues: ["another-teams-queue", ...QUEUES], workerExists: true });
    expect(result.stdout).toContain(`Webhook URL     ${WORKER_URL}/webhook   (workers.dev)`);
    expect(result.stdout).toContain(`Webhook secret  in ${account.secretFile} (mode 0600), generated now.`);
    expect(result.stdout).toContain("Content type  application/json");
    expect(result.stdout).toContain("Workflow jobs");
    expect(result.stdout).toContain("npm run setup:github-app");
    expect(result.stdout).not.toContain("Not among the Worker's secrets");

    // Secrets travel on stdin only: never in a command line, never in what setup or wrangler printed.
    const secrets = [stored.WEBHOOK_SECRET, PEM, MODAL_TOKEN.secret, MODAL_TOKEN.id];
    expectAbsent(calls.map((call) => call.argv.join(" ")).join("\n"), secrets);
    expectAbsent(printed(result), secrets);
  });

  it("a second run creates no queue and keeps the stored webhook secret", async () => {
    const account = setupAccount();
    const first = await account.setup(appAndModal(account));
    expect(first.code).toBe(0);
    const firstSecret = readFileSync(account.secretFile, "utf8");
    const before = account.calls().length;

    const secondFile = join(account.dir, "second-secret");
    const second = await account.setup(["--secret-file", secondFile]);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    const calls = account.calls().slice(before);
    expect(calls.map((call) => call.argv.join(" "))).toEqual([
      "whoami --json",
      "queues list",
      "secret list --format json",
      "deploy",
    ]);
    expect(second.stdout).toContain("✓ queue actions-on-modal-jobs exists");
    expect(second.stdout).toContain("✓ WEBHOOK_SECRET is stored: kept");
    expect(second.stdout).toContain("Webhook secret  the stored one, kept.");
    expect(second.stdout).toContain(`Webhook URL     ${WORKER_URL}/webhook`);
    expect(existsSync(secondFile)).toBe(false);
    expect(readFileSync(account.secretFile, "utf8")).toBe(firstSecret);
    expect(account.state().queues).toEqual(["another-teams-queue", ...QUEUES]);
  });

  it("a later run stores only what it is given, from the environment too, and never the kept webhook secret", async () => {
    const account = setupAccount({
      workerExists: true,
      queues: QUEUES,
      secrets: ["WEBHOOK_SECRET", "GITHUB_TOKEN"],
    });
    const result = await account.setup(["--secret-file", account.secretFile], {
      MODAL_TOKEN_ID: MODAL_TOKEN.id,
      MODAL_TOKEN_SECRET: MODAL_TOKEN.secret,
    });
    expect(result.code).toBe(0);
    const bulks = account.calls().filter((call) => call.argv.join(" ") === "secret bulk");
    expect(bulks).toHaveLength(1);
    expect(JSON.parse(bulks[0]?.stdin ?? "")).toEqual({
      MODAL_TOKEN_ID: MODAL_TOKEN.id,
      MODAL_TOKEN_SECRET: MODAL_TOKEN.secret,
    });
    expect(result.stdout).toContain("MODAL_TOKEN_SECRET ($MODAL_TOKEN_SECRET)");
    expect(existsSync(account.secretFile)).toBe(false);
    expectAbsent(printed(result), [MODAL_TOKEN.secret, MODAL_TOKEN.id]);
  });

  it("--rotate-webhook-secret replaces a stored secret and the file", async () => {
    const account = setupAccount({ workerExists: true, queues: QUEUES, secrets: ["WEBHOOK_SECRET"] });
    writeFileSync(account.secretFile, "old\n", { mode: 0o644 });
    const result = await account.setup(["--rotate-webhook-secret", "--secret-file", account.secretFile]);
    expect(result.code).toBe(0);
    const bulk = account.calls().find((call) => call.argv[1] === "bulk");
    const rotated = JSON.parse(bulk?.stdin ?? "{}").WEBHOOK_SECRET;
    expect(rotated).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(account.secretFile, "utf8")).toBe(`${rotated}\n`);
    expect(statSync(account.secretFile).mode & 0o777).toBe(0o600);
    expect(result.stdout).toContain("replacing the stored one (--rotate-webhook-secret)");
    expectAbsent(printed(result), [rotated]);
  });

  it("--print-secret prints a generated secret once, and only that secret", async () => {
    const account = setupAccount({ workerExists: true, queues: QUEUES });
    const result = await account.setup(["--print-secret"], {
      GITHUB_TOKEN: "ghp_setuptest00000000000000000000000000",
    });
    expect(result.code).toBe(0);
    const stored = JSON.parse(account.calls().find((call) => call.argv[1] === "bulk")?.stdin ?? "{}");
    expect(result.stdout.split(stored.WEBHOOK_SECRET)).toHaveLength(2);
    expect(result.stdout).toContain(
      `WEBHOOK_SECRET (shown this once; Cloudflare cannot show it again): ${stored.WEBHOOK_SECRET}`,
    );
    expectAbsent(printed(result), [stored.GITHUB_TOKEN]);
    // Modal credentials were never given: the summary says what is still missing.
    expect(result.stdout).toContain("Not among the Worker's secrets: MODAL_TOKEN_ID, MODAL_TOKEN_SECRET.");

    const kept = await account.setup(["--print-secret"]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).not.toContain("shown this once");
    expectAbsent(printed(kept), [stored.WEBHOOK_SECRET]);
  });

  it("launcher mode stores the launcher's URL, proxy token and HMAC key", async () => {
    const account = setupAccount({
      workerExists: true,
      queues: QUEUES,
      secrets: ["WEBHOOK_SECRET", "GITHUB_TOKEN"],
    });
    const result = await account.setup(
      ["--launcher-url", "https://acme--actions-on-modal-launcher-web.modal.run"],
      {
        MODAL_PROXY_TOKEN_ID: "wk-setuptest0000000001",
        MODAL_PROXY_TOKEN_SECRET: "ws-setuptest-secret-0000000001",
        LAUNCHER_SECRET: "launcher-secret-for-the-setup-test",
        MODAL_TOKEN_ID: "ak-ignored-in-launcher-mode",
      },
    );
    expect(result.code).toBe(0);
    const stored = JSON.parse(account.calls().find((call) => call.argv[1] === "bulk")?.stdin ?? "{}");
    expect(Object.keys(stored)).toEqual([
      "MODAL_LAUNCHER_URL",
      "MODAL_PROXY_TOKEN_ID",
      "MODAL_PROXY_TOKEN_SECRET",
      "LAUNCHER_SECRET",
    ]);
    expect(result.stdout).not.toContain("Not among the Worker's secrets");
    expectAbsent(printed(result), ["ws-setuptest-secret-0000000001", "launcher-secret-for-the-setup-test"]);
  });

  it("without a wrangler login it says to run `npx wrangler login`, exits non-zero and changes nothing", async () => {
    const account = setupAccount({ loggedIn: false });
    const result = await account.setup(appAndModal(account));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("✗ wrangler is not logged in to Cloudflare.");
    expect(result.stderr).toContain(
      "Run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then `npm run setup` again.",
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(account.calls().map((call) => call.argv.join(" "))).toEqual(["whoami --json"]);
    expect(existsSync(account.secretFile)).toBe(false);
  });

  it("asks which account when the login has several, and passes the chosen one to every wrangler call", async () => {
    const accounts = [
      { id: "aaaa0000000000000000000000000000", name: "Personal" },
      { id: "bbbb0000000000000000000000000000", name: "Octo Ops" },
    ];
    const account = setupAccount({ accounts });
    const refused = await account.setup(["--secret-file", account.secretFile]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("choose one with --account-id <id>");
    expect(refused.stderr).toContain("bbbb0000000000000000000000000000  Octo Ops");

    const chosen = await account.setup([
      "--account-id",
      accounts[1]?.id ?? "",
      "--secret-file",
      account.secretFile,
    ]);
    expect(chosen.code).toBe(0);
    expect(chosen.stdout).toContain("(account Octo Ops)");
    const calls = account.calls().slice(1);
    expect(calls.length).toBeGreaterThan(3);
    for (const call of calls) expect(call.env.CLOUDFLARE_ACCOUNT_ID).toBe(accounts[1]?.id);
  });

  it("a failed deploy exits non-zero, keeps what was done and says to run setup again", async () => {
    const account = setupAccount({ requiredQueues: [...QUEUES, "a-queue-nobody-created"] });
    const result = await account.setup(appAndModal(account));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Queue "a-queue-nobody-created" does not exist.');
    expect(result.stderr).toContain("`wrangler deploy` failed");
    expect(result.stderr).toContain("run `npm run setup` again");
    expect(account.state().secrets).toContain("WEBHOOK_SECRET");
  });

  // Every rule is unit-tested in setup-options.test.ts; here, that the script turns them into exit 2.
  it.each([
    [["--bogus"], "unknown option --bogus"],
    [["--github-token", "ghp_x", "--github-app-id", "1"], "give --github-token or a GitHub App"],
  ])("refuses %j with a usage error (exit 2) before running anything", async (args, message) => {
    const account = setupAccount();
    const result = await account.setup(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: /);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain("Usage: npm run setup -- [options]");
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(account.calls()).toEqual([]);
  });
});
