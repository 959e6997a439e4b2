import { env, exports } from "cloudflare:workers";
import { inject, expect, it } from "vitest";

it("runs", async () => {
  const res = await exports.default.fetch("http://x/");
  expect(await res.text()).toBe("ok");
  await env.RECORDED_QUEUE.send({ hello: 1 });
  await new Promise((r) => setTimeout(r, 300));
  const got = await (await env.QUEUE_RECORDER.fetch("http://r/")).json();
  expect(got).toHaveLength(1);
  expect(Object.keys(inject("webhookExamples"))).toContain("workflow_job.queued");
});
