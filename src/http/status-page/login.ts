/** `/status/login`: the sign-in form where a STATUS_TOKEN (not Cloudflare Access) guards the page. */
import { html } from "hono/html";
import { type Html, layout } from "./layout.ts";

export function renderLoginPage(options: { failed: boolean; nonce: string }): Html {
  return layout({
    title: "actions-on-modal — sign in",
    nonce: options.nonce,
    body: html`<main>
<h1>actions-on-modal status</h1>
${options.failed ? html`<p class="error" role="alert" id="login-failed">That token was not accepted.</p>` : ""}
<form method="post" action="/status/login">
  <p><label for="token">STATUS_TOKEN</label><br>
  <input type="password" id="token" name="token" autocomplete="current-password" required size="40"></p>
  <p><button type="submit" class="primary">Sign in</button></p>
</form>
<p class="muted">The session lasts 8 hours; the token itself is never stored in the browser.</p>
</main>`,
  });
}
