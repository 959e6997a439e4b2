/** Real webhook payloads from @octokit/webhooks-examples: the starting point of every fixture and demo delivery. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

interface Example {
  action?: string;
  workflow_job?: { labels?: unknown };
}

interface ExampleGroup {
  name: string;
  examples: Example[];
}

/** Raw JSON text keyed `ping` or `workflow_job.<action>` (the self-hosted example where there is a choice). */
export function loadWebhookExamples(): Record<string, string> {
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
      for (const example of group.examples) {
        const key = `workflow_job.${example.action}`;
        const selfHosted = JSON.stringify(example.workflow_job?.labels ?? []).includes("self-hosted");
        if (examples[key] === undefined || selfHosted) examples[key] = JSON.stringify(example);
      }
    }
  }
  return examples;
}
