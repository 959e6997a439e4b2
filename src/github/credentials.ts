/**
 * Puts credentials on calls: the PAT as is, or an installation token of the App (see app-auth.ts). A cached
 * installation token that GitHub refuses with 401 (revoked, or the App was reinstalled) is dropped and the call
 * is sent once more with a fresh one; any other 401 is final. The few calls only the App itself may make go out
 * with its JWT (`appSender`), never with an installation token.
 *
 * Each call also names the rate-limit budget it spends (`pat:<hash>`, `installation:<id>`, `app:<id>`,
 * `anonymous`), so pacing can be per credential without any secret in the name.
 */
import { PermanentError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type AppTokenSource, createAppTokenSource } from "./app-auth.ts";
import { badResponse } from "./errors.ts";
import { InstallationTokenSchema, parseResponse } from "./schemas.ts";
import type { CallResult, CallSpec, OctokitRequest, Transport } from "./transport.ts";

/**
 * A PAT, or a GitHub App (its App ID or client ID, PEM private key in PKCS#1 or PKCS#8, and the default installation).
 * The same shape as `GitHubAuthConfig` in config.ts, restated so this folder does not depend on the Worker's Env.
 */
export type GitHubAuth =
  | { kind: "token"; token: string }
  | { kind: "app"; appId: string; privateKey: string; installationId: number | undefined };

export type SendSpec = Omit<CallSpec, "authorization" | "credentials" | "credential">;

export interface SendOptions {
  /** False lets the call go anonymous when an App has no installation id (public data only). */
  required?: boolean;
}

/** Sends one call with the credentials of one installation (or the PAT). */
export type Send = (
  spec: SendSpec,
  call: (request: OctokitRequest) => Promise<CallResult>,
  options?: SendOptions,
) => Promise<CallResult>;

export interface Credentials {
  /** What to check when GitHub refuses the credentials, for error messages. */
  readonly hint: string;
  sender(installationId: number | undefined): Send;
  /** Signs each call with the App's JWT; PAT auth has none, and its calls fail as `app_auth_required`. */
  appSender(): Send;
  /** The budget the calls of `sender(installationId)` spend, prefixed with the API host. */
  credentialKey(installationId: number | undefined): Promise<string>;
  /** What the installation's token may do, as GitHub granted it (exchanging one if none is cached). App only. */
  installationPermissions(installationId: number | undefined): Promise<Readonly<Record<string, string>>>;
}

interface Credential {
  authorization: string | undefined;
  /** The rate-limit budget the call spends. */
  name: string;
  /** Set for an installation token that came from the cache: a 401 earns one retry with a fresh token. */
  drop?: () => void;
}

/** A PAT's budget name: a hash prefix is enough to tell tokens apart and says nothing about the token. */
async function patName(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  const hex = Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `pat:${hex.slice(0, 16)}`;
}

export function createCredentials(options: {
  auth: GitHubAuth;
  api: Transport;
  now: () => number;
  logger: Logger;
}): Credentials {
  const { auth, api, logger } = options;
  const hint =
    auth.kind === "token"
      ? "check that GITHUB_TOKEN is valid, not expired, and approved for the organization if it requires that"
      : "check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY, that the App is still installed, and the clock";

  const tokens: AppTokenSource | undefined =
    auth.kind === "app"
      ? createAppTokenSource({
          appId: auth.appId,
          privateKey: auth.privateKey,
          now: options.now,
          async exchange(installationId, jwt) {
            const result = await api.send(
              {
                operation: "createInstallationToken",
                subject: `installation ${installationId}`,
                permission: `the App must be installed on the account; check GITHUB_APP_INSTALLATION_ID or the webhook's installation id`,
                credentials: hint,
                authorization: `Bearer ${jwt}`,
                credential: `app:${auth.appId}`,
              },
              (request) =>
                request("POST /app/installations/{installation_id}/access_tokens", {
                  installation_id: installationId,
                }),
            );
            const parsed = parseResponse(InstallationTokenSchema, "createInstallationToken", result.data);
            const expiresAt = Date.parse(parsed.expires_at);
            if (Number.isNaN(expiresAt)) throw badResponse("createInstallationToken");
            logger.info("github installation token issued", { installationId, expiresAt: parsed.expires_at });
            return { token: parsed.token, expiresAt, permissions: parsed.permissions };
          },
        })
      : undefined;

  const missingInstallation = () =>
    new PermanentError(
      "GitHub App auth needs an installation id: set GITHUB_APP_INSTALLATION_ID, or pass the webhook's installation.id",
      { service: "github", operation: "createInstallationToken", reason: "missing_installation" },
    );

  let pat: Promise<string> | undefined;
  const credential = async (installationId: number | undefined, required: boolean): Promise<Credential> => {
    if (auth.kind === "token") {
      pat ??= patName(auth.token);
      return { authorization: `Bearer ${auth.token}`, name: await pat };
    }
    if (tokens === undefined) throw new Error("unreachable: App auth without a token source");
    if (installationId === undefined) {
      if (!required) return { authorization: undefined, name: "anonymous" };
      throw missingInstallation();
    }
    const { token, cached } = await tokens.token(installationId);
    return {
      authorization: `Bearer ${token}`,
      name: `installation:${installationId}`,
      ...(cached ? { drop: () => tokens.invalidate(installationId, token) } : {}),
    };
  };
  const spec = (base: SendSpec, used: Credential): CallSpec => ({
    ...base,
    credentials: hint,
    authorization: used.authorization,
    credential: used.name,
  });

  return {
    hint,
    sender(installationId) {
      return async (callSpec, call, sendOptions = {}) => {
        const required = sendOptions.required ?? true;
        const first = await credential(installationId, required);
        try {
          return await api.send(spec(callSpec, first), call);
        } catch (error) {
          if (!(error instanceof PermanentError && error.status === 401 && first.drop !== undefined))
            throw error;
          logger.warn("github refused a cached installation token; fetching a new one", {
            operation: callSpec.operation,
            installationId,
          });
          first.drop();
          const fresh = await credential(installationId, required);
          return api.send(spec(callSpec, fresh), call);
        }
      };
    },

    appSender() {
      return async (callSpec, call) => {
        if (tokens === undefined || auth.kind !== "app") {
          throw new PermanentError(
            `GitHub ${callSpec.operation} (${callSpec.subject}) needs GitHub App auth (GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY): only the App's own JWT may make this call, and this client has a token`,
            { service: "github", operation: callSpec.operation, reason: "app_auth_required" },
          );
        }
        const jwt = await tokens.jwt();
        return api.send(spec(callSpec, { authorization: `Bearer ${jwt}`, name: `app:${auth.appId}` }), call);
      };
    },

    async installationPermissions(installationId) {
      if (tokens === undefined) {
        throw new PermanentError(
          "GitHub installation permissions: only GitHub App auth has installations; this client has a token",
          { service: "github", operation: "createInstallationToken", reason: "app_auth_required" },
        );
      }
      if (installationId === undefined) throw missingInstallation();
      return (await tokens.token(installationId)).permissions;
    },

    async credentialKey(installationId) {
      if (auth.kind === "token") {
        pat ??= patName(auth.token);
        return api.credentialKey(await pat);
      }
      // Without an installation, what the client can spend is the App's own budget (its JWT calls).
      return api.credentialKey(
        installationId === undefined ? `app:${auth.appId}` : `installation:${installationId}`,
      );
    },
  };
}
