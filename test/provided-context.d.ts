// What test/setup/global-setup.ts hands to every test through vitest's `inject`.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Raw JSON text of real payloads from @octokit/webhooks-examples, keyed `event` or `event.action`. */
    webhookExamples: Record<string, string>;
    /** Base URL of the GitHub emulator (test/emulators/github); `/ns/<name>` prefixes give isolated state. */
    githubEmulatorUrl: string;
    /** Base URL of the Modal emulator (test/emulators/modal); `/ns/<name>` prefixes give isolated state. */
    modalEmulatorUrl: string;
    /** Base URL of the Modal launcher emulator (test/emulators/launcher); `/ns/<name>` prefixes give isolated state. */
    launcherEmulatorUrl: string;
    /** Base URL of the Cloudflare Access emulator (test/emulators/access); `/ns/<name>` prefixes give isolated keys. */
    accessEmulatorUrl: string;
    /** Which SandboxProvider adapter this test project's Worker uses (set per project in vitest.config.ts). */
    sandboxAdapter: "direct" | "launcher";
    /** The emulator namespace the project's Worker is configured with. */
    workerNamespace: string;
  }
}
