/** The Worker's HTTP surface: the webhook, health checks, and — for operators — the status page and /api. */
import { Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { NONCE, secureHeaders } from "hono/secure-headers";
import { loadConfig, secretValues } from "../config.ts";
import { createLogger, errorFields } from "../log.ts";
import { collectStatus } from "../status/collect.ts";
import { createApi } from "./api.ts";
import type { AppEnv, AppOptions } from "./context.ts";
import { createHealthHandler, deepChecks } from "./health.ts";
import {
  createOperatorAuth,
  SESSION_COOKIE,
  SESSION_COOKIE_OPTIONS,
  sameSecret,
  sessionValue,
} from "./operator-auth.ts";
import { scrubSecrets } from "./scrub.ts";
import { renderLoginPage } from "./status-page/login.ts";
import { renderStatusPage } from "./status-page/page.ts";
import { createWebhookHandler } from "./webhook.ts";

export function createApp(options: AppOptions = {}) {
  const now = options.now ?? Date.now;
  const outbound = options.fetch ?? ((input, init) => fetch(input, init));
  const app = new Hono<AppEnv>();
  const operators = createOperatorAuth({ fetch: outbound, now });

  app.use(async (c, next) => {
    c.set("log", createLogger({ sink: options.logSink, now, secrets: secretValues(c.env) }));
    await next();
  });

  app.post("/webhook", createWebhookHandler({ now }));
  app.all("/webhook", (c) => c.json({ error: "use POST" }, 405, { allow: "POST" }));
  app.get("/healthz", createHealthHandler({ now, fetch: outbound }));

  // Operator pages: only our own inline style and script (by nonce), no framing (the pause button is a target),
  // nothing sent to other sites. /api answers JSON only; both go through the secret scrubber.
  const pageHeaders = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: [NONCE],
      styleSrc: [NONCE],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    strictTransportSecurity: false,
    xFrameOptions: "DENY",
  });
  app.use("/status", scrubSecrets, pageHeaders);
  app.use("/status/*", scrubSecrets, pageHeaders);
  app.use("/api/*", scrubSecrets);

  // The sign-in form exists only where a STATUS_TOKEN (and not Cloudflare Access) guards the page.
  const signInToken = (env: Env): string | undefined => {
    const operator = loadConfig(env).operator;
    return operator.ok && operator.value.access === undefined ? operator.value.statusToken : undefined;
  };
  app.get("/status/login", (c) => {
    if (signInToken(c.env) === undefined) return c.json({ error: "not found" }, 404);
    return c.html(renderLoginPage({ failed: false, nonce: c.get("secureHeadersNonce") ?? "" }));
  });
  app.post("/status/login", async (c) => {
    const token = signInToken(c.env);
    if (token === undefined) return c.json({ error: "not found" }, 404);
    const form = await c.req.parseBody().catch(() => ({}));
    const given = Reflect.get(form, "token");
    if (typeof given !== "string" || !(await sameSecret(given, token))) {
      c.var.log.info("status sign-in refused");
      return c.html(renderLoginPage({ failed: true, nonce: c.get("secureHeadersNonce") ?? "" }), 401);
    }
    setCookie(c, SESSION_COOKIE, await sessionValue(token), SESSION_COOKIE_OPTIONS);
    return c.redirect("/status", 303);
  });
  app.post("/status/logout", (c) => {
    if (signInToken(c.env) === undefined) return c.json({ error: "not found" }, 404);
    deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true });
    return c.redirect("/status/login", 303);
  });
  app.get("/status", operators.page, async (c) => {
    const refresh = Number(c.req.query("refresh"));
    const config = loadConfig(c.env);
    // The page proves the credentials as /healthz?deep=1 does: at most one run a minute per isolate.
    await deepChecks(c.env, config, { fetch: outbound, now, logger: c.var.log });
    return c.html(
      renderStatusPage({
        report: await collectStatus(c.env, now()),
        identity: c.var.operator ?? "unknown",
        nonce: c.get("secureHeadersNonce") ?? "",
        // Bounded: a reload every second from a forgotten tab would cost a ledger read per owner each time.
        ...(Number.isFinite(refresh) && refresh > 0
          ? { refreshSeconds: Math.max(10, Math.round(refresh)) }
          : {}),
      }),
    );
  });
  app.use("/api/*", operators.api);
  app.route("/api", createApi({ now }));

  app.get("/", (c) => c.json({ name: "actions-on-modal", webhook: "/webhook", health: "/healthz" }));

  app.notFound((c) => c.json({ error: "not found" }, 404));
  app.onError((error, c) => {
    c.var.log.error("unhandled error", { path: c.req.path, ...errorFields(error) });
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}
