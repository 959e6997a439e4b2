import { sign } from "@octokit/webhooks-methods";
import { describe, expect, it } from "vitest";
import { checkSignature } from "../../../src/http/signature.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("checkSignature", () => {
  it("accepts GitHub's published test vector", async () => {
    const result = await checkSignature(
      ["It's a Secret to Everybody"],
      bytes("Hello, World!"),
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
    expect(result).toBe("valid");
  });

  it("agrees with @octokit/webhooks-methods on a real signature", async () => {
    const body = JSON.stringify({ hello: "wörld" });
    expect(await checkSignature(["s3cret-value"], bytes(body), await sign("s3cret-value", body))).toBe(
      "valid",
    );
  });

  it("tries every secret of a rotation, in order", async () => {
    const signature = await sign("old-secret-value", "x");
    expect(await checkSignature(["new-secret-value", "old-secret-value"], bytes("x"), signature)).toBe(
      "valid",
    );
    expect(await checkSignature(["new-secret-value"], bytes("x"), signature)).toBe("mismatch");
  });

  it.each([
    [null, "missing"],
    ["", "missing"],
    ["sha256=", "malformed"],
    ["sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17", "malformed"],
    ["sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1", "malformed"],
    ["sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17 ", "malformed"],
    ["757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "malformed"],
    ["sha1=0123456789abcdef0123456789abcdef01234567", "malformed"],
    ["sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "malformed"],
    ["sha256=857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "mismatch"],
  ])("%s → %s", async (header, expected) => {
    expect(await checkSignature(["It's a Secret to Everybody"], bytes("Hello, World!"), header)).toBe(
      expected,
    );
  });
});
