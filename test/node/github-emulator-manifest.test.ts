/**
 * The GitHub App manifest flow: the form post, the redirect with a single-use code, the conversion into App
 * credentials whose PKCS#1 key Node reads and whose JWTs the emulator then accepts. Manifests GitHub refuses are
 * refused here too.
 */
import { createPrivateKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { appJwt, call, namespace, PAT } from "./support/github.ts";

const Conversion = z.object({
  id: z.int(),
  slug: z.string(),
  client_id: z.string(),
  client_secret: z.string(),
  webhook_secret: z.nullable(z.string()),
  pem: z.string(),
  owner: z.object({ login: z.string(), type: z.string() }),
  permissions: z.record(z.string(), z.string()),
  events: z.array(z.string()),
});

const manifest = {
  name: "Modal Runners",
  url: "https://example.com/modal-runners",
  hook_attributes: { url: "https://example.com/webhook" },
  redirect_url: "https://example.com/setup/callback?from=manifest",
  public: false,
  default_permissions: {
    administration: "write",
    organization_self_hosted_runners: "write",
    actions: "read",
  },
  default_events: ["workflow_job"],
};

describe("the manifest flow", () => {
  it("redirects with code and state, converts the code once into an App whose key signs accepted JWTs", async () => {
    const ns = namespace("manifest-org");
    const answer = await ns.submitManifest({ manifest, org: "octo-org", state: "xyz-123" });
    expect(answer.status).toBe(302);
    const location = new URL(answer.location ?? "");
    expect(`${location.origin}${location.pathname}`).toBe("https://example.com/setup/callback");
    expect(location.searchParams.get("from")).toBe("manifest");
    expect(answer.state).toBe("xyz-123");
    expect(answer.code).toMatch(/^[0-9a-f]{40}$/);

    const converted = await call(ns.url, "POST", `/app-manifests/${answer.code}/conversions`);
    expect(converted.status).toBe(201);
    const app = Conversion.parse(converted.body);
    expect(app).toMatchObject({
      slug: "modal-runners",
      owner: { login: "octo-org", type: "Organization" },
      permissions: { metadata: "read", administration: "write", actions: "read" },
      events: ["workflow_job"],
    });
    expect(app.webhook_secret).toMatch(/^[0-9a-f]{40}$/);
    expect(app.pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const key = createPrivateKey(app.pem);
    expect(key.asymmetricKeyType).toBe("rsa");
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);

    // Single use.
    expect((await call(ns.url, "POST", `/app-manifests/${answer.code}/conversions`)).status).toBe(404);

    // The App is registered with its key, its hook, and (an emulator choice) installed on the organization.
    const jwt = `Bearer ${appJwt(app.pem, app.id)}`;
    const installation = await call(ns.url, "GET", "/orgs/octo-org/installation", { authorization: jwt });
    expect(installation.status).toBe(200);
    expect(installation.body).toMatchObject({
      app_id: app.id,
      app_slug: "modal-runners",
      target_type: "Organization",
    });
    expect((await call(ns.url, "GET", "/app/hook/deliveries", { authorization: jwt })).status).toBe(200);
    const self = await call(ns.url, "GET", "/app", { authorization: jwt });
    expect(self.status).toBe(200);
    expect(self.body).toMatchObject({
      id: app.id,
      slug: "modal-runners",
      client_id: app.client_id,
      owner: { login: "octo-org" },
      external_url: manifest.url,
      permissions: { administration: "write", organization_self_hosted_runners: "write", actions: "read" },
      events: ["workflow_job"],
    });
    expect((await call(ns.url, "GET", "/app", { authorization: `Bearer ${PAT}` })).status).toBe(401);
    expect((await ns.apps()).find((entry) => entry.id === app.id)).toMatchObject({
      owner: "octo-org",
      clientId: app.client_id,
      installations: [{ account: "octo-org" }],
      hookId: expect.any(Number),
    });
  });

  it("lets a user create one on their own account (no installation), and codes expire after an hour", async () => {
    const ns = namespace("manifest-user");
    const first = await ns.submitManifest({ manifest: { ...manifest, name: "Mine" } });
    expect(first.status).toBe(302);
    expect(first.state).toBeNull();
    const converted = Conversion.parse(
      (await call(ns.url, "POST", `/app-manifests/${first.code}/conversions`)).body,
    );
    expect(converted.owner).toMatchObject({ login: "octocat", type: "User" });
    expect((await ns.apps())[0]?.installations).toEqual([]);

    const second = await ns.submitManifest({ manifest: { ...manifest, name: "Later" } });
    await ns.setClock(3601);
    expect((await call(ns.url, "POST", `/app-manifests/${second.code}/conversions`)).status).toBe(404);
  });

  it("serves the web pages outside /api/v3 on GHES, and conversions inside it", async () => {
    const ns = namespace("manifest-ghes");
    const underApi = await fetch(`${ns.url}/api/v3/settings/apps/new`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "browser" },
      body: new URLSearchParams({ manifest: JSON.stringify(manifest) }).toString(),
      redirect: "manual",
    });
    expect(underApi.status).toBe(404);
    const answer = await ns.submitManifest({ manifest, org: "octo-org" });
    const converted = await call(`${ns.url}/api/v3`, "POST", `/app-manifests/${answer.code}/conversions`);
    expect(converted.status).toBe(201);
  });

  it.each([
    { label: "no manifest field", manifest: undefined, status: 400 },
    { label: "a manifest that is not JSON", manifest: "{not json", status: 400 },
    { label: "no url", manifest: { ...manifest, url: undefined }, status: 422 },
    { label: "a url that is not http(s)", manifest: { ...manifest, url: "ftp://example.com" }, status: 422 },
    {
      label: "a hook without its url",
      manifest: { ...manifest, hook_attributes: { active: true } },
      status: 422,
    },
    {
      label: "a redirect_url that is no URL",
      manifest: { ...manifest, redirect_url: "/relative" },
      status: 422,
    },
    { label: "a name over 34 characters", manifest: { ...manifest, name: "x".repeat(35) }, status: 422 },
    {
      label: "an unknown permission",
      manifest: { ...manifest, default_permissions: { runners: "write" } },
      status: 422,
    },
    {
      label: "a level the permission does not have",
      manifest: { ...manifest, default_permissions: { metadata: "admin" } },
      status: 422,
    },
    { label: "an unknown event", manifest: { ...manifest, default_events: ["workflow_jobs"] }, status: 422 },
  ])("refuses $label", async ({ manifest: submitted, status }) => {
    const ns = namespace("manifest-refused");
    const body = new URLSearchParams(
      submitted === undefined
        ? {}
        : { manifest: typeof submitted === "string" ? submitted : JSON.stringify(submitted) },
    );
    const answer = await fetch(ns.manifestPageUrl("octo-org"), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      redirect: "manual",
    });
    expect(answer.status).toBe(status);
    expect(answer.headers.get("location")).toBeNull();
  });

  it("refuses an unknown organization, and a name already taken", async () => {
    const ns = namespace("manifest-org-missing");
    await ns.seed({ organizations: ["octo-org"] });
    expect((await ns.submitManifest({ manifest, org: "nobody" })).status).toBe(404);
    const first = await ns.submitManifest({ manifest, org: "octo-org" });
    await call(ns.url, "POST", `/app-manifests/${first.code}/conversions`);
    expect((await ns.submitManifest({ manifest, org: "octo-org" })).status).toBe(422);
  });

  it("refuses a name that is another account's login, and takes the owner's own", async () => {
    const ns = namespace("manifest-login");
    await ns.seed({ organizations: ["octo-org", "other-org"], repositories: ["mona/site"] });
    const taken = await ns.submitManifest({ manifest: { ...manifest, name: "Other Org" }, org: "octo-org" });
    expect(taken.status).toBe(422);
    expect(taken.body).toContain("user or organization");
    for (const name of ["mona", "octocat"]) {
      expect((await ns.submitManifest({ manifest: { ...manifest, name }, org: "octo-org" })).status).toBe(
        422,
      );
    }
    const own = await ns.submitManifest({ manifest: { ...manifest, name: "octo-org" }, org: "octo-org" });
    expect(own.status).toBe(302);
  });
});
