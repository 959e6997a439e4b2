/**
 * Whether GITHUB_APP_PRIVATE_KEY can sign the App's JWT: the configuration only checks that it looks like a PEM,
 * and a PEM that is text between the right lines but not an RSA key fails every App call. WebCrypto's import is
 * async, so the result is kept per configuration (once per isolate): /healthz and the status page ask often.
 */
import type { GitHubAuthConfig } from "../config/dispatch.ts";
import { importAppPrivateKey, signAppJwt } from "../github/jwt.ts";
import { messageOf } from "./check.ts";

export type AppAuth = Extract<GitHubAuthConfig, { kind: "app" }>;

const results = new WeakMap<AppAuth, Promise<string | undefined>>();

/** Why the key cannot sign (a message naming the variable, never quoting the key); undefined when it can. */
export function appKeyProblem(auth: AppAuth): Promise<string | undefined> {
  let result = results.get(auth);
  if (result === undefined) {
    // The time is irrelevant here: only whether the key signs.
    result = importAppPrivateKey(auth.privateKey)
      .then((key) => signAppJwt(key, auth.appId, 0))
      .then(
        () => undefined,
        (error: unknown) => messageOf(error),
      );
    results.set(auth, result);
  }
  return result;
}
