/**
 * The App manifest `npm run setup:github-app` posts, held to the rules GitHub applies to manifests (the
 * emulator's manifest-rules.ts, themselves checked against GitHub's OpenAPI description), and the page that
 * carries it to GitHub.
 */
import { describe, expect, it } from "vitest";
import {
  buildManifest,
  defaultAppName,
  describePermissions,
  MAX_APP_NAME_LENGTH,
  permissionsFor,
} from "../../scripts/lib/github-app/manifest.ts";
import { startPage } from "../../scripts/lib/github-app/pages.ts";
import { validateManifest } from "../emulators/github/manifest-rules.ts";

const input = {
  name: "actions-on-modal-0a1b2c",
  workerUrl: "https://actions-on-modal.octo-ops.workers.dev",
  redirectUrl: "http://127.0.0.1:41234/callback",
};

describe("the App manifest", () => {
  it("for repository runners: the Worker's webhook, workflow_job only, Administration write", () => {
    expect(buildManifest({ ...input, runnerScope: "repo" })).toEqual({
      name: "actions-on-modal-0a1b2c",
      url: "https://actions-on-modal.octo-ops.workers.dev",
      description: expect.stringContaining("Modal"),
      hook_attributes: { url: "https://actions-on-modal.octo-ops.workers.dev/webhook", active: true },
      redirect_url: "http://127.0.0.1:41234/callback",
      public: false,
      default_permissions: { administration: "write", actions: "read", metadata: "read" },
      default_events: ["workflow_job"],
    });
  });

  it("for organization runners: the organization's self-hosted runners instead of repository administration", () => {
    expect(permissionsFor("org")).toEqual({
      organization_self_hosted_runners: "write",
      actions: "read",
      metadata: "read",
    });
    expect(describePermissions(permissionsFor("org"))).toBe(
      "Self-hosted runners (organization): read & write, Actions (repository): read-only, Metadata (repository): read-only",
    );
  });

  it.each(["repo", "org"] as const)("passes GitHub's manifest rules (%s scope)", (runnerScope) => {
    const check = validateManifest(JSON.stringify(buildManifest({ ...input, runnerScope })));
    expect(check).toMatchObject({ ok: true, manifest: { events: ["workflow_job"], hookActive: true } });
  });

  it("has a default name within GitHub's limit, different each time", () => {
    const names = new Set(Array.from({ length: 20 }, defaultAppName));
    expect(names.size).toBe(20);
    for (const name of names) {
      expect(name).toMatch(/^actions-on-modal-[0-9a-f]{6}$/);
      expect(name.length).toBeLessThanOrEqual(MAX_APP_NAME_LENGTH);
    }
  });
});

describe("the page that posts it", () => {
  it("escapes every value and runs its one script under the nonce in its policy", () => {
    const manifest = buildManifest({ ...input, name: `"><script>alert(1)</script>`, runnerScope: "repo" });
    const page = startPage({
      manifest,
      action: "https://github.com/settings/apps/new?state=abc&x=1",
      owner: "your own account",
      nonce: "bm9uY2U=",
    });
    expect(page.html).not.toContain("<script>alert");
    expect(page.html).toContain('action="https://github.com/settings/apps/new?state=abc&amp;x=1"');
    expect(page.html.match(/<script/g)).toHaveLength(1);
    expect(page.html).toContain('<script nonce="bm9uY2U=">');
    expect(page.headers["content-security-policy"]).toContain("script-src 'nonce-bm9uY2U='");
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    // The form's field holds the manifest exactly, once the browser has unescaped it.
    const value = /name="manifest" value="([^"]*)"/.exec(page.html)?.[1] ?? "";
    const unescaped = value
      .replaceAll("&quot;", '"')
      .replaceAll("&#39;", "'")
      .replaceAll("&lt;", "<")
      .replaceAll("&gt;", ">")
      .replaceAll("&amp;", "&");
    expect(JSON.parse(unescaped)).toEqual(manifest);
  });
});
