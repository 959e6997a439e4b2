/**
 * Runs in Node before any test: loads the real webhook payloads our fixtures start from, and starts the GitHub and
 * Modal emulators on loopback. Tests in workerd reach the emulators over HTTP, exactly as the Worker does.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { TestProject } from "vitest/node";
import { startGitHubEmulator } from "../emulators/github/server.ts";
import { startModalEmulator } from "../emulators/modal/server.ts";

interface Example {
  action?: string;
  workflow_job?: { labels?: unknown };
}

interface ExampleGroup {
  name: string;
  examples: Example[];
}

function loadExamples(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const path = require.resolve("@octokit/webhooks-examples/api.github.com/index.json");
  const groups = JSON.parse(readFileSync(path, "utf8")) as ExampleGroup[];
  const examples: Record<string, string> = {};
  for (const group of groups) {
    if (group.name === "ping") {
      const [first] = group.examples;
      if (first !== undefined) examples.ping = JSON.stringify(first);
    }
    if (group.name === "workflow_job") {
      // The first example of each action; the self-hosted ones are preferred where there is a choice.
      for (const example of group.examples) {
        const key = `workflow_job.${example.action}`;
        const selfHosted = JSON.stringify(example.workflow_job?.labels ?? []).includes("self-hosted");
        if (examples[key] === undefined || selfHosted) examples[key] = JSON.stringify(example);
      }
    }
  }
  return examples;
}

export default async function setup(project: TestProject) {
  project.provide("webhookExamples", loadExamples());
  const github = await startGitHubEmulator();
  const modal = await startModalEmulator();
  project.provide("githubEmulatorUrl", github.url);
  project.provide("modalEmulatorUrl", modal.url);
  return async () => {
    await Promise.all([github.close(), modal.close()]);
  };
}
