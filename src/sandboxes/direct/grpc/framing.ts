/**
 * gRPC message framing ("Length-Prefixed-Message"): 1 flag byte (0 = uncompressed, 1 = compressed), a 4-byte
 * big-endian length, then the protobuf bytes. Over fetch we see the whole body at once and cannot read the
 * trailers, so a body of complete frames is the only evidence of success; anything else is a `FramingError`.
 */
export class FramingError extends Error {
  override readonly name = "FramingError";
  constructor(
    message: string,
    /** `truncated`: the body ends inside a frame (a cut connection); `compressed`: a frame we never asked for; `bad_flag`: not gRPC framing at all. */
    readonly kind: "truncated" | "compressed" | "bad_flag",
  ) {
    super(message);
  }
}

const HEADER_BYTES = 5;
/** Far above any response we expect (a sandbox list page is a few KiB); a larger length means garbage. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export function frameMessage(message: Uint8Array): Uint8Array<ArrayBuffer> {
  const framed = new Uint8Array(HEADER_BYTES + message.length);
  new DataView(framed.buffer).setUint32(1, message.length, false);
  framed.set(message, HEADER_BYTES);
  return framed;
}

/** Splits a response body into its messages. An empty body is zero messages (a trailers-only answer). */
export function parseFrames(body: Uint8Array): Uint8Array[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const messages: Uint8Array[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (offset + HEADER_BYTES > body.length) {
      throw new FramingError(
        `body ends inside a frame header (${body.length - offset} of 5 bytes)`,
        "truncated",
      );
    }
    const flag = view.getUint8(offset);
    const length = view.getUint32(offset + 1, false);
    if (flag === 1) throw new FramingError("compressed frame, but we accept identity only", "compressed");
    if (flag !== 0 || length > MAX_MESSAGE_BYTES) {
      throw new FramingError(`not a gRPC frame (flag ${flag}, length ${length})`, "bad_flag");
    }
    const start = offset + HEADER_BYTES;
    if (start + length > body.length) {
      throw new FramingError(
        `frame of ${length} bytes, but only ${body.length - start} arrived`,
        "truncated",
      );
    }
    messages.push(body.subarray(start, start + length));
    offset = start + length;
  }
  return messages;
}
