import { DurableObject } from "cloudflare:workers";

export class JobLedger extends DurableObject<Env> {}

export default {
  async fetch() {
    return new Response("ok");
  },
} satisfies ExportedHandler<Env>;
