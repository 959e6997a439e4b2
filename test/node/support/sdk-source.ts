/**
 * Reads facts out of the official SDK's generated code (`node_modules/modal/dist/index.js`, modal@0.11.1):
 * the ModalClient method table and, for each message, the (field number, wire type, property) triples its
 * `encode` function writes. Tests use them to check the emulator's schema against the SDK rather than trusting
 * a transcription.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

export interface SdkMethod {
  name: string;
  requestType: string;
  responseType: string;
  requestStream: boolean;
  responseStream: boolean;
}

export interface SdkField {
  property: string;
  field: number;
  wireType: number;
}

let cached: string | undefined;

export function sdkSource(): string {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    // The package's exports map only exposes ".", so resolve the entry and read its sibling ESM build.
    const entry = require.resolve("modal");
    cached = readFileSync(entry.replace(/index\.c?js$/, "index.js"), "utf8");
  }
  return cached;
}

export function sdkMethods(): SdkMethod[] {
  const source = sdkSource();
  const start = source.indexOf("var ModalClientDefinition = {");
  if (start < 0) throw new Error("ModalClientDefinition not found in the SDK");
  const block = source.slice(start, source.indexOf("\n};", start));
  const pattern =
    /name: "(\w+)",\s*requestType: (\w+),\s*requestStream: (true|false),\s*responseType: (\w+),\s*responseStream: (true|false)/g;
  return [...block.matchAll(pattern)].map((match) => ({
    name: match[1] ?? "",
    requestType: match[2] ?? "",
    requestStream: match[3] === "true",
    responseType: match[4] ?? "",
    responseStream: match[5] === "true",
  }));
}

/** The fields `<message>.encode` writes, from lines such as `writer.uint32(242).string(message.name)`. */
export function sdkEncodedFields(message: string): SdkField[] {
  const source = sdkSource();
  // An empty message's encoder names its parameter `_`.
  const start = source.search(
    new RegExp(`\\nvar ${message} = \\{\\n  encode\\(\\w+, writer = new BinaryWriter\\(\\)\\) \\{`),
  );
  if (start < 0) throw new Error(`message ${message} not found in the SDK`);
  const end = source.indexOf("\n  decode(", start);
  const body = source.slice(start, end);
  const fields: SdkField[] = [];
  let property = "";
  for (const line of body.split("\n")) {
    const subject = /message\.(\w+)/.exec(line);
    if (subject?.[1] !== undefined) property = subject[1];
    const tag = /writer\.uint32\((\d+)\)/.exec(line);
    if (tag?.[1] !== undefined) {
      const value = Number(tag[1]);
      fields.push({ property, field: value >>> 3, wireType: value & 7 });
    }
  }
  return fields;
}
