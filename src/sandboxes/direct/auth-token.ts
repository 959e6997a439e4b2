/**
 * The `x-modal-auth-token` cache. Modal hands out a JWT from `AuthTokenGet`; every later call carries it next to
 * the token id/secret. We keep it until shortly before its `exp` (read without verifying: it is Modal's token for
 * Modal, we only need to know when to fetch a new one). Concurrent callers share one in-flight fetch.
 *
 * The cache lives as long as the client object, i.e. per isolate in the Worker: a cold isolate pays one extra
 * call, which is the price of not persisting a credential anywhere.
 */
export interface AuthTokenCache {
  /** A valid token, fetching one if needed. */
  get(): Promise<string>;
  /** Forget the token (Modal rejected it), so the next call fetches a fresh one. */
  invalidate(token: string): void;
}

/** Refresh this long before `exp`, so a token never expires between our check and Modal's. */
const EXPIRY_MARGIN_MS = 60_000;
/** A token without a readable `exp` is kept this long (the SDK's default, 20 minutes). */
const DEFAULT_LIFETIME_MS = 20 * 60_000;

export function createAuthTokenCache(options: {
  fetchToken: () => Promise<string>;
  now: () => number;
}): AuthTokenCache {
  let token: string | undefined;
  let refreshAt = 0;
  let inFlight: Promise<string> | undefined;

  const refresh = async (): Promise<string> => {
    const fresh = await options.fetchToken();
    const fetchedAt = options.now();
    const expiresAt = jwtExpiry(fresh) ?? fetchedAt + DEFAULT_LIFETIME_MS;
    token = fresh;
    // Never schedule the refresh in the past: a token Modal just gave us is used at least once.
    refreshAt = Math.max(expiresAt - EXPIRY_MARGIN_MS, fetchedAt + 1);
    return fresh;
  };

  return {
    async get() {
      if (token !== undefined && options.now() < refreshAt) return token;
      inFlight ??= refresh().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    invalidate(rejected) {
      if (token === rejected) {
        token = undefined;
        refreshAt = 0;
      }
    },
  };
}

/** `exp` (seconds) of a JWT as milliseconds, or undefined when the token is not a readable JWT. */
export function jwtExpiry(jwt: string): number | undefined {
  const payload = jwt.split(".")[1];
  if (payload === undefined || jwt.split(".").length !== 3) return undefined;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const json: unknown = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")));
    if (typeof json !== "object" || json === null) return undefined;
    const exp: unknown = Reflect.get(json, "exp");
    return typeof exp === "number" && Number.isFinite(exp) && exp > 0 ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
