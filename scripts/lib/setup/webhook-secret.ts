/** The webhook secret `npm run setup` generates, and the one place it is written down. */
import { randomBytes } from "node:crypto";
import { closeSync, fchmodSync, openSync, writeSync } from "node:fs";

/** 32 random bytes, hex: what GitHub's webhook form accepts and the Worker's HMAC check is keyed with. */
export function generateWebhookSecret(): string {
  return randomBytes(32).toString("hex");
}

/**
 * Writes the secret to `path`, readable by its owner only. The mode is set on the open file before anything is
 * written, so an existing file with looser permissions never holds the new secret for a moment.
 */
export function writeSecretFile(path: string, secret: string): void {
  const fd = openSync(path, "w", 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${secret}\n`);
  } finally {
    closeSync(fd);
  }
}
