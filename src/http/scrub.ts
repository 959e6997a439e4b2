/**
 * A last net under the operator pages and /api: no configured secret leaves in a response body, whatever an
 * upstream error message (kept as a job's last error) happened to quote. The report holds no secret to begin with;
 * this only makes sure. Each secret is looked for as written, JSON-escaped and HTML-escaped.
 */
import type { MiddlewareHandler } from "hono";
import { secretValues } from "../config.ts";
import type { AppEnv } from "./context.ts";

const REDACTED = "[redacted]";
/** Shorter values would redact ordinary words (the logger draws the same line). */
const MIN_SECRET_LENGTH = 6;

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first: a secret that contains another is replaced whole, not around the shorter one.
  for (const secret of [...secrets].sort((x, y) => y.length - x.length)) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1), escapeHtml(secret)])) {
      if (out.includes(form)) out = out.split(form).join(REDACTED);
    }
  }
  return out;
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
