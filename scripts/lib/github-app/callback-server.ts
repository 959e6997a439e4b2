/**
 * The loopback end of the manifest flow: `GET /` serves the page that posts the manifest to GitHub, and
 * `GET /callback?code=…&state=…` is the manifest's `redirect_url`, where GitHub sends the browser back. Only a
 * callback carrying this run's `state` is acted on, and only the first one: the state is what tells GitHub's
 * redirect apart from a link any web page could make the browser follow to 127.0.0.1, which would otherwise
 * plant an App of someone else's choosing in the Worker.
 *
 * It listens on 127.0.0.1 only, and answers only requests addressed to that host (a page on another site
 * that rebinds its own hostname to 127.0.0.1 could otherwise read the start page and its state).
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isPlausibleCode } from "./conversion.ts";
import { type Page, resultPage } from "./pages.ts";

const HOST = "127.0.0.1";

export interface CallbackServerOptions {
  /** 0: any free port. */
  port: number;
  state: string;
  /** The start page, made once the port, and so the redirect URL, is known. */
  startPage: (redirectUrl: string) => Page;
  /** Called once, with the code of the first callback whose state matches; its page answers the browser. */
  onCode: (code: string) => Promise<Page>;
  /** Lines for the operator, e.g. about a refused callback. */
  log: (line: string) => void;
}

export interface CallbackServer {
  /** The start page: what the operator opens. */
  pageUrl: string;
  /** The manifest's `redirect_url`. */
  redirectUrl: string;
  /** Settles once the callback's page has been sent: with onCode's outcome, or its error. */
  handled: Promise<void>;
  close(): Promise<void>;
}

export class ListenError extends Error {}

/** Compares in constant time, so that answers to guesses do not tell how much of the state was right. */
export function sameState(expected: string, received: string | null): boolean {
  if (received === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(response: ServerResponse, status: number | undefined, page: Page): void {
  response.writeHead(status ?? page.status ?? 200, page.headers);
  response.end(page.html);
}

export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  let resolveHandled: () => void = () => {};
  let rejectHandled: (error: unknown) => void = () => {};
  const handled = new Promise<void>((resolve, reject) => {
    resolveHandled = resolve;
    rejectHandled = reject;
  });
  // Awaited by the caller; this keeps a failure after it stopped waiting (a timeout) from ending the process.
  handled.catch(() => {});
  let taken = false;
  let start: Page | undefined;
  let hosts: string[] = [];

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (!hosts.includes(request.headers.host ?? "")) {
      send(response, 421, resultPage("Wrong address", [{ text: `Open http://${hosts[0]}/ instead.` }]));
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET" }).end();
      return;
    }
    const url = new URL(request.url ?? "/", `http://${HOST}`);
    if (url.pathname === "/" && start !== undefined) {
      send(response, 200, start);
      return;
    }
    if (url.pathname !== "/callback") {
      send(response, 404, resultPage("Not found", [{ text: "Nothing here." }]));
      return;
    }
    if (taken) {
      send(
        response,
        410,
        resultPage("Already done", [{ text: "This run has had GitHub's answer; see the terminal." }]),
      );
      return;
    }
    if (!sameState(options.state, url.searchParams.get("state"))) {
      options.log("! refused a callback whose state is not this run's: still waiting for GitHub's");
      send(
        response,
        400,
        resultPage("Not this run's answer", [
          {
            text: "This address does not carry the state this run sent to GitHub, so nothing was done. Start again from the terminal's page.",
          },
        ]),
      );
      return;
    }
    const code = url.searchParams.get("code");
    if (code === null || !isPlausibleCode(code)) {
      options.log("! refused a callback without a usable code: still waiting");
      send(response, 400, resultPage("No code", [{ text: "GitHub's answer carried no code." }]));
      return;
    }
    taken = true;
    try {
      send(response, undefined, await options.onCode(code));
      resolveHandled();
    } catch (error) {
      send(
        response,
        500,
        resultPage("Something went wrong", [{ text: "See the terminal for what happened." }]),
      );
      rejectHandled(error);
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500).end();
      rejectHandled(error);
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new ListenError(
          error.code === "EADDRINUSE"
            ? `port ${options.port} on ${HOST} is in use: choose another with --port, or leave it out for any free one`
            : `could not listen on ${HOST}:${options.port}: ${error.message}`,
        ),
      ),
    );
    server.listen(options.port, HOST, () => {
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : options.port);
    });
  });
  hosts = [`${HOST}:${port}`, `localhost:${port}`];
  const redirectUrl = `http://${HOST}:${port}/callback`;
  start = options.startPage(redirectUrl);

  return {
    pageUrl: `http://${HOST}:${port}/`,
    redirectUrl,
    handled,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
