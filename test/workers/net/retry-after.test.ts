/** `Retry-After` read one way for GitHub, Modal and the launcher (src/net/retry-after.ts). */
import { describe, expect, it } from "vitest";
import { retryAfterSeconds } from "../../../src/net/retry-after.ts";

const NOW = Date.parse("2026-01-01T00:00:00Z");

describe("retryAfterSeconds", () => {
  it("reads delta-seconds, spaces trimmed", () => {
    expect(retryAfterSeconds("7", NOW)).toBe(7);
    expect(retryAfterSeconds(" 0 ", NOW)).toBe(0);
    expect(retryAfterSeconds("999999", NOW)).toBe(999999);
  });

  it("reads an HTTP date as whole seconds from now, rounded up; a past date is 0", () => {
    expect(retryAfterSeconds("Thu, 01 Jan 2026 00:00:30 GMT", NOW)).toBe(30);
    expect(retryAfterSeconds("Thu, 01 Jan 2026 00:00:30 GMT", NOW + 500)).toBe(30);
    expect(retryAfterSeconds("Wed, 31 Dec 2025 23:00:00 GMT", NOW)).toBe(0);
  });

  it("is undefined when absent or garbage", () => {
    for (const value of [undefined, null, "", "soon", "-5", "1.5", "5 days", "1234567", "Thu, 99 Foo 2026"]) {
      expect(retryAfterSeconds(value, NOW), String(value)).toBeUndefined();
    }
  });
});
