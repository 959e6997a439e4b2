/** What the operator pages put through before they answer: every secret value replaced whole, in every form. */
import { expect, it } from "vitest";
import { scrubText } from "../../../src/http/scrub.ts";

it("replaces a secret that contains another whole, whichever comes first in the list", () => {
  const short = "token-0123456789abcdef";
  const long = `${short}-and-more-of-it`;
  for (const secrets of [
    [short, long],
    [long, short],
  ]) {
    const out = scrubText(`a: ${long}; b: ${short}; c: "${JSON.stringify(long).slice(1, -1)}"`, secrets);
    expect(out).not.toContain(short);
    expect(out).not.toContain("-and-more-of-it");
  }
});
