/**
 * Installation tokens for a GitHub App: a JWT signed with the App key is exchanged for a token per installation,
 * which is kept until shortly before it expires (GitHub issues them for one hour). The JWT itself, for the few
 * calls only the App may make, is reused until a minute before it expires.
 *
 * The cache lives as long as the client object: one isolate keeps it across requests if the caller keeps the
 * client at module scope. Isolates do not share it, so each may exchange its own token; GitHub allows many
 * tokens per installation, and one exchange an hour per isolate is cheap.
 */
import { PermanentError } from "../errors.ts";
import { type AppJwt, importAppPrivateKey, signAppJwt } from "./jwt.ts";

/** Refresh this long before `expires_at`, so a token never expires in flight or on a fast clock. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** A JWT lives nine minutes (jwt.ts); sign a new one with a minute to spare. */
const JWT_REFRESH_MARGIN_MS = 60 * 1000;

export interface InstallationToken {
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** What GitHub granted the token (permission name → level), as the exchange answered. */
  permissions: Readonly<Record<string, string>>;
}

export interface AppTokenSourceOptions {
  appId: string;
  privateKey: string;
  now: () => number;
  /** `POST /app/installations/{id}/access_tokens` with the JWT; errors are the caller's (already mapped). */
  exchange(installationId: number, jwt: string): Promise<InstallationToken>;
}

export interface AppTokenSource {
  /** A valid token for the installation and what it may do; `cached` says whether it came from the cache. */
  token(
    installationId: number,
  ): Promise<{ token: string; cached: boolean; permissions: InstallationToken["permissions"] }>;
  /** Forgets a token GitHub refused (revoked, or the installation was removed and re-added). */
  invalidate(installationId: number, token: string): void;
  /** A JWT that authenticates as the App itself. */
  jwt(): Promise<string>;
}

export function createAppTokenSource(options: AppTokenSourceOptions): AppTokenSource {
  const tokens = new Map<number, InstallationToken>();
  // Concurrent calls for one installation share one exchange.
  const pending = new Map<number, Promise<InstallationToken>>();
  let key: Promise<CryptoKey> | undefined;
  let current: AppJwt | undefined;

  const jwt = async (): Promise<string> => {
    if (current !== undefined && options.now() < current.expiresAt - JWT_REFRESH_MARGIN_MS)
      return current.jwt;
    key ??= importAppPrivateKey(options.privateKey);
    current = await signAppJwt(await key, options.appId, options.now());
    return current.jwt;
  };

  const exchange = async (installationId: number): Promise<InstallationToken> => {
    const issued = await options.exchange(installationId, await jwt());
    tokens.set(installationId, issued);
    return issued;
  };

  return {
    async token(installationId) {
      if (!Number.isSafeInteger(installationId) || installationId <= 0) {
        throw new PermanentError("GitHub App installation id must be a positive integer", {
          service: "github",
          operation: "createInstallationToken",
          reason: "missing_installation",
        });
      }
      const cached = tokens.get(installationId);
      if (cached !== undefined && options.now() < cached.expiresAt - TOKEN_REFRESH_MARGIN_MS) {
        return { token: cached.token, cached: true, permissions: cached.permissions };
      }
      let inFlight = pending.get(installationId);
      if (inFlight === undefined) {
        inFlight = exchange(installationId).finally(() => pending.delete(installationId));
        pending.set(installationId, inFlight);
      }
      const issued = await inFlight;
      return { token: issued.token, cached: false, permissions: issued.permissions };
    },
    invalidate(installationId, token) {
      if (tokens.get(installationId)?.token === token) tokens.delete(installationId);
    },
    jwt,
  };
}
