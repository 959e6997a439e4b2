/**
 * The status page in a real browser: Debian's chromium, driven by playwright-core (which never downloads a browser
 * of its own), against the Worker in `wrangler dev` and the emulators, as `npm start` runs them. Signs in through
 * the form, reads the jobs and latencies the page shows, pauses and resumes with its buttons, and takes a
 * screenshot: the one the README shows (docs/status-page.png) with `npm run screenshot:status`, a throwaway one
 * otherwise — so that a plain `npm test` never leaves the working tree changed.
 *
 * Without chromium the test is skipped, loudly: `apt-get install -y chromium` to run it.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "./support/run-script.ts";
import { DEMO_STATUS_TOKEN, type DemoJobs, startStatusDemo } from "./support/status-demo.ts";

function findChromium(): string | undefined {
  try {
    const path = execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
    return path === "" ? undefined : path;
  } catch {
    return undefined;
  }
}

const executablePath = findChromium();
if (executablePath === undefined) {
  console.warn(
    [
      "",
      "=".repeat(78),
      "SKIPPED: test/node/status-browser.test.ts — no `chromium` on the PATH.",
      "The status page was NOT checked in a real browser, and no screenshot of it was taken.",
      "Install it to run this test:  apt-get update && apt-get install -y chromium",
      "=".repeat(78),
      "",
    ].join("\n"),
  );
}

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

describe.skipIf(executablePath === undefined)("the status page in chromium", () => {
  let demo: Awaited<ReturnType<typeof startStatusDemo>>;
  let jobs: DemoJobs;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    if (executablePath === undefined) throw new Error("the suite is skipped without chromium");
    demo = await startStatusDemo();
    jobs = demo.jobs;
    // A fresh profile each run: no cookie or cache of an earlier run can make the test pass.
    profile = mkdtempSync(join(tmpdir(), "actions-on-modal-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: FLAGS,
      viewport: { width: 1360, height: 900 },
      colorScheme: "light",
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await demo?.stop();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  }, 30_000);

  it("sends a browser without a session to the sign-in form, and signs it in", async () => {
    await page.goto(`${demo.url}/status`);
    expect(new URL(page.url()).pathname).toBe("/status/login");
    await page.getByLabel("STATUS_TOKEN").fill("not-the-token-0123456789");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#login-failed").textContent()).toContain("not accepted");
    await page.getByLabel("STATUS_TOKEN").fill(DEMO_STATUS_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${demo.url}/status`);
    expect(await page.locator("h1").textContent()).toBe("actions-on-modal status");
    expect(await page.locator("header").textContent()).toContain("signed in as session");
  }, 30_000);

  it("shows every job in its state, with its runner and the reason of a failure", async () => {
    const row = (table: string, jobId: number) => page.locator(`${table} tr[data-job="${jobId}"]`);
    expect(await row("table.jobs", jobs.running).getAttribute("data-state")).toBe("running");
    expect(await row("table.jobs", jobs.running).textContent()).toContain(`modal-${jobs.running}-1`);
    expect(await row("table.jobs", jobs.started).textContent()).toContain("runner started");
    expect(await row("#failures-table", jobs.failed).textContent()).toContain("could not be pulled");
    expect(await row("#ended-table", jobs.completed).textContent()).toContain("finished");
    expect(await row("#ended-table", jobs.cancelled).textContent()).toContain("cancelled");
    expect(await page.locator("#in-flight").textContent()).toBe("2");
  });

  it("shows the latencies, webhook → in progress first, and the cost", async () => {
    const rows = page.locator("#latency-table tbody tr");
    expect(await rows.count()).toBe(6);
    expect(await rows.first().getAttribute("data-stage")).toBe("pickup");
    const pickup = (await rows.first().locator("td").allTextContents()).map((text) => text.trim());
    expect(pickup[0]).toBe("2");
    expect(pickup[1]).toMatch(/^\d+(\.\d)? (ms|s)$/);
    expect(await page.locator("#felt-latency").textContent()).toMatch(/p50 \d/);
    expect(await page.locator("#cost-line").textContent()).toMatch(/\$[\d.]+ today/);
  });

  it("takes a screenshot of the whole page", async () => {
    const dir = process.env.UPDATE_STATUS_SCREENSHOT === "1" ? join(PROJECT_ROOT, "docs") : profile;
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "status-page.png");
    await page.screenshot({ path, fullPage: true });
    const png = readFileSync(path);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    // Width and height from the IHDR chunk: the whole page, not just the first screen.
    expect(png.readUInt32BE(16)).toBe(1360);
    expect(png.readUInt32BE(20)).toBeGreaterThan(900);
  });

  it("pauses with its button and shows the banner; resumes with the other", async () => {
    await page.getByRole("button", { name: "Pause", exact: true }).click();
    await page.locator("#paused").waitFor();
    expect(await page.locator(".banner").textContent()).toContain("by an operator (Pause)");
    await page.getByRole("button", { name: "Resume" }).click();
    await page.locator("#running").waitFor();
    expect(await page.getByRole("button", { name: "Pause", exact: true }).isVisible()).toBe(true);
  }, 30_000);
});
