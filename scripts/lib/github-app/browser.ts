/**
 * Opens a URL in the operator's browser with the platform's own opener. Whether a browser appeared is not
 * something the opener reports reliably (xdg-open exits 0 and fails later on a machine without a desktop), so
 * the caller prints the URL either way.
 */
import { spawn } from "node:child_process";

function opener(url: string): [string, string[]] {
  if (process.platform === "darwin") return ["open", [url]];
  // `start` is a cmd built-in; its first quoted argument is a window title, hence the empty one.
  if (process.platform === "win32") return ["cmd", ["/c", "start", '""', url]];
  return ["xdg-open", [url]];
}

/** Resolves false when there is no opener to start. */
export function openInBrowser(url: string): Promise<boolean> {
  const [command, args] = opener(url);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "ignore", detached: true });
    child.once("error", () => resolve(false));
    child.once("spawn", () => {
      child.unref();
      resolve(true);
    });
  });
}
