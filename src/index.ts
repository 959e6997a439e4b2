/** The Worker: wiring only. */
import { createQueueConsumer } from "./dispatch/consumer.ts";
import { createApp } from "./http/app.ts";

export { JobLedger } from "./ledger/job-ledger.ts";

const app = createApp();
const queue = createQueueConsumer();

export default {
  fetch: app.fetch,
  queue,
} satisfies ExportedHandler<Env>;
