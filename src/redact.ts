/**
 * The one rule for keeping secret values out of text: every value of at least `MIN_SECRET_LENGTH` characters is
 * replaced whole by `[redacted]`, the longest first, so a secret that contains another goes whole. Used by the
 * logger, the upstream clients' error messages and the operator pages.
 */
export const REDACTED = "[redacted]";
/** Shorter values would redact ordinary words; four is the shortest any of our secrets is allowed to be quoted at. */
export const MIN_SECRET_LENGTH = 4;

export interface RedactorOptions {
  /** The forms each secret is looked for in besides itself (say, JSON- or HTML-escaped). */
  forms?: (secret: string) => readonly string[];
}

export function redactor(
  values: readonly (string | undefined)[],
  options: RedactorOptions = {},
): (text: string) => string {
  const secrets = values
    .filter((value): value is string => typeof value === "string" && value.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  const targets = secrets.flatMap((secret) => [...new Set([secret, ...(options.forms?.(secret) ?? [])])]);
  return (text) =>
    targets.reduce(
      (result, target) => (result.includes(target) ? result.split(target).join(REDACTED) : result),
      text,
    );
}
