/** `npm run setup`'s options: which secrets a command line and an environment make, and which they refuse. */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECRET_FILE, parseSetupOptions } from "../../scripts/lib/setup/options.ts";

const dir = mkdtempSync(join(tmpdir(), "setup-options-"));
const keyPath = join(dir, "key.pem");
const pem = generateKeyPairSync("rsa", {
  modulusLength: 1024,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
}).privateKey;
writeFileSync(keyPath, pem);

const names = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  parseSetupOptions(args, env).secrets.map((secret) => `${secret.name} ${secret.source}`);

describe("parseSetupOptions", () => {
  it("takes a PAT from the option or from GITHUB_TOKEN, the option first", () => {
    expect(names(["--github-token", "ghp_a"], { GITHUB_TOKEN: "ghp_b" })).toEqual([
      "GITHUB_TOKEN --github-token",
    ]);
    expect(names([], { GITHUB_TOKEN: "ghp_b" })).toEqual(["GITHUB_TOKEN $GITHUB_TOKEN"]);
    expect(names([], { GITHUB_TOKEN: "  " })).toEqual([]);
  });

  it("reads a GitHub App's key from its file, line breaks and all, and ignores GITHUB_TOKEN beside it", () => {
    const options = parseSetupOptions(
      ["--github-app-id", "42", "--github-app-key", keyPath, "--github-app-installation-id", "7"],
      { GITHUB_TOKEN: "ghp_b" },
    );
    expect(options.secrets.map((secret) => secret.name)).toEqual([
      "GITHUB_APP_ID",
      "GITHUB_APP_PRIVATE_KEY",
      "GITHUB_APP_INSTALLATION_ID",
    ]);
    expect(options.secrets[1]?.value).toBe(pem);
    expect(options.notes).toEqual(["GITHUB_TOKEN in the environment is not stored: a GitHub App is given"]);
  });

  it("takes Modal's token pair from options or the environment; launcher mode ignores it", () => {
    expect(names([], { MODAL_TOKEN_ID: "ak-1", MODAL_TOKEN_SECRET: "as-1" })).toEqual([
      "MODAL_TOKEN_ID $MODAL_TOKEN_ID",
      "MODAL_TOKEN_SECRET $MODAL_TOKEN_SECRET",
    ]);
    const launcher = {
      MODAL_TOKEN_ID: "ak-1",
      MODAL_TOKEN_SECRET: "as-1",
      MODAL_PROXY_TOKEN_ID: "wk-1",
      MODAL_PROXY_TOKEN_SECRET: "ws-1",
    };
    expect(names(["--launcher-url", "https://l.modal.run", "--launcher-secret", "k"], launcher)).toEqual([
      "MODAL_LAUNCHER_URL --launcher-url",
      "MODAL_PROXY_TOKEN_ID $MODAL_PROXY_TOKEN_ID",
      "MODAL_PROXY_TOKEN_SECRET $MODAL_PROXY_TOKEN_SECRET",
      "LAUNCHER_SECRET --launcher-secret",
    ]);
  });

  it("writes a generated secret to .webhook-secret unless told otherwise", () => {
    expect(parseSetupOptions([], {}).secretFile).toBe(resolve(DEFAULT_SECRET_FILE));
    expect(parseSetupOptions(["--secret-file", "x/s"], {}).secretFile).toBe(resolve("x/s"));
    expect(parseSetupOptions(["--print-secret"], {}).secretFile).toBeUndefined();
    expect(parseSetupOptions(["--print-secret", "--secret-file", "s"], {}).secretFile).toBe(resolve("s"));
  });

  it("reads the webhook-secret policy and the account", () => {
    expect(parseSetupOptions([], {}).webhookSecret).toBe("generate-if-missing");
    expect(parseSetupOptions(["--keep-webhook-secret"], {}).webhookSecret).toBe("keep");
    expect(parseSetupOptions(["--rotate-webhook-secret"], {}).webhookSecret).toBe("rotate");
    expect(parseSetupOptions([], { CLOUDFLARE_ACCOUNT_ID: "abc" }).accountId).toBe("abc");
    expect(parseSetupOptions(["--account-id", "def"], { CLOUDFLARE_ACCOUNT_ID: "abc" }).accountId).toBe(
      "def",
    );
  });

  it.each([
    [["--github-token", "ghp_x", "--github-app-id", "1"], "give --github-token or a GitHub App"],
    [["--github-app-id", "1"], "--github-app-id needs --github-app-key <file.pem>"],
    [["--github-app-key", keyPath], "--github-app-key needs --github-app-id"],
    [["--github-app-installation-id", "7"], "--github-app-installation-id needs --github-app-id"],
    [
      ["--github-app-id", "1", "--github-app-key", "/nonexistent/key.pem"],
      "cannot read /nonexistent/key.pem",
    ],
    [["--keep-webhook-secret", "--rotate-webhook-secret"], "contradict each other"],
    [
      ["--modal-token-id", "ak-1"],
      "--modal-token-secret (or MODAL_TOKEN_SECRET) is needed with --modal-token-id",
    ],
    [
      ["--modal-token-secret", "as-1"],
      "--modal-token-id (or MODAL_TOKEN_ID) is needed with --modal-token-secret",
    ],
    [["--launcher-url", "https://l.modal.run"], "launcher mode also needs --modal-proxy-token-id"],
    [["--launcher-secret", "x"], "--launcher-secret is for launcher mode: it needs --launcher-url"],
    [["--launcher-url", "https://l", "--modal-token-id", "ak-1"], "--modal-token-id is for direct mode"],
  ])("refuses %j", (args, message) => {
    expect(() => parseSetupOptions(args, {})).toThrow(message);
  });

  it("refuses a key file that is not a PEM private key", () => {
    const notPem = join(dir, "id_rsa.pub");
    writeFileSync(notPem, "ssh-rsa AAAAB3NzaC1yc2E user@host\n");
    expect(() => parseSetupOptions(["--github-app-id", "1", "--github-app-key", notPem], {})).toThrow(
      "is not a PEM private key",
    );
  });
});
