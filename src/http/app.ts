/** The Worker's HTTP surface: the webhook, a health check, and JSON for everything else. */
import { Hono } from "hono";
import { secretValues } from "../config.ts";
import { createLogger, errorFields } from "../log.ts";
import type { AppEnv, AppOptions } from "./context.ts";
import { healthHandler } from "./health.ts";
import { createWebhookHandler } from "./webhook.ts";

export function createApp(options: AppOptions = {}) {
  const now = options.now ?? Date.now;
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    c.set("log", createLogger({ sink: options.logSink, now, secrets: secretValues(c.env) }));
    await next();
  });

  app.post("/webhook", createWebhookHandler({ now }));
  app.all("/webhook", (c) => c.json({ error: "use POST" }, 405, { allow: "POST" }));
  app.get("/healthz", healthHandler);
  app.get("/", (c) => c.json({ name: "actions-on-modal", webhook: "/webhook", health: "/healthz" }));

  app.notFound((c) => c.json({ error: "not found" }, 404));
  app.onError((error, c) => {
    c.var.log.error("unhandled error", { path: c.req.path, ...errorFields(error) });
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}
