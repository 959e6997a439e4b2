/** The Worker: wiring only. */
import { createApp } from "./http/app.ts";

export { JobLedger } from "./ledger/job-ledger.ts";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
