/**
 * The two pages the loopback server shows the browser: one that posts the manifest to GitHub on its own (GitHub
 * takes a manifest only as a form POST), and one that says how the run ended. Every value is HTML-escaped; the
 * one inline script runs under a nonce and the one style block under its hash.
 */
import { createHash } from "node:crypto";
import { type AppManifest, describePermissions } from "./manifest.ts";

export interface Page {
  html: string;
  headers: Record<string, string>;
  /** Default 200. */
  status?: number;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const STYLE =
  "body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}" +
  "code{font-size:.9em}dt{font-weight:600}button{font:inherit;padding:.4em 1.2em}";
const STYLE_HASH = createHash("sha256").update(STYLE).digest("base64");

/**
 * No `form-action` on the page with the form: browsers apply it to the redirects that follow the post too, and
 * GitHub may send the browser through a sign-in page or an identity provider on another host first.
 */
function headers(nonce: string | undefined): Record<string, string> {
  const policy = [
    "default-src 'none'",
    nonce === undefined ? "form-action 'none'" : `script-src 'nonce-${nonce}'`,
    `style-src 'sha256-${STYLE_HASH}'`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].filter((directive) => directive !== undefined);
  return {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": policy.join("; "),
    // The callback's URL holds the code: it must not follow a link to GitHub in a Referer header.
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
  };
}

function document(title: string, body: string, script = ""): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
${body}
${script}
</body>
</html>
`;
}

export interface StartPageInput {
  manifest: AppManifest;
  /** `…/settings/apps/new?state=…`, the organization's page with `--org`. */
  action: string;
  /** "your account" or "the organization octo-org". */
  owner: string;
  nonce: string;
}

export function startPage(input: StartPageInput): Page {
  const { manifest } = input;
  const body = `<h1>Create the GitHub App ${escapeHtml(manifest.name)}</h1>
<p>This page sends the App's manifest to GitHub, which asks you to confirm. It is created on ${escapeHtml(input.owner)}.</p>
<dl>
<dt>Webhook</dt><dd><code>${escapeHtml(manifest.hook_attributes.url)}</code>, event <code>workflow_job</code></dd>
<dt>Permissions</dt><dd>${escapeHtml(describePermissions(manifest.default_permissions))}</dd>
</dl>
<form id="manifest-form" method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(manifest))}">
<button type="submit">Continue to GitHub</button>
</form>`;
  // Sent on its own so the person needs no click; the button stays for browsers that block the script.
  const script = `<script nonce="${input.nonce}">document.getElementById("manifest-form").submit();</script>`;
  return {
    html: document(`Create ${manifest.name}`, body, script),
    headers: headers(input.nonce),
  };
}

/** What the browser shows once the run is over; the terminal has the details. */
export function resultPage(title: string, paragraphs: { text: string; link?: string }[], status = 200): Page {
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    ...paragraphs.map((paragraph) =>
      paragraph.link === undefined
        ? `<p>${escapeHtml(paragraph.text)}</p>`
        : `<p>${escapeHtml(paragraph.text)} <a href="${escapeHtml(paragraph.link)}">${escapeHtml(paragraph.link)}</a></p>`,
    ),
  ].join("\n");
  return { html: document(title, body), headers: headers(undefined), status };
}
