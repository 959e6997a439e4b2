import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";
import { DEFAULT_LAUNCHER_SECRET } from "./test/emulators/launcher/control.ts";
import { TEST_PROXY_TOKEN } from "./test/support/credentials.ts";

// Offline: no telemetry, no update check, no request for Cloudflare's `cf` object.
process.env.WRANGLER_SEND_METRICS = "false";
process.env.WRANGLER_HIDE_BANNER = "true";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

export const TEST_WEBHOOK_SECRET = "test-webhook-secret-0123456789";

const LIFECYCLE = [
  "test/workers/reconcile/**/*.test.ts",
  "test/workers/ledger/**/*.test.ts",
  "test/workers/dispatch/consumer.test.ts",
  "test/workers/dispatch/refusal.test.ts",
  "test/workers/dispatch/waiting.test.ts",
  "test/workers/dispatch/burst.test.ts",
];

/**
 * A project of their own: the status page's tests pause dispatch, which no other test's ledgers may see, and the
 * scheduled handler's sweep lists every sandbox of the namespace, which no other test's counts may see.
 */
const OPERATOR = ["test/workers/http/status.test.ts", "test/workers/reconcile/handlers.test.ts"];

interface EmulatorUrls {
  githubEmulatorUrl: string;
  modalEmulatorUrl: string;
  launcherEmulatorUrl: string;
}

/**
 * A project whose Worker runs in workerd with one of the two SandboxProvider adapters; its queue consumer calls
 * the emulators' `namespace`. The dispatch and reconcile tests run in both, so both adapters are proven by the same tests.
 */
function workersProject(options: {
  name: string;
  include: string[];
  exclude?: string[];
  adapter: "direct" | "launcher";
  namespace: string;
}): TestProjectInlineConfiguration {
  const modalVars = (urls: EmulatorUrls): Record<string, string> =>
    options.adapter === "direct"
      ? { MODAL_SERVER_URL: `${urls.modalEmulatorUrl}/ns/${options.namespace}` }
      : {
          MODAL_LAUNCHER_URL: `${urls.launcherEmulatorUrl}/ns/${options.namespace}`,
          MODAL_PROXY_TOKEN_ID: TEST_PROXY_TOKEN.id,
          MODAL_PROXY_TOKEN_SECRET: TEST_PROXY_TOKEN.secret,
          LAUNCHER_SECRET: DEFAULT_LAUNCHER_SECRET,
        };
  return {
    extends: true,
    plugins: [
      cloudflareTest(async ({ inject }) => ({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
            GITHUB_TOKEN: "ghp_testtoken0000000000000000000000000000",
            GITHUB_API_URL: `${inject("githubEmulatorUrl")}/ns/${options.namespace}`,
            // Room for the sized jobs of the tests (src/jobs/sizing.ts): up to 16 cores, 64 GiB and an L4.
            MAX_SANDBOX_CPU: "16",
            MAX_SANDBOX_MEMORY_MB: "65536",
            ALLOWED_GPUS: "l4",
            MODAL_TOKEN_ID: "ak-testtokenid000000",
            MODAL_TOKEN_SECRET: "as-testtokensecret000000",
            ...modalVars({
              githubEmulatorUrl: inject("githubEmulatorUrl"),
              modalEmulatorUrl: inject("modalEmulatorUrl"),
              launcherEmulatorUrl: inject("launcherEmulatorUrl"),
            }),
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
      name: options.name,
      include: options.include,
      ...(options.exclude === undefined ? {} : { exclude: options.exclude }),
      provide: { sandboxAdapter: options.adapter, workerNamespace: options.namespace },
    },
  };
}

export default defineConfig({
  test: {
    globalSetup: ["./test/setup/global-setup.ts"],
    projects: [
      workersProject({
        name: "workers",
        include: ["test/workers/**/*.test.ts"],
        exclude: [...LIFECYCLE, ...OPERATOR],
        adapter: "direct",
        namespace: "worker",
      }),
      workersProject({
        name: "workers-launcher",
        include: ["test/workers/dispatch/e2e.test.ts"],
        adapter: "launcher",
        namespace: "worker-launcher",
      }),
      // Every ledger reconciles on its own alarm, with the Worker's configuration. Tests whose ledgers do (the
      // reconciler's, and the consumer's, whose jobs live in emulator namespaces of their own) get a Worker and a
      // namespace of their own, so what those alarms do never shows in the end-to-end tests' counts.
      workersProject({
        name: "lifecycle",
        include: LIFECYCLE,
        exclude: OPERATOR,
        adapter: "direct",
        namespace: "lifecycle",
      }),
      workersProject({ name: "operator", include: OPERATOR, adapter: "direct", namespace: "operator" }),
      workersProject({
        name: "lifecycle-launcher",
        include: LIFECYCLE.filter(
          (pattern) => !pattern.startsWith("test/workers/ledger/") && !pattern.endsWith("burst.test.ts"),
        ),
        exclude: OPERATOR,
        adapter: "launcher",
        namespace: "lifecycle-launcher",
      }),
      // `npm run bench:ledger` only: a benchmark that prints figures, not a test `npm test` runs.
      ...(process.env.BENCH_LEDGER === "1"
        ? [
            workersProject({
              name: "bench-ledger",
              include: ["test/bench/ledger.bench.ts"],
              adapter: "direct",
              namespace: "bench",
            }),
          ]
        : []),
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
