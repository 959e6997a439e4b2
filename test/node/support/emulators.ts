/**
 * The emulators on loopback, seeded for the offline demo and benchmarks: a token GitHub accepts, the repositories
 * the demo uses, the only Modal token pair the Modal emulator accepts, and the launcher's proxy token and secret.
 */
import { githubEmulator } from "../../emulators/github/control-client.ts";
import { startGitHubEmulator } from "../../emulators/github/server.ts";
import { launcherEmulator } from "../../emulators/launcher/control-client.ts";
import { startLauncherEmulator } from "../../emulators/launcher/server.ts";
import { gpuString, modalEmulator } from "../../emulators/modal/control-client.ts";
import { startModalEmulator } from "../../emulators/modal/server.ts";

export const DEMO_CREDENTIALS = {
  githubToken: "ghp_demo000000000000000000000000000000000",
  modalTokenId: "ak-demo0000000000000000",
  modalTokenSecret: "as-demo0000000000000000",
  proxyTokenId: "wk-demo0000000000000000",
  proxyTokenSecret: "ws-demo0000000000000000",
  launcherSecret: "demo-launcher-secret-0123456789",
} as const;

export async function startEmulators(options: { namespace: string; repositories: string[] }) {
  const [githubServer, modalServer, launcherServer] = await Promise.all([
    startGitHubEmulator(),
    startModalEmulator(),
    startLauncherEmulator(),
  ]);
  const github = githubEmulator(githubServer.url, options.namespace);
  const modal = modalEmulator(modalServer.url, options.namespace);
  const launcher = launcherEmulator(launcherServer.url, options.namespace);
  await github.seed({
    tokens: [{ token: DEMO_CREDENTIALS.githubToken }],
    repositories: options.repositories,
  });
  await modal.credentials(DEMO_CREDENTIALS.modalTokenId, DEMO_CREDENTIALS.modalTokenSecret);
  await launcher.settings({
    proxyTokenId: DEMO_CREDENTIALS.proxyTokenId,
    proxyTokenSecret: DEMO_CREDENTIALS.proxyTokenSecret,
    launcherSecret: DEMO_CREDENTIALS.launcherSecret,
  });
  return {
    github,
    modal,
    launcher,
    /** Worker variables that reach Modal through `mode`: the direct gRPC client, or the launcher. */
    modalVars(mode: "direct" | "launcher"): Record<string, string> {
      return mode === "direct"
        ? {
            MODAL_TOKEN_ID: DEMO_CREDENTIALS.modalTokenId,
            MODAL_TOKEN_SECRET: DEMO_CREDENTIALS.modalTokenSecret,
            MODAL_SERVER_URL: modal.url,
          }
        : {
            MODAL_LAUNCHER_URL: launcher.url,
            MODAL_PROXY_TOKEN_ID: DEMO_CREDENTIALS.proxyTokenId,
            MODAL_PROXY_TOKEN_SECRET: DEMO_CREDENTIALS.proxyTokenSecret,
            LAUNCHER_SECRET: DEMO_CREDENTIALS.launcherSecret,
          };
    },
    /** Sandboxes started so far, whichever way. */
    async sandboxes(mode: "direct" | "launcher") {
      if (mode === "direct") {
        return (await modal.sandboxes()).map((sandbox) => ({
          id: sandbox.id,
          name: sandbox.name ?? "",
          tags: sandbox.tags,
          envKeys: Object.keys(sandbox.env),
          size: sizeOf(
            sandbox.resources.milliCpu / 1000,
            sandbox.resources.memoryMb,
            gpuString(sandbox.resources.gpu),
          ),
          running: sandbox.result === undefined,
        }));
      }
      return (await launcher.sandboxes()).map((sandbox) => ({
        id: sandbox.sandboxId,
        name: sandbox.name,
        tags: sandbox.tags,
        envKeys: Object.keys(sandbox.env),
        size: sizeOf(sandbox.cpu, sandbox.memoryMiB, sandbox.gpu),
        running: sandbox.running,
      }));
    },
    /** As if a sandbox's process exited on its own. */
    async finishSandbox(mode: "direct" | "launcher", sandboxId: string) {
      if (mode === "direct") await modal.finish(sandboxId);
      else await launcher.finish(sandboxId);
    },
    async close() {
      await Promise.all([githubServer.close(), modalServer.close(), launcherServer.close()]);
    },
  };
}

/** A sandbox's size as the emulator recorded it, in words: "8 cores, 32 GiB, L4". */
function sizeOf(cores: number, memoryMiB: number, gpu: string | null): string {
  const memory = memoryMiB % 1024 === 0 ? `${memoryMiB / 1024} GiB` : `${memoryMiB} MiB`;
  return [`${cores} cores`, memory, ...(gpu === null ? [] : [gpu])].join(", ");
}
