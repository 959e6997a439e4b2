/** The Worker: wiring only. */
import { DurableObject } from "cloudflare:workers";
import { createApp } from "./http/app.ts";

const app = createApp();

export class JobLedger extends DurableObject<Env> {}

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
