/**
 * `/api`, for operators (authenticated by operator-auth.ts): the status report as JSON, pause and resume, and a
 * reconcile cycle of every owner now. Bodies are parsed with zod; an unreadable one is a 400 that changes nothing.
 */
import { Hono } from "hono";
import * as z from "zod/mini";
import { collectStatus } from "../status/collect.ts";
import { reconcileAll, setPaused } from "../status/controls.ts";
import type { AppEnv } from "./context.ts";

const PauseSchema = z.object({ terminateIdle: z.optional(z.boolean()) });

async function body<T>(
  request: Request,
  schema: z.ZodMiniType<T>,
): Promise<{ ok: true; value: T } | { ok: false }> {
  try {
    const text = await request.text();
    const parsed = schema.safeParse(text.trim() === "" ? {} : JSON.parse(text));
    return parsed.success ? { ok: true, value: parsed.data } : { ok: false };
  } catch {
    return { ok: false };
  }
}

export function createApi(options: { now: () => number }) {
  const api = new Hono<AppEnv>();
  api.get("/status", async (c) => c.json(await collectStatus(c.env, options.now())));
  api.post("/pause", async (c) => {
    const input = await body(c.req.raw, PauseSchema);
    if (!input.ok) return c.json({ error: 'the body must be {"terminateIdle"?: boolean}' }, 400);
    const result = await setPaused(c.env, true, options.now(), input.value);
    c.var.log.warn("dispatch paused", {
      by: c.var.operator,
      retiring: result.retiring,
      owners: result.owners,
    });
    return c.json(result);
  });
  api.post("/resume", async (c) => {
    const result = await setPaused(c.env, false, options.now());
    c.var.log.warn("dispatch resumed", {
      by: c.var.operator,
      released: result.released,
      owners: result.owners,
    });
    return c.json(result);
  });
  api.post("/reconcile", async (c) => c.json(await reconcileAll(c.env)));
  return api;
}
