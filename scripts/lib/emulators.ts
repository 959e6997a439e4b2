/**
 * Both emulators on loopback, seeded for the offline demo and benchmarks: a token GitHub accepts, the
 * repositories the demo uses, and the only Modal token pair the Modal emulator accepts.
 */
import { githubEmulator } from "../../test/emulators/github/control-client.ts";
import { startGitHubEmulator } from "../../test/emulators/github/server.ts";
import { modalEmulator } from "../../test/emulators/modal/control-client.ts";
import { startModalEmulator } from "../../test/emulators/modal/server.ts";

export interface DemoCredentials {
  githubToken: string;
  modalTokenId: string;
  modalTokenSecret: string;
}

export const DEMO_CREDENTIALS: DemoCredentials = {
  githubToken: "ghp_demo000000000000000000000000000000000",
  modalTokenId: "ak-demo0000000000000000",
  modalTokenSecret: "as-demo0000000000000000",
};

export async function startEmulators(options: { namespace: string; repositories: string[] }) {
  const [githubServer, modalServer] = await Promise.all([startGitHubEmulator(), startModalEmulator()]);
  const github = githubEmulator(githubServer.url, options.namespace);
  const modal = modalEmulator(modalServer.url, options.namespace);
  await github.seed({
    tokens: [{ token: DEMO_CREDENTIALS.githubToken }],
    repositories: options.repositories,
  });
  await modal.credentials(DEMO_CREDENTIALS.modalTokenId, DEMO_CREDENTIALS.modalTokenSecret);
  return {
    github,
    modal,
    async close() {
      await Promise.all([githubServer.close(), modalServer.close()]);
    },
  };
}
