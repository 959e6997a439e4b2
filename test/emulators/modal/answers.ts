/** How the emulator's HTTP/1.1 answers are built: plain text, trailers-only gRPC errors, raw injected bodies. */
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { EmulatorResponse, Outcome } from "./emulator.ts";
import type { FailRule } from "./state.ts";

const encoder = new TextEncoder();

export function text(status: number, body: string): EmulatorResponse {
  return { status, headers: { "content-type": "text/plain" }, body: encoder.encode(body), delayMs: 0 };
}

export function trailersOnly(outcome: Extract<Outcome, { ok: false }>, delayMs: number): EmulatorResponse {
  const headers: Record<string, string> = {
    "content-type": "application/grpc",
    "grpc-status": String(outcome.code),
    "grpc-message": encodeURIComponent(outcome.message),
  };
  if (outcome.retryAfterSeconds !== undefined)
    headers["grpc-status-details-bin"] = retryPolicyDetails(outcome);
  return { status: 200, headers, body: new Uint8Array(), delayMs };
}

export function rawAnswer(rule: FailRule, delayMs: number): EmulatorResponse {
  const body =
    rule.bodyBase64 !== undefined
      ? Uint8Array.from(atob(rule.bodyBase64), (char) => char.charCodeAt(0))
      : encoder.encode(rule.body ?? "");
  const headers: Record<string, string> = { "content-type": rule.contentType ?? "text/html" };
  if (rule.retryAfterSeconds !== undefined) headers["retry-after"] = String(rule.retryAfterSeconds);
  return { status: rule.httpStatus ?? 200, headers, body, delayMs };
}

/** google.rpc.Status{ code=1, message=2, details=3 → Any{ type_url=1, value=2 → RPCRetryPolicy{ retry_after_secs=1 } } }. */
function retryPolicyDetails(outcome: Extract<Outcome, { ok: false }>): string {
  const policy = new BinaryWriter();
  if (outcome.retryAfterSeconds) policy.tag(1, WireType.Bit32).float(outcome.retryAfterSeconds);
  const status = new BinaryWriter();
  if (outcome.code !== 0) status.tag(1, WireType.Varint).int32(outcome.code);
  if (outcome.message !== "") status.tag(2, WireType.LengthDelimited).string(outcome.message);
  status
    .tag(3, WireType.LengthDelimited)
    .fork()
    .tag(1, WireType.LengthDelimited)
    .string("type.googleapis.com/modal.client.RPCRetryPolicy");
  const policyBytes = policy.finish();
  if (policyBytes.length > 0) status.tag(2, WireType.LengthDelimited).bytes(policyBytes);
  status.join();
  const bytes = status.finish();
  return btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(""));
}

export function includesBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let start = 0; start + needle.length <= haystack.length; start++) {
    for (let index = 0; index < needle.length; index++)
      if (haystack[start + index] !== needle[index]) continue outer;
    return true;
  }
  return false;
}
