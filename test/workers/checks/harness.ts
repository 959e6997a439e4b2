/**
 * A deployment of its own for each deep-check test: GitHub, Modal and launcher emulator namespaces, the test
 * Worker's env pointed at them (Modal in direct mode, or through the launcher), and the app
 * that answers `/healthz?deep=1` — with an injected clock where a test moves time.
 */
import { createExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import * as z from "zod/mini";
import { createApp } from "../../../src/http/app.ts";
import type { AppOptions } from "../../../src/http/context.ts";
import { githubEmulator } from "../../emulators/github/control-client.ts";
import { DEFAULT_LAUNCHER_SECRET } from "../../emulators/launcher/control.ts";
import { launcherEmulator } from "../../emulators/launcher/control-client.ts";
import { modalEmulator } from "../../emulators/modal/control-client.ts";
import { TEST_PROXY_TOKEN } from "../../support/credentials.ts";
import { type Vars, withVars } from "../../support/vars.ts";

const CheckSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
  fix: z.optional(z.string()),
});
export type Check = z.infer<typeof CheckSchema>;

const HealthSchema = z.object({
  ok: z.boolean(),
  checkedAt: z.optional(z.string()),
  cached: z.optional(z.boolean()),
  problems: z.optional(z.array(z.string())),
  warnings: z.optional(z.array(z.string())),
  checks: z.optional(z.array(CheckSchema)),
});

export interface HealthAnswer {
  status: number;
  body: z.infer<typeof HealthSchema>;
  /** The raw text, for "no secret in the answer" checks. */
  text: string;
}

export function deployment(label: string, vars: Vars = {}, mode: "direct" | "launcher" = "direct") {
  const namespace = `checks-${label}-${crypto.randomUUID().slice(0, 8)}`;
  const github = githubEmulator(inject("githubEmulatorUrl"), namespace);
  const modal = modalEmulator(inject("modalEmulatorUrl"), namespace);
  const launcher = launcherEmulator(inject("launcherEmulatorUrl"), namespace);
  const modalVars: Vars =
    mode === "direct"
      ? { MODAL_SERVER_URL: modal.url, MODAL_LAUNCHER_URL: "" }
      : {
          MODAL_LAUNCHER_URL: launcher.url,
          MODAL_PROXY_TOKEN_ID: TEST_PROXY_TOKEN.id,
          MODAL_PROXY_TOKEN_SECRET: TEST_PROXY_TOKEN.secret,
          LAUNCHER_SECRET: DEFAULT_LAUNCHER_SECRET,
        };
  const env = withVars({ GITHUB_API_URL: github.url, ...modalVars, ...vars });
  return { github, modal, launcher, env };
}

export function healthApp(options: AppOptions = {}) {
  const lines: string[] = [];
  const app = createApp({ logSink: (_level, line) => lines.push(line), ...options });
  const request = async (path: string, env: Env, headers: Record<string, string> = {}) => {
    const response = await app.fetch(
      new Request(`https://w.example${path}`, { headers }),
      env,
      createExecutionContext(),
    );
    return { status: response.status, text: await response.text() };
  };
  const get = async (path: string, env: Env): Promise<HealthAnswer> => {
    const { status, text } = await request(path, env);
    return { status, body: HealthSchema.parse(JSON.parse(text)), text };
  };
  return {
    lines,
    request,
    get,
    deep: (env: Env) => get("/healthz?deep=1", env),
    plain: (env: Env) => get("/healthz", env),
  };
}

/** The check of that name; the test fails when there is none. */
export function check(answer: HealthAnswer, name: string): Check {
  const found = answer.body.checks?.find((entry) => entry.name === name);
  if (found === undefined) {
    throw new Error(`no check ${name} in ${JSON.stringify(answer.body.checks?.map((entry) => entry.name))}`);
  }
  return found;
}

export const names = (answer: HealthAnswer) => answer.body.checks?.map((entry) => entry.name) ?? [];
