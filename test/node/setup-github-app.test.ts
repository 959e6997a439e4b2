/**
 * `npm run setup:github-app`, run for real (`tsx scripts/setup-github-app.ts`) against the GitHub emulator (a
 * namespace URL as `--github-url`, so GitHub Enterprise Server's layout: web pages on the host, the API under
 * `/api/v3`) and the fake wrangler. The test plays the browser: it loads the loopback page, posts its form to
 * the emulator's web page as a browser would, and follows GitHub's redirect back to the loopback callback.
 */
import { createHmac, createPrivateKey } from "node:crypto";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { type GitHubEmulatorHandle, githubEmulator } from "../emulators/github/control-client.ts";
import { type RunningEmulator, startGitHubEmulator } from "../emulators/github/server.ts";
import { type FakeAccount, type FakeState, fakeAccount } from "./support/fake-wrangler.ts";
import { appJwt, call, startReceiver } from "./support/github.ts";
import { type RunningScript, type ScriptResult, startScript } from "./support/run-script.ts";

const SCRIPT = "scripts/setup-github-app.ts";
const WORKER_URL = "https://actions-on-modal.octo-ops.workers.dev";
const PAGE_LINE = /Open this page in your browser[^:]*: (http:\/\/127\.0\.0\.1:\d+\/)\n/;

let emulator: RunningEmulator;
let counter = 0;

beforeAll(async () => {
  emulator = await startGitHubEmulator();
});
afterAll(async () => {
  await emulator.close();
});

function namespace(label: string): GitHubEmulatorHandle {
  counter += 1;
  return githubEmulator(emulator.url, `ghapp-${label}-${counter}`);
}

const StoredSchema = z.object({
  GITHUB_APP_ID: z.string(),
  GITHUB_APP_PRIVATE_KEY: z.string(),
  WEBHOOK_SECRET: z.string(),
  GITHUB_API_URL: z.optional(z.string()),
  RUNNER_SCOPE: z.optional(z.string()),
});
const AppSchema = z.object({ id: z.int(), slug: z.string(), owner: z.object({ login: z.string() }) });
const ManifestSchema = z.object({
  name: z.string(),
  url: z.string(),
  description: z.string(),
  hook_attributes: z.object({ url: z.string(), active: z.boolean() }),
  redirect_url: z.string(),
  public: z.boolean(),
  default_permissions: z.record(z.string(), z.string()),
  default_events: z.array(z.string()),
});

function unescapeHtml(text: string): string {
  return text
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

interface Run {
  account: FakeAccount;
  script: RunningScript;
  pageUrl: string;
}

function start(args: string[], options: { account?: Partial<FakeState> } = {}): Omit<Run, "pageUrl"> {
  const account = fakeAccount(options.account);
  const script = startScript(SCRIPT, ["--no-open", ...args], {
    env: { ...account.env, CLOUDFLARE_ACCOUNT_ID: undefined, CLOUDFLARE_API_TOKEN: undefined },
    timeoutMs: 80_000,
  });
  return { account, script };
}

async function startFlow(args: string[], account: Partial<FakeState> = {}): Promise<Run> {
  const run = start(args, { account });
  const [, pageUrl = ""] = await run.script.waitForOutput(PAGE_LINE, 60_000);
  return { ...run, pageUrl };
}

/** What a browser does with the loopback page: read its form and post it to GitHub, redirects not followed. */
async function postForm(pageUrl: string) {
  const page = await fetch(pageUrl);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
  const html = await page.text();
  const action = unescapeHtml(/<form[^>]* method="post" action="([^"]*)"/.exec(html)?.[1] ?? "");
  const manifestText = unescapeHtml(
    /<input type="hidden" name="manifest" value="([^"]*)">/.exec(html)?.[1] ?? "",
  );
  const manifest = ManifestSchema.parse(JSON.parse(manifestText));
  const posted = await fetch(action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ manifest: manifestText }).toString(),
    redirect: "manual",
  });
  expect(posted.status).toBe(302);
  const location = posted.headers.get("location") ?? "";
  return { action: new URL(action), manifest, location };
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

function bulkOf(account: FakeAccount) {
  const bulks = account.calls().filter((call) => call.argv.join(" ") === "secret bulk");
  expect(bulks).toHaveLength(1);
  return { call: bulks[0], stored: StoredSchema.parse(JSON.parse(bulks[0]?.stdin ?? "")) };
}

