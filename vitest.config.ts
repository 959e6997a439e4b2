import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Offline: no telemetry, no update check, no request for Cloudflare's `cf` object.
process.env.WRANGLER_SEND_METRICS = "false";
process.env.WRANGLER_HIDE_BANNER = "true";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

export const TEST_WEBHOOK_SECRET = "test-webhook-secret-0123456789";

export default defineConfig({
  test: {
    globalSetup: ["./test/setup/global-setup.ts"],
    projects: [
      {
        extends: true,
        plugins: [
          cloudflareTest(async ({ inject }) => ({
            main: "./src/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
                GITHUB_TOKEN: "ghp_testtoken0000000000000000000000000000",
                GITHUB_API_URL: `${inject("githubEmulatorUrl")}/ns/worker`,
                MODAL_TOKEN_ID: "ak-testtokenid000000",
                MODAL_TOKEN_SECRET: "as-testtokensecret000000",
                MODAL_SERVER_URL: `${inject("modalEmulatorUrl")}/ns/worker`,
              },
              queueProducers: { RECORDED_QUEUE: { queueName: "test-recorded-jobs" } },
              serviceBindings: { QUEUE_RECORDER: "queue-recorder" },
              workers: [
                {
                  name: "queue-recorder",
                  modules: true,
                  scriptPath: "./test/support/queue-recorder.js",
                  compatibilityDate: "2026-04-26",
                  queueConsumers: { "test-recorded-jobs": { maxBatchTimeout: 0.05 } },
                },
              ],
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "node",
          environment: "node",
          include: ["test/node/**/*.test.ts"],
        },
      },
    ],
  },
});
