/** The one redactor (src/redact.ts) under the logger, the upstream clients' errors and the operator pages. */
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";
import { MIN_SECRET_LENGTH, redactor } from "../../src/redact.ts";

describe("redactor", () => {
  it("replaces every occurrence of a secret of at least the minimum length", () => {
    const redact = redactor(["abcd", "a-long-secret-value-0123456789", undefined]);
    expect(MIN_SECRET_LENGTH).toBe(4);
    expect(redact("x abcd y abcd")).toBe("x [redacted] y [redacted]");
    expect(redact("token=a-long-secret-value-0123456789;")).toBe("token=[redacted];");
  });

  it("leaves values shorter than the minimum alone: they would redact ordinary words", () => {
    expect(redactor(["abc", ""])("abc and abc")).toBe("abc and abc");
  });

  it("replaces a secret that contains another whole, and the extra forms asked for", () => {
    const redact = redactor(["secret-1", "secret-1-and-more"], { forms: (secret) => [secret.toUpperCase()] });
    expect(redact("secret-1-and-more / SECRET-1")).toBe("[redacted] / [redacted]");
  });

  it("is the logger's rule too", () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (_, line) => lines.push(line), now: () => 0, secrets: ["abcd", "abc"] });
    log.info("saw abcd and abc");
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ msg: "saw [redacted] and abc" });
  });
});
