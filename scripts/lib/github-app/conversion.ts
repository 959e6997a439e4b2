/**
 * The last step of the manifest flow: `POST /app-manifests/{code}/conversions` turns the one-time code into the
 * App's credentials. It takes no authentication (the code is the credential), works once, and only within an
 * hour of the manifest being posted. Its answer holds the App's private key, webhook secret and client secret:
 * nothing of the body ever goes into a message.
 */
import * as z from "zod/mini";

const PEM = /^-----BEGIN (RSA )?PRIVATE KEY-----\r?\n[\s\S]+-----END (RSA )?PRIVATE KEY-----\s*$/;

/** The part of GitHub's answer (the `integration` schema plus the credentials) this script uses. */
export const ConversionSchema = z.object({
  id: z.int().check(z.positive()),
  slug: z.string().check(z.minLength(1)),
  name: z.string(),
  client_id: z.string(),
  client_secret: z.string(),
  // Null when the manifest has no webhook; ours always has one.
  webhook_secret: z.nullable(z.string()),
  pem: z.string().check(z.regex(PEM)),
  owner: z.nullable(z.object({ login: z.string() })),
  html_url: z.string(),
});
export type Conversion = z.infer<typeof ConversionSchema>;

/** GitHub's codes are 40 hex digits; anything outside this set would not survive the URL path. */
const CODE = /^[A-Za-z0-9_-]{1,200}$/;

export function isPlausibleCode(code: string): boolean {
  return CODE.test(code);
}

export type ConversionFailure =
  | { reason: "gone" }
  | { reason: "refused"; status: number; message: string | undefined }
  | { reason: "unreadable"; fields: string[] }
  | { reason: "unreachable"; message: string };

export type ConversionResult = { ok: true; app: Conversion } | { ok: false; failure: ConversionFailure };

const ErrorBodySchema = z.object({ message: z.string() });

export interface ConvertOptions {
  apiUrl: string;
  code: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export async function convertManifestCode(options: ConvertOptions): Promise<ConversionResult> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(
      `${options.apiUrl}/app-manifests/${encodeURIComponent(options.code)}/conversions`,
      {
        method: "POST",
        headers: {
          accept: "application/vnd.github+json",
          "x-github-api-version": "2022-11-28",
          "user-agent": "actions-on-modal-setup-github-app",
        },
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      },
    );
  } catch (error) {
    return {
      ok: false,
      failure: { reason: "unreachable", message: error instanceof Error ? error.message : String(error) },
    };
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.status === 404) return { ok: false, failure: { reason: "gone" } };
  if (!response.ok) {
    // An error body is GitHub's message, never a credential.
    const parsed = ErrorBodySchema.safeParse(body);
    return {
      ok: false,
      failure: {
        reason: "refused",
        status: response.status,
        message: parsed.success ? parsed.data.message : undefined,
      },
    };
  }
  const parsed = ConversionSchema.safeParse(body);
  if (!parsed.success) {
    // Paths only: the values are the credentials.
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(body)"))];
    return { ok: false, failure: { reason: "unreadable", fields } };
  }
  return { ok: true, app: parsed.data };
}
