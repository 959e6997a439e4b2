/**
 * `npm start`: the whole flow on this machine. Without credentials it starts the GitHub and Modal emulators on
 * loopback, runs the Worker with `wrangler dev` (workerd, local Queue and Durable Objects) pointed at them, sends
 * a few signed deliveries and prints each job's path as it happens; then it keeps running. With real credentials
 * in `.dev.vars` it runs the Worker against GitHub and Modal instead, and sends nothing.
 *
 *   npm start [-- --no-demo] [-- --modal=direct|launcher]   (or MODAL_MODE=launcher npm start)
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEMO_CREDENTIALS, startEmulators } from "../test/node/support/emulators.ts";
import { loadWebhookExamples } from "../test/node/support/webhook-examples.ts";
import { startWranglerDev } from "../test/node/support/wrangler-dev.ts";
import { parseExample } from "../test/support/payloads.ts";
import { narrate, parseLog, wranglerProblem } from "./lib/demo/narrate.ts";
import { createRunnerAgent } from "./lib/demo/runner-agent.ts";
import { playScenes } from "./lib/demo/scenes.ts";

const { values } = parseArgs({
  options: {
    "no-demo": { type: "boolean", default: false },
    modal: { type: "string", default: process.env.MODAL_MODE ?? "direct" },
  },
});
if (values.modal !== "direct" && values.modal !== "launcher") {
  throw new Error("--modal must be direct or launcher");
}
const mode: "direct" | "launcher" = values.modal;
const DEMO_SECRET = "demo-webhook-secret-0123456789";
const DEMO_STATUS_TOKEN = "demo-status-token-0123456789";
const NAMESPACE = "demo";

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);

/** Real credentials in .dev.vars mean: run against GitHub and Modal, not the emulators. */
function hasRealCredentials(): boolean {
  if (!existsSync(".dev.vars")) return false;
  const vars = new Map(
    readFileSync(".dev.vars", "utf8")
      .split("\n")
      .map((line) => line.match(/^\s*([A-Z0-9_]+)\s*=\s*"?([^"]*)"?\s*$/))
      .filter((match): match is RegExpMatchArray => match !== null)
      .map((match) => [match[1] ?? "", match[2] ?? ""]),
  );
  const github = (vars.get("GITHUB_TOKEN") ?? "") !== "" || (vars.get("GITHUB_APP_ID") ?? "") !== "";
  const modal = (vars.get("MODAL_TOKEN_ID") ?? "") !== "" || (vars.get("MODAL_LAUNCHER_URL") ?? "") !== "";
  return github && modal;
}

