/** The Worker's HTTP surface: the webhook, health checks, and — for operators — the status page and /api. */
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { loadConfig, secretValues } from "../config.ts";
import { createLogger, errorFields } from "../log.ts";
import { collectStatus } from "../status/collect.ts";
import { createApi } from "./api.ts";
import type { AppEnv, AppOptions } from "./context.ts";
import { createHealthHandler } from "./health.ts";
import { createOperatorAuth, SESSION_COOKIE, sameSecret, sessionValue } from "./operator-auth.ts";
import { renderLoginPage, renderStatusPage } from "./status-page.ts";
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

  // The sign-in form exists only where a STATUS_TOKEN (and not Cloudflare Access) guards the page.
  app.get("/status/login", (c) => {
    const operator = loadConfig(c.env).operator;
    if (!operator.ok || operator.value.access !== undefined || operator.value.statusToken === undefined) {
      return c.json({ error: "not found" }, 404);
    }
    return c.html(renderLoginPage(false));
  });
  app.post("/status/login", async (c) => {
    const operator = loadConfig(c.env).operator;
    const token = operator.ok && operator.value.access === undefined ? operator.value.statusToken : undefined;
    if (token === undefined) return c.json({ error: "not found" }, 404);
    const form = await c.req.parseBody().catch(() => ({}));
    const given = Reflect.get(form, "token");
    if (typeof given !== "string" || !(await sameSecret(given, token))) {
      c.var.log.info("status sign-in refused");
      return c.html(renderLoginPage(true), 401);
    }
    setCookie(c, SESSION_COOKIE, await sessionValue(token), {
      httpOnly: true,
      secure: true,
      sameSite: "Strict",
      path: "/",
      maxAge: 8 * 60 * 60,
    });
    return c.redirect("/status", 303);
  });
  app.get("/status", operators.page, async (c) =>
    c.html(renderStatusPage(await collectStatus(c.env, now()))),
  );
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
