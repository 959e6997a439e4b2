/**
 * The emulator's schema (test/emulators/modal/schema.ts) is a transcription of the official SDK's generated
 * code. This test reads the SDK's `encode` functions and proves the transcription: every field number, wire type
 * and name, for every message and RPC the emulator serves. The conformance test rests on it.
 */
import { describe, expect, it } from "vitest";
import { MESSAGES, METHODS } from "../emulators/modal/schema.ts";
import { sdkEncodedFields, sdkMethods } from "./support/sdk-source.ts";

const WIRE_TYPE: Record<string, number> = {
  bool: 0,
  int32: 0,
  uint32: 0,
  int64: 0,
  uint64: 0,
  double: 1,
  float: 5,
};
const camel = (name: string) =>
  name.replace(/^_/, "").replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
/** ts-proto renames a leading-underscore field `_restore_instance_type` to `RestoreInstanceType`. */
const SDK_PROPERTY: Record<string, string> = { _restore_instance_type: "RestoreInstanceType" };
/** Our schema's names for SDK messages that differ (the SDK's empty request is `AuthTokenGetRequest`). */
const SDK_MESSAGE: Record<string, string> = { Empty: "AuthTokenGetRequest" };

describe("emulator schema vs. the SDK's generated code", () => {
  for (const [message, fields] of Object.entries(MESSAGES)) {
    it(`${message}: same field numbers, wire types and names as the SDK`, () => {
      const sdk = sdkEncodedFields(SDK_MESSAGE[message] ?? message);
      const ours = Object.entries(fields).map(([number, [name, type]]) => ({
        property: SDK_PROPERTY[name] ?? camel(name),
        field: Number(number),
        wireType: type.startsWith("map<") ? 2 : (WIRE_TYPE[type] ?? 2),
      }));
      const byField = (a: { field: number }, b: { field: number }) => a.field - b.field;
      expect(ours.sort(byField)).toEqual(sdk.sort(byField));
    });
  }

  it("serves the SDK's method names with the SDK's message types", () => {
    const sdk = new Map(sdkMethods().map((method) => [method.name, method]));
    for (const [name, method] of Object.entries(METHODS)) {
      const definition = sdk.get(name);
      expect(definition, name).toBeDefined();
      expect(definition?.requestType).toBe(SDK_MESSAGE[method.request] ?? method.request);
      expect(definition?.responseType).toBe(method.response);
      expect(definition?.responseStream).toBe(method.stream === true);
    }
  });
});
