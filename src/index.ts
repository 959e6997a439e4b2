/** The Worker: wiring only. */
import { createQueueConsumer } from "./dispatch/consumer.ts";
import { createApp } from "./http/app.ts";
import { createCron } from "./reconcile/scheduled.ts";

export { Control } from "./ledger/control.ts";
export { GitHubBudget } from "./ledger/github-budget.ts";
export { JobLedger } from "./ledger/job-ledger.ts";

const app = createApp();
const queue = createQueueConsumer();
const cron = createCron();

export default {
  fetch: app.fetch,
  queue,
  async scheduled(_controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
    await cron(env);
  },
} satisfies ExportedHandler<Env>;
