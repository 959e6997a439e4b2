/**
 * The usual Node way to receive GitHub webhooks, for comparison in `npm run bench:webhook`: @octokit/webhooks'
 * Node middleware verifying and parsing the same deliveries. Prints `ready <port>` once listening.
 */
import { createServer } from "node:http";
import { createNodeMiddleware, Webhooks } from "@octokit/webhooks";

const secret = process.env.WEBHOOK_SECRET ?? "";
const port = Number(process.env.PORT ?? 0);
const webhooks = new Webhooks({ secret });
let received = 0;
webhooks.on("workflow_job", () => {
  received += 1;
});
const middleware = createNodeMiddleware(webhooks, {
  path: "/webhook",
  log: { debug() {}, info() {}, warn() {}, error() {} },
});
const server = createServer((request, response) => {
  void middleware(request, response);
});
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  console.log(`ready ${typeof address === "object" && address !== null ? address.port : port}`);
});
process.on("SIGTERM", () => {
  console.log(`received ${received}`);
  server.close(() => process.exit(0));
});
