/**
 * The offline demo's story, played against the emulators the way GitHub plays it: jobs are queued on the GitHub
 * emulator, which delivers signed `workflow_job` webhooks to the Worker through a repository hook; the runner
 * agent plays the runner in each sandbox; GitHub's routing gives a connected runner the oldest queued job its
 * labels fit — not necessarily the one it was started for.
 */
import type { GitHubEmulatorHandle } from "../../../test/emulators/github/control-client.ts";
import type { RunnerAgent } from "./runner-agent.ts";

export interface SceneDeps {
  github: GitHubEmulatorHandle;
  agent: RunnerAgent;
  workerUrl: string;
  webhookSecret: string;
  /** The repository hook of each demo repository (GitHub's hook ids). */
  hooks: Record<string, number>;
  /** A line of the demo's own (the Worker's log lines are narrated as they come). */
  say: (text: string) => void;
  /** Waits for the Worker's log to show a line this long (the narration has printed by then). */
  settle: (ms?: number) => Promise<void>;
}

let nextJob = Date.now();

function queue(github: GitHubEmulatorHandle, repository: string, labels: string[]) {
  nextJob += 1;
  const id = nextJob;
  return {
    id,
    runner: (attempt = 1) => `modal-${id}-${attempt}`,
    send: () => github.seed({ jobs: [{ id, repository, status: "queued", labels, runId: id + 1_000_000 }] }),
  };
}

export async function playScenes(deps: SceneDeps): Promise<void> {
  const { github, agent, say, settle } = deps;
  const apiHook = deps.hooks["acme/api"] ?? 0;

  say("1. A job queued on acme/api, its runner connects, runs it, and the sandbox ends with it.");
  const first = queue(github, "acme/api", ["self-hosted", "modal"]);
  await first.send();
  await agent.sandbox(first.runner());
  await agent.connect(first.runner());
  await agent.finish(first.runner());
  await settle();
  say("   GitHub redelivers its queued delivery (same delivery id): nothing starts twice.");
  const [queued] = (await github.hookDeliveries(apiHook)).filter(
    (delivery) => delivery.action === "queued" && JSON.stringify(delivery.payload).includes(String(first.id)),
  );
  if (queued !== undefined) {
    await github.sendDelivery(apiHook, { event: "workflow_job", payload: queued.payload, guid: queued.guid });
  }
  await settle(1000);

  say(
    "2. A job with an extra label (acme/web), and one with labels that are not ours (ignored, answered 200).",
  );
  const second = queue(github, "acme/web", ["self-hosted", "modal", "linux"]);
  await second.send();
  await queue(github, "acme/api", ["ubuntu-latest"]).send();
  await agent.sandbox(second.runner());
  await agent.connect(second.runner());
  await agent.finish(second.runner());
  await settle();

  say(
    "3. A job cancelled before its runner connected: the runner is deregistered, then its sandbox terminated.",
  );
  const cancelled = queue(github, "acme/api", ["self-hosted", "modal"]);
  await cancelled.send();
  const spare = await agent.sandbox(cancelled.runner());
  await github.cancelJob(cancelled.id);
  await agent.gone(spare.id);
  await settle();

  say(
    "4. Runners are not bound to jobs: job B's runner connects first and GitHub gives it the older job A, whose" +
      " labels it covers. B gets a new runner; A's own runner, now useless, is removed.",
  );
  const a = queue(github, "acme/api", ["self-hosted", "modal"]);
  const b = queue(github, "acme/api", ["self-hosted", "modal", "large"]);
  await a.send();
  await b.send();
  await agent.sandbox(a.runner());
  await agent.sandbox(b.runner());
  await agent.connect(b.runner());
  await agent.sandbox(b.runner(2));
  await agent.connect(b.runner(2));
  await agent.finish(b.runner());
  await agent.finish(b.runner(2));
  await settle();

  say(
    "5. A delivery GitHub could not make (the Worker was unreachable): GitHub never retries on its own; the" +
      " Cron Trigger's watcher finds the failed delivery and asks GitHub to redeliver it.",
  );
  const webhook = `${deps.workerUrl}/webhook`;
  const hook = {
    id: apiHook,
    kind: "repository" as const,
    repository: "acme/api",
    secret: deps.webhookSecret,
  };
  await github.createHook({ ...hook, url: "http://127.0.0.1:9/webhook" });
  const lost = queue(github, "acme/api", ["self-hosted", "modal"]);
  await lost.send();
  await github.createHook({ ...hook, url: webhook });
  say("   (one cron cycle, triggered by hand: wrangler dev does not run crons on its own)");
  await fetch(`${deps.workerUrl}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`);
  await agent.sandbox(lost.runner());
  await agent.connect(lost.runner());
  await agent.finish(lost.runner());
  await settle();

  say(
    "6. A job sized in runs-on (modal-cpu-8, modal-mem-32g, modal-gpu-l4; the demo allows up to 8 cores and L4s)," +
      " and one asking for an H100, which ALLOWED_GPUS does not allow: refused before anything is registered.",
  );
  const sized = queue(github, "acme/api", [
    "self-hosted",
    "modal",
    "modal-cpu-8",
    "modal-mem-32g",
    "modal-gpu-l4",
  ]);
  await sized.send();
  const big = await agent.sandbox(sized.runner());
  say(`   Modal was asked for: ${big.size}`);
  await agent.connect(sized.runner());
  await agent.finish(sized.runner());
  const refused = queue(github, "acme/api", ["self-hosted", "modal", "modal-gpu-h100"]);
  await refused.send();
  await settle();
  const registered = (await github.runners()).filter((runner) =>
    runner.name.startsWith(`modal-${refused.id}-`),
  );
  say(`   Runners registered for the refused job: ${registered.length}`);
}