// Each test has its own emulator namespace and fake account; a run is a few processes, so they can overlap.
describe.concurrent("npm run setup:github-app", { timeout: 90_000 }, () => {
  it("creates the App from the manifest, stores its ID, key and webhook secret in one bulk call, and prints the installation URL", async () => {
    const ns = namespace("user");
    // The Worker is a receiver on loopback here, so that the App's hook can deliver to it.
    const worker = await startReceiver();
    const workerUrl = worker.url.replace(/\/webhook$/, "");
    const run = await startFlow([
      "--worker-url",
      workerUrl,
      "--github-url",
      ns.url,
      "--name",
      "Octo Runners",
    ]);
    const { action, manifest, location } = await postForm(run.pageUrl);

    // The signed-in user's page, with this run's state; the manifest as GitHub's docs describe it.
    expect(`${action.origin}${action.pathname}`).toBe(`${ns.url}/settings/apps/new`);
    const state = action.searchParams.get("state") ?? "";
    expect(state).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest).toEqual({
      name: "Octo Runners",
      url: workerUrl,
      description: expect.any(String),
      hook_attributes: { url: worker.url, active: true },
      redirect_url: `${run.pageUrl}callback`,
      public: false,
      default_permissions: { administration: "write", actions: "read", metadata: "read" },
      default_events: ["workflow_job"],
    });
    expect(new URL(location).searchParams.get("state")).toBe(state);

    const callback = await fetch(location);
    expect(callback.status).toBe(200);
    const done = await callback.text();
    expect(done).toContain(`${ns.url}/apps/octo-runners/installations/new`);
    const result = await run.script.done;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    // One whoami before anything exists, one bulk call; the JSON on one line, the PEM's line breaks kept in it.
    const calls = run.account.calls();
    expect(calls.map((entry) => entry.argv.join(" "))).toEqual(["whoami --json", "secret bulk"]);
    const { call: bulk, stored } = bulkOf(run.account);
    expect(bulk?.stdin).not.toContain("\n");
    expect(Object.keys(stored)).toEqual([
      "GITHUB_APP_ID",
      "GITHUB_APP_PRIVATE_KEY",
      "WEBHOOK_SECRET",
      "GITHUB_API_URL",
    ]);
    expect(stored.GITHUB_API_URL).toBe(`${ns.url}/api/v3`);
    expect(stored.GITHUB_APP_PRIVATE_KEY).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(stored.GITHUB_APP_PRIVATE_KEY.split("\n").length).toBeGreaterThan(20);
    expect(createPrivateKey(stored.GITHUB_APP_PRIVATE_KEY).asymmetricKeyType).toBe("rsa");

    // The key is the App's: a JWT signed with it is the App the emulator registered, on GHES's API path.
    const self = await call(`${ns.url}/api/v3`, "GET", "/app", {
      authorization: `Bearer ${appJwt(stored.GITHUB_APP_PRIVATE_KEY, Number(stored.GITHUB_APP_ID))}`,
    });
    expect(self.status).toBe(200);
    const app = AppSchema.parse(self.body);
    expect(app).toMatchObject({ slug: "octo-runners", owner: { login: "octocat" } });
    expect(String(app.id)).toBe(stored.GITHUB_APP_ID);
    const conversions = (await ns.requests()).filter((request) => request.route?.includes("conversions"));
    expect(conversions.map((request) => request.path)).toEqual([
      expect.stringMatching(/^\/api\/v3\/app-manifests\/[0-9a-f]{40}\/conversions$/),
    ]);
    // The webhook secret is the one the App's hook signs its deliveries with.
    const [registered] = await ns.apps();
    expect(registered).toMatchObject({ id: app.id, slug: "octo-runners", hookId: expect.any(Number) });
    await ns.sendDelivery(registered?.hookId ?? 0, {
      event: "ping",
      payload: { zen: "Practicality beats purity." },
    });
    const [received] = worker.received;
    const signature = createHmac("sha256", stored.WEBHOOK_SECRET)
      .update(received?.body ?? "")
      .digest("hex");
    expect(received?.headers["x-hub-signature-256"]).toBe(`sha256=${signature}`);
    await worker.close();

    expect(result.stdout).toContain(`App ID        ${app.id}`);
    expect(result.stdout).toContain("Slug          octo-runners");
    expect(result.stdout).toContain(`${ns.url}/apps/octo-runners/installations/new`);
    expect(result.stdout).toContain("npm run setup");
    // No secret in what the script printed, nor in any command line it ran.
    const secrets = [stored.GITHUB_APP_PRIVATE_KEY, stored.WEBHOOK_SECRET];
    expectAbsent(printed(result), secrets);
    expectAbsent(done, secrets);
    expectAbsent(calls.map((entry) => entry.argv.join(" ")).join("\n"), secrets);
  });

  it("in an organization: posts to the organization's page, asks for self-hosted runners, stores RUNNER_SCOPE=org", async () => {
    const ns = namespace("org");
    await ns.seed({ organizations: ["octo-org"] });
    const run = await startFlow([
      "--worker-url",
      WORKER_URL,
      "--github-url",
      ns.url,
      "--org",
      "octo-org",
      "--runner-scope",
      "org",
    ]);
    const { action, manifest, location } = await postForm(run.pageUrl);
    expect(`${action.origin}${action.pathname}`).toBe(`${ns.url}/organizations/octo-org/settings/apps/new`);
    expect(manifest.default_permissions).toEqual({
      organization_self_hosted_runners: "write",
      actions: "read",
      metadata: "read",
    });
    expect(manifest.name).toMatch(/^actions-on-modal-[0-9a-f]{6}$/);
    expect((await fetch(location)).status).toBe(200);
    const result = await run.script.done;
    expect(result.code).toBe(0);
    const { stored } = bulkOf(run.account);
    expect(stored.RUNNER_SCOPE).toBe("org");
    const [app] = await ns.apps();
    expect(app).toMatchObject({ name: manifest.name, owner: "octo-org" });
    expect(result.stdout).toContain(`${ns.url}/organizations/octo-org/settings/apps/${app?.slug}`);
    expect(result.stdout).toContain("on the organization octo-org");
  });

  it("refuses a callback whose state is not this run's, and still takes GitHub's own", async () => {
    const ns = namespace("state");
    const run = await startFlow(["--worker-url", WORKER_URL, "--github-url", ns.url]);
    const { location } = await postForm(run.pageUrl);
    const forged = new URL(location);
    forged.searchParams.set("state", "0".repeat(64));
    expect((await fetch(forged)).status).toBe(400);
    const stateless = new URL(location);
    stateless.searchParams.delete("state");
    expect((await fetch(stateless)).status).toBe(400);
    expect(run.account.calls().map((entry) => entry.argv.join(" "))).toEqual(["whoami --json"]);
    // The forged callbacks did not spend the code: GitHub's redirect still completes the run.
    expect((await fetch(location)).status).toBe(200);
    const result = await run.script.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("! refused a callback whose state is not this run's");
    bulkOf(run.account);
  });

  it("answers only requests addressed to 127.0.0.1", async () => {
    const ns = namespace("host");
    const run = await startFlow(["--worker-url", WORKER_URL, "--github-url", ns.url]);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const url = new URL(run.pageUrl);
      request(
        { host: url.hostname, port: url.port, path: "/", headers: { host: "attacker.example" } },
        (answer) => {
          answer.resume();
          resolve(answer.statusCode);
        },
      )
        .once("error", reject)
        .end();
    });
    expect(status).toBe(421);
    run.script.signal("SIGINT");
    const result = await run.script.done;
    expect(result.code).toBe(130);
    expect(result.stdout).toContain("Stopped: no code came back from GitHub, so nothing was stored.");
    expect(run.account.calls().map((entry) => entry.argv.join(" "))).toEqual(["whoami --json"]);
  });

  it("gives up after --timeout seconds with a clear message, storing nothing", async () => {
    const ns = namespace("timeout");
    const run = start(["--worker-url", WORKER_URL, "--github-url", ns.url, "--timeout", "1"]);
    const result = await run.script.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("GitHub did not send the browser back to http://127.0.0.1:");
    expect(result.stderr).toContain("within 1 s; nothing was stored.");
    expect(result.stderr).toContain(`${ns.url}/settings/apps`);
    expect(run.account.calls().map((entry) => entry.argv.join(" "))).toEqual(["whoami --json"]);
  });

  it("says what to do when the code is gone, and stores nothing", async () => {
    const ns = namespace("gone");
    const run = await startFlow(["--worker-url", WORKER_URL, "--github-url", ns.url]);
    const { location } = await postForm(run.pageUrl);
    // Someone else exchanged it first (GitHub's codes work once).
    const code = new URL(location).searchParams.get("code");
    expect((await call(`${ns.url}/api/v3`, "POST", `/app-manifests/${code}/conversions`)).status).toBe(201);
    expect((await fetch(location)).status).toBe(502);
    const result = await run.script.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("GitHub no longer knows the code");
    expect(run.account.calls().map((entry) => entry.argv.join(" "))).toEqual(["whoami --json"]);
  });

  it("when Cloudflare refuses the secrets, says the App exists without a key and how to recover", async () => {
    const ns = namespace("refused");
    const run = await startFlow(["--worker-url", WORKER_URL, "--github-url", ns.url], {
      secretBulkFails: true,
    });
    const { location } = await postForm(run.pageUrl);
    const callback = await fetch(location);
    expect(callback.status).toBe(502);
    const page = await callback.text();
    const result = await run.script.done;
    expect(result.code).toBe(1);
    const [app] = await ns.apps();
    expect(result.stderr).toContain("`wrangler secret bulk` did not store GITHUB_APP_ID");
    expect(result.stderr).toContain(
      `The App ${app?.slug} exists on GitHub, but its private key was only ever in this process`,
    );
    expect(result.stderr).toContain(`${ns.url}/settings/apps/${app?.slug}`);
    expect(page).toContain("exists on GitHub");
    // The key went to wrangler's stdin only, and nothing printed shows it.
    const bulk = run.account.calls().find((entry) => entry.argv.join(" ") === "secret bulk");
    const stored = StoredSchema.parse(JSON.parse(bulk?.stdin ?? ""));
    expectAbsent(printed(result), [stored.GITHUB_APP_PRIVATE_KEY, stored.WEBHOOK_SECRET]);
    expectAbsent(page, [stored.GITHUB_APP_PRIVATE_KEY, stored.WEBHOOK_SECRET]);
  });

  it("without a wrangler login, stops before any App exists", async () => {
    const ns = namespace("login");
    const run = start(["--worker-url", WORKER_URL, "--github-url", ns.url], { account: { loggedIn: false } });
    const result = await run.script.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("wrangler is not logged in to Cloudflare");
    expect(result.stderr).toContain("no App was created");
    expect(result.stdout).not.toContain("Open this page");
    expect(await ns.apps()).toEqual([]);
  });

  it("--dry-run prints the manifest and the steps and does nothing", async () => {
    const run = start([
      "--dry-run",
      "--worker-url",
      `${WORKER_URL}/`,
      "--name",
      "Octo Runners",
      "--port",
      "8123",
    ]);
    const result = await run.script.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(run.account.calls()).toEqual([]);
    const json = /\n(\{\n[\s\S]*?\n\})\n/.exec(result.stdout)?.[1] ?? "";
    expect(JSON.parse(json)).toEqual({
      name: "Octo Runners",
      url: WORKER_URL,
      description: expect.any(String),
      hook_attributes: { url: `${WORKER_URL}/webhook`, active: true },
      redirect_url: "http://127.0.0.1:8123/callback",
      public: false,
      default_permissions: { administration: "write", actions: "read", metadata: "read" },
      default_events: ["workflow_job"],
    });
    // github.com: the web page on github.com, the conversion on api.github.com, no GITHUB_API_URL to store.
    expect(result.stdout).toContain(
      "posts the manifest to https://github.com/settings/apps/new?state=<random state>",
    );
    expect(result.stdout).toContain("POST https://api.github.com/app-manifests/<code>/conversions");
    expect(result.stdout).toContain(
      'wrangler secret bulk < JSON on stdin {"GITHUB_APP_ID":"<GITHUB_APP_ID>","GITHUB_APP_PRIVATE_KEY":"<GITHUB_APP_PRIVATE_KEY>","WEBHOOK_SECRET":"<WEBHOOK_SECRET>"}',
    );
    expect(result.stdout).toContain("https://github.com/apps/<slug>/installations/new");
    // Nothing listens on the port it would use.
    await expect(fetch("http://127.0.0.1:8123/")).rejects.toThrow();
  });

  it("prints its usage for --help", async () => {
    const run = start(["--help"]);
    const result = await run.script.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run setup:github-app -- --worker-url/);
    expect(result.stdout).toContain('"Self-hosted runners: read & write"');
    expect(run.account.calls()).toEqual([]);
  });

  // Every rule is unit-tested in github-app-options.test.ts; here, that the script turns them into exit 2.
  it.each([
    [[], "--worker-url <https://…> is required"],
    [["--worker-url", WORKER_URL, "--runner-scope", "org"], "--runner-scope org needs --org <org>"],
  ])("refuses %j with a usage error (exit 2) before running anything", async (args, message) => {
    const run = start(args);
    const result = await run.script.done;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain("Usage: npm run setup:github-app");
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(run.account.calls()).toEqual([]);
  });
});
