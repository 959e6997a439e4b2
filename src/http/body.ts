/**
 * Reads a request body as raw bytes, refusing it as soon as it passes `limit` — before it is all in memory. The
 * signature is computed over exactly these bytes, so nothing may decode or re-encode them first.
 */
import { concatBytes } from "../bytes.ts";

export type BodyRead = { ok: true; bytes: Uint8Array } | { ok: false; reason: "too_large" | "unreadable" };

/**
 * A body whose stream breaks mid-read (the client went away, a proxy cut it) is the client's problem, not ours:
 * it is answered 400 like any bad request, never as an internal error.
 */
export async function readBody(request: Request, limit: number): Promise<BodyRead> {
  try {
    return await read(request, limit);
  } catch {
    return { ok: false, reason: "unreadable" };
  }
}

async function read(request: Request, limit: number): Promise<BodyRead> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) return { ok: false, reason: "too_large" };
  if (request.body === null) return { ok: true, bytes: new Uint8Array() };
  // With a declared length (and no chunked framing that could override it) the HTTP framing bounds the body, so
  // one native read is safe — and 2× cheaper for large bodies than copying chunk by chunk.
  if (Number.isSafeInteger(declared) && !request.headers.has("transfer-encoding")) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > limit) return { ok: false, reason: "too_large" };
    return { ok: true, bytes };
  }

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return { ok: false, reason: "too_large" };
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return { ok: true, bytes: chunks[0] };
  return { ok: true, bytes: concatBytes(chunks) };
}
