/**
 * For tests of the operator surface (`/status`, `/api`): a STATUS_TOKEN, Cloudflare Access pointed at the Access
 * emulator, requests as a browser or a script sends them, and the real app answering them with the test's vars.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { accessEmulator } from "../emulators/access/control-client.ts";
import { type Vars, withVars } from "./vars.ts";

export const STATUS_TOKEN = "status-token-0123456789abcdefghij";
export const ACCESS_TEAM = "acme-team.cloudflareaccess.com";
export const ACCESS_AUD = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2";
export const ORIGIN = "https://w.example";

/** Neither a token nor Access: the page does not exist. */
export const NO_OPERATOR: Vars = {
  STATUS_TOKEN: "",
  ACCESS_TEAM_DOMAIN: "",
  ACCESS_AUD: "",
  ACCESS_CERTS_URL: "",
};

export const TOKEN_VARS: Vars = { ...NO_OPERATOR, STATUS_TOKEN };

/**
 * GitHub and Modal in an emulator namespace nobody seeds: the page's deep checks call them (and fail), and no call
 * shows in the counts of the tests that share the Worker's own namespace.
 */
export function isolatedUpstreams(namespace: string): Vars {
  return {
    GITHUB_API_URL: `${inject("githubEmulatorUrl")}/ns/${namespace}`,
    MODAL_SERVER_URL: `${inject("modalEmulatorUrl")}/ns/${namespace}`,
  };
}

/** Access configured against one namespace of the Access emulator (a token set too: Access wins). */
export function accessSetup(namespace: string) {
  const access = accessEmulator(inject("accessEmulatorUrl"), namespace);
  const vars: Vars = {
    ...NO_OPERATOR,
    STATUS_TOKEN,
    ACCESS_TEAM_DOMAIN: ACCESS_TEAM,
    ACCESS_AUD,
    ACCESS_CERTS_URL: access.certsUrl,
  };
  return { access, vars };
}

/** Claims as Access puts them in an application token, valid for ten minutes from `nowMs`. */
export function accessClaims(nowMs: number, overrides: Record<string, unknown> = {}) {
  const seconds = Math.floor(nowMs / 1000);
  return {
    aud: [ACCESS_AUD],
    email: "operator@example.com",
    exp: seconds + 600,
    iat: seconds,
    nbf: seconds,
    iss: `https://${ACCESS_TEAM}`,
    type: "app",
    identity_nonce: "6ei69kawdKzMIAPF",
    sub: "7335d417-61da-459d-899c-0a01c76a2f94",
    country: "CH",
    ...overrides,
  };
}

export interface OperatorRequest {
  method?: string;
  token?: string;
  cookie?: string;
  jwt?: string;
  body?: string;
  contentType?: string;
  origin?: string;
}

export function operatorRequest(path: string, options: OperatorRequest = {}): Request {
  const headers = new Headers();
  if (options.token !== undefined) headers.set("authorization", `Bearer ${options.token}`);
  if (options.cookie !== undefined) headers.set("cookie", options.cookie);
  if (options.jwt !== undefined) headers.set("cf-access-jwt-assertion", options.jwt);
  if (options.contentType !== undefined) headers.set("content-type", options.contentType);
  if (options.origin !== undefined) headers.set("origin", options.origin);
  return new Request(`${ORIGIN}${path}`, {
    method: options.method ?? "GET",
    headers,
    redirect: "manual",
    ...(options.body === undefined ? {} : { body: options.body }),
  });
}

/** The real app with these vars and (for Access's expiry and key refetch pacing) a clock of the test's. */
export function operatorApp(vars: Vars, now: () => number = Date.now) {
  const app = createApp({ now, logSink: () => {} });
  const env = withVars(vars);
  return async (request: Request): Promise<Response> => {
    const ctx = createExecutionContext();
    const response = await app.fetch(request, env, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}
