/**
 * Runs in Node before any test: loads the real webhook payloads our fixtures start from, and starts the GitHub,
 * Modal, launcher and Cloudflare Access emulators on loopback. Tests in workerd reach the emulators over HTTP,
 * exactly as the Worker does.
 */
import type { TestProject } from "vitest/node";
import { startAccessEmulator } from "../emulators/access/server.ts";
import { startGitHubEmulator } from "../emulators/github/server.ts";
import { startLauncherEmulator } from "../emulators/launcher/server.ts";
import { startModalEmulator } from "../emulators/modal/server.ts";
import { loadWebhookExamples } from "../node/support/webhook-examples.ts";

export default async function setup(project: TestProject) {
  project.provide("webhookExamples", loadWebhookExamples());
  const github = await startGitHubEmulator();
  const modal = await startModalEmulator();
  // Its own server for now; its handler can later be mounted in the Modal emulator to share sandbox state.
  const launcher = await startLauncherEmulator();
  const access = await startAccessEmulator();
  project.provide("githubEmulatorUrl", github.url);
  project.provide("modalEmulatorUrl", modal.url);
  project.provide("launcherEmulatorUrl", launcher.url);
  project.provide("accessEmulatorUrl", access.url);
  return async () => {
    await Promise.all([github.close(), modal.close(), launcher.close(), access.close()]);
  };
}