if (hasRealCredentials()) {
  console.log(bold("actions-on-modal — .dev.vars has credentials: running against real GitHub and Modal"));
  const worker = await startWranglerDev({
    port: 8787,
    persistTo: ".wrangler/state",
    onLine: (line) => console.log(line),
  });
  console.log(`\nWorker: ${worker.url}  (webhook: ${worker.url}/webhook, health: ${worker.url}/healthz)`);
  console.log(
    "Expose it to GitHub with a tunnel (e.g. `npx wrangler dev --tunnel`), or deploy with `npx wrangler deploy`.",
  );
  process.on("SIGINT", () => void worker.stop().then(() => process.exit(0)));
} else {
  console.log(bold("actions-on-modal — offline demo against local emulators of GitHub and Modal"));
  const repositories = ["acme/api", "acme/web"];
  const emulators = await startEmulators({ namespace: NAMESPACE, repositories });
  console.log(`  GitHub emulator  ${emulators.github.url}  ${dim("(GitHub REST JSON)")}`);
  if (mode === "direct") {
    console.log(`  Modal emulator   ${emulators.modal.url}  ${dim("(Modal gRPC frames + protobuf)")}`);
  } else {
    console.log(
      `  Launcher         ${emulators.launcher.url}  ${dim("(modal/launcher.py's protocol: signed JSON)")}`,
    );
  }
  const other = mode === "direct" ? "--modal=launcher" : "--modal=direct";
  console.log(`  Modal mode       ${bold(mode)}  ${dim(`(npm start -- ${other} for the other adapter)`)}`);

  const worker = await startWranglerDev({
    vars: {
      WEBHOOK_SECRET: DEMO_SECRET,
      GITHUB_TOKEN: DEMO_CREDENTIALS.githubToken,
      GITHUB_API_URL: emulators.github.url,
      ...emulators.modalVars(mode),
      ALLOWED_REPOS: "acme/*",
      STATUS_TOKEN: DEMO_STATUS_TOKEN,
      // Room for scene 6's sized job; the H100 it also asks for stays refused.
      MAX_SANDBOX_CPU: "8",
      MAX_SANDBOX_MEMORY_MB: "32768",
      ALLOWED_GPUS: "l4",
    },
    // Crons do not run on their own under wrangler dev: the demo triggers one cycle itself.
    testScheduled: true,
    onLine: (line) => {
      // The Worker's own lines first: wrangler prints its warn-level lines behind a warning marker.
      const log = parseLog(line);
      const story = log === undefined ? undefined : narrate(log, bold, dim);
      if (story !== undefined) {
        console.log(`    ${story}`);
        return;
      }
      const problem = wranglerProblem(line);
      if (problem !== undefined) console.log(`  ${bold("wrangler:")} ${problem}`);
    },
  });
  console.log(
    `  Worker           ${worker.url}  ${dim("(wrangler dev: workerd, local Queue and Durable Objects)")}\n`,
  );

  const shutdown = async () => {
    await worker.stop();
    await emulators.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());

  if (!values["no-demo"]) {
    const example = loadWebhookExamples()["workflow_job.queued"];
    if (example === undefined) throw new Error("no queued example payload");
    // GitHub's side: a repository hook on each repository delivering to the Worker, deliveries built from a real
    // payload, and GitHub's routing of queued jobs to connected runners.
    const hooks: Record<string, number> = {};
    for (const repository of repositories) {
      hooks[repository] = await emulators.github.createHook({
        kind: "repository",
        repository,
        url: `${worker.url}/webhook`,
        secret: DEMO_SECRET,
      });
    }
    await emulators.github.settings({ assignJobs: true, jobPayloadTemplate: parseExample(example) });
    const agent = createRunnerAgent(emulators.github, {
      list: () => emulators.sandboxes(mode),
      finish: (sandboxId) => emulators.finishSandbox(mode, sandboxId),
    });
    console.log(
      bold(
        "The story, as GitHub plays it (jobs queued on the GitHub emulator, which delivers signed webhooks):",
      ),
    );
    await playScenes({
      github: emulators.github,
      agent,
      workerUrl: worker.url,
      webhookSecret: DEMO_SECRET,
      hooks,
      say: (text) => console.log(`\n  ${bold(text)}`),
      settle: (ms = 1500) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    const jits = (await emulators.github.requests()).filter((request) =>
      request.path.endsWith("/generate-jitconfig"),
    );
    const sandboxes = await emulators.sandboxes(mode);
    console.log(
      bold("\nWhat GitHub and Modal saw:") +
        ` ${jits.length} JIT registrations, ${sandboxes.length} sandboxes, ${sandboxes.filter((sandbox) => sandbox.running).length} still running ${dim("(none should be left running: each exited with its job, or was terminated once useless)")}`,
    );
    for (const sandbox of sandboxes) {
      console.log(
        `  sandbox ${sandbox.id}  ${sandbox.name.padEnd(22)} ${sandbox.running ? "running" : "ended  "}  ${sandbox.size.padEnd(22)} env keys ${sandbox.envKeys.join(", ")}`,
      );
    }
  }
  console.log(
    bold(`\nThe Worker keeps running at ${worker.url}`) +
      " — Ctrl-C stops it and the emulators. Send another delivery with:",
  );
  console.log(
    `  npm run webhook:send -- --url ${worker.url}/webhook --secret ${DEMO_SECRET} --repo acme/api`,
  );
  console.log(
    `Status page: ${worker.url}/status  ${dim(`(sign in with the demo's STATUS_TOKEN ${DEMO_STATUS_TOKEN})`)}\n`,
  );
}
