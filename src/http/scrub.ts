/**
 * A last net under the operator pages and /api: no configured secret leaves in a response body, whatever an
 * upstream error message (kept as a job's last error) happened to quote. The report holds no secret to begin with;
 * this only makes sure. Each secret is looked for as written, JSON-escaped and HTML-escaped.
 */
import type { MiddlewareHandler } from "hono";
import { secretValues } from "../config.ts";
import { redactor } from "../redact.ts";
import type { AppEnv } from "./context.ts";

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const forms = (secret: string) => [JSON.stringify(secret).slice(1, -1), escapeHtml(secret)];

export function scrubText(text: string, secrets: readonly string[]): string {
  return redactor(secrets, { forms })(text);
}

export const scrubSecrets: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const type = c.res.headers.get("content-type") ?? "";
  if (!/^(text\/html|application\/json)/.test(type)) return;
  const secrets = secretValues(c.env);
  if (secrets.length === 0) return;
  const text = await c.res.text();
  const scrubbed = scrubText(text, secrets);
  const headers = new Headers(c.res.headers);
  headers.delete("content-length");
  const status = c.res.status;
  // Cleared first: Hono's setter would otherwise copy the old response's headers onto the new one.
  c.res = undefined;
  c.res = new Response(scrubbed, { status, headers });
};
