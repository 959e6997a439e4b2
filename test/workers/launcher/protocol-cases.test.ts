// The cases modal/tests/launcher_cases.json holds, answered by the emulator's launcher (test/emulators/launcher)
// exactly as the Python tests expect modal/launcher.py to answer them; the signature vectors checked against the
// client's signer; and the client's reading of every reason checked against the protocol table.
import { describe, expect, it } from "vitest";
import cases from "../../../modal/tests/launcher_cases.json";
import { LAUNCHER_REASONS } from "../../../src/sandboxes/launcher/errors.ts";
import { createLauncherSigner } from "../../../src/sandboxes/launcher/signature.ts";
import { handleLauncherRequest } from "../../emulators/launcher/handler.ts";
import { createMemoryBackend } from "../../emulators/launcher/memory-backend.ts";
import { checkSignature, PROTOCOL } from "../../emulators/launcher/validate.ts";
import { hmacHex } from "./harness.ts";

type Case = (typeof cases.cases)[number];
const encoder = new TextEncoder();

function read<T>(value: object, key: string, guard: (item: unknown) => item is T): T | undefined {
  const item: unknown = Reflect.get(value, key);
  return guard(item) ? item : undefined;
}
const isString = (item: unknown): item is string => typeof item === "string";
const isNumber = (item: unknown): item is number => typeof item === "number";
const isRecord = (item: unknown): item is Record<string, unknown> =>
  typeof item === "object" && item !== null && !Array.isArray(item);
const isStrings = (item: unknown): item is string[] => Array.isArray(item) && item.every(isString);

function concat(head: Uint8Array, tail: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

function bodyOf(testCase: Case): Uint8Array {
  const raw = read(testCase, "rawBody", isString);
  if (raw !== undefined) return encoder.encode(raw);
  const base64 = read(testCase, "rawBodyBase64", isString);
  if (base64 !== undefined) return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  const repeat = read(testCase, "rawBodyRepeat", isRecord);
  if (repeat !== undefined) return encoder.encode(String(repeat.text).repeat(Number(repeat.times)));
  const base = read(cases.base, testCase.route, isRecord) ?? {};
  const body: Record<string, unknown> = { ...base, ...read(testCase, "merge", isRecord) };
  for (const field of read(testCase, "remove", isStrings) ?? []) delete body[field];
  return encoder.encode(JSON.stringify(body));
}

async function headersOf(testCase: Case, body: Uint8Array): Promise<Record<string, string>> {
  const sign = read(testCase, "sign", isRecord) ?? {};
  if (sign.omit === true) return {};
  const timestamp =
    read(sign, "timestamp", isString) ?? String(cases.now + (read(sign, "timestampOffset", isNumber) ?? 0));
  const route = read(sign, "route", isString) ?? testCase.route;
  const secret = read(sign, "secret", isString) ?? cases.secret;
  const signature =
    read(sign, "signature", isString) ??
    `sha256=${await hmacHex(secret, concat(encoder.encode(`${timestamp}.${route}.`), body))}`;
  return { "x-launcher-timestamp": timestamp, "x-launcher-signature": signature };
}

describe("the shared cases", () => {
  it.each(cases.cases.map((testCase) => [testCase.name, testCase] as const))(
    "%s",
    async (_name, testCase) => {
      const body = bodyOf(testCase);
      const response = await handleLauncherRequest(
        {
          method: read(testCase, "method", isString) ?? "POST",
          path: read(testCase, "path", isString) ?? `/${testCase.route}`,
          headers: await headersOf(testCase, body),
          body,
        },
        createMemoryBackend({ now: () => cases.now * 1000 }),
        {
          launcherSecret: read(testCase, "secretUnset", (item) => item === true) ? "" : cases.secret,
          allowedImages: cases.allowedImages,
        },
        cases.now * 1000,
      );
      const answer: unknown = JSON.parse(new TextDecoder().decode(response.body));
      expect(response.status, JSON.stringify(answer)).toBe(testCase.status);
      if (testCase.status !== 200) {
        expect(answer).toMatchObject({ reason: read(testCase, "reason", isString) });
        expect(isRecord(answer) ? answer.field : undefined).toBe(read(testCase, "field", isString));
      }
      expect(JSON.stringify(answer)).not.toContain(cases.jit);
    },
  );
});

describe("signature", () => {
  it.each(cases.signatureVectors.map((vector) => [vector.route, vector] as const))(
    "the client's signer reproduces the %s vector, and the emulator accepts it",
    async (_route, vector) => {
      const signer = createLauncherSigner(vector.secret);
      // A clock part-way through the vector's second signs with that second.
      const headers = await signer.headers(vector.route, vector.body, Number(vector.timestamp) * 1000 + 999);
      expect(headers).toEqual({
        "x-launcher-timestamp": vector.timestamp,
        "x-launcher-signature": vector.signature,
      });
      if (vector.route === "start" || vector.route === "list" || vector.route === "terminate") {
        await checkSignature(
          headers,
          vector.route,
          encoder.encode(vector.body),
          vector.secret,
          Number(vector.timestamp),
        );
      }
    },
  );
});

describe("reasons", () => {
  it("the client treats every reason of the protocol table as the table says", () => {
    const table: Record<string, { retryable: boolean }> = PROTOCOL.reasons;
    expect(Object.keys(LAUNCHER_REASONS).sort()).toEqual(Object.keys(table).sort());
    for (const [reason, spec] of Object.entries(table)) {
      expect([reason, LAUNCHER_REASONS[reason]?.retryable]).toEqual([reason, spec.retryable]);
    }
  });
});
