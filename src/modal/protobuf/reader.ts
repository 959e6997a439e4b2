/**
 * A minimal protobuf reader. Message decoders walk the fields with `readMessage` and pick the numbers they know;
 * every other field is skipped, so Modal can add fields to its responses without breaking us.
 *
 * It is strict where leniency would hide a broken response: a known field arriving with the wrong wire type, a
 * varint longer than ten bytes, a length past the end, or invalid UTF-8 in a string all throw `ProtoDecodeError`,
 * which the RPC layer turns into a typed error naming the method.
 */
import { WireType } from "./writer.ts";

export class ProtoDecodeError extends Error {
  override readonly name = "ProtoDecodeError";
}

// ignoreBOM keeps a leading U+FEFF: it is part of the string, as in every protobuf runtime.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
export class ProtoReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #pos: number;
  readonly #end: number;
  // The last varint, as two unsigned 32-bit halves (numbers stay fast; bigint only when asked for 64 bits).
  #lo = 0;
  #hi = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = 0;
    this.#end = bytes.length;
  }

  get done(): boolean {
    return this.#pos >= this.#end;
  }

  /** Reads a field key; field 0 and the reserved wire types 6 and 7 are malformed. */
  key(): { field: number; wireType: number } {
    this.#varint();
    const wireType = this.#lo & 7;
    const field = (this.#lo >>> 3) + this.#hi * 2 ** 29;
    if (field < 1 || field > 0x1fff_ffff) throw new ProtoDecodeError(`invalid field number ${field}`);
    if (wireType > 5) throw new ProtoDecodeError(`invalid wire type ${wireType} for field ${field}`);
    return { field, wireType };
  }

  // ---- typed values: each checks the wire type the schema expects ------------------------------------------

  uint32(wireType: number): number {
    this.#expect(wireType, WireType.VARINT);
    this.#varint();
    return this.#lo; // uint32 takes the low 32 bits of a longer varint, as protobuf does.
  }

  /** `int32` and enums: negative values arrive sign-extended over ten bytes; the low 32 bits are the value. */
  int32(wireType: number): number {
    this.#expect(wireType, WireType.VARINT);
    this.#varint();
    return this.#lo | 0;
  }

  bool(wireType: number): boolean {
    this.#expect(wireType, WireType.VARINT);
    this.#varint();
    return this.#lo !== 0 || this.#hi !== 0;
  }

  uint64(wireType: number): bigint {
    this.#expect(wireType, WireType.VARINT);
    this.#varint();
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }

  int64(wireType: number): bigint {
    return BigInt.asIntN(64, this.uint64(wireType));
  }

  double(wireType: number): number {
    this.#expect(wireType, WireType.I64);
    return this.#view.getFloat64(this.#take(8), true);
  }

  float(wireType: number): number {
    this.#expect(wireType, WireType.I32);
    return this.#view.getFloat32(this.#take(4), true);
  }

  bytes(wireType: number): Uint8Array {
    this.#expect(wireType, WireType.LEN);
    this.#varint();
    if (this.#hi !== 0) throw new ProtoDecodeError("length-delimited field is too long");
    const start = this.#take(this.#lo);
    return this.#bytes.subarray(start, start + this.#lo);
  }

  string(wireType: number): string {
    const bytes = this.bytes(wireType);
    try {
      return utf8.decode(bytes);
    } catch {
      throw new ProtoDecodeError("string field is not valid UTF-8");
    }
  }

  /** Skips a value of any wire type, groups included (deprecated, but legal in unknown fields). */
  skip(wireType: number, field: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.#varint();
        return;
      case WireType.I64:
        this.#take(8);
        return;
      case WireType.LEN:
        this.bytes(wireType);
        return;
      case WireType.I32:
        this.#take(4);
        return;
      case WireType.SGROUP:
        for (;;) {
          if (this.done) throw new ProtoDecodeError(`unterminated group ${field}`);
          const inner = this.key();
          if (inner.wireType === WireType.EGROUP) {
            if (inner.field !== field) throw new ProtoDecodeError(`mismatched end of group ${field}`);
            return;
          }
          this.skip(inner.wireType, inner.field);
        }
      default:
        throw new ProtoDecodeError(`unexpected wire type ${wireType} for field ${field}`);
    }
  }

  // ---- low level -----------------------------------------------------------------------------------------------

  #expect(actual: number, expected: WireType): void {
    if (actual !== expected) {
      throw new ProtoDecodeError(`wire type ${actual} where ${expected} was expected`);
    }
  }

  /** Reserves `count` bytes and returns where they start. */
  #take(count: number): number {
    if (this.#pos + count > this.#end) throw new ProtoDecodeError("message ends in the middle of a field");
    const start = this.#pos;
    this.#pos += count;
    return start;
  }

  #varint(): void {
    let lo = 0;
    let hi = 0;
    for (let index = 0; index < 10; index++) {
      if (this.#pos >= this.#end) throw new ProtoDecodeError("message ends in the middle of a varint");
      const byte = this.#bytes[this.#pos++] ?? 0;
      const bits = byte & 0x7f;
      if (index < 4) {
        lo += bits * 2 ** (7 * index);
      } else if (index === 4) {
        // Bits 28..34: four go to the low half, three to the high half.
        lo += (bits & 0x0f) * 2 ** 28;
        hi = bits >>> 4;
      } else {
        if (index === 9 && bits > 1) throw new ProtoDecodeError("varint overflows 64 bits");
        hi += bits * 2 ** (7 * index - 32);
      }
      if ((byte & 0x80) === 0) {
        this.#lo = lo;
        this.#hi = hi;
        return;
      }
    }
    throw new ProtoDecodeError("varint is longer than ten bytes");
  }
}

/**
 * Walks every field of a message. `visit` returns true when it consumed the value; otherwise the field is
 * skipped as unknown.
 */
export function readMessage(
  bytes: Uint8Array,
  visit: (reader: ProtoReader, field: number, wireType: number) => boolean,
): void {
  const reader = new ProtoReader(bytes);
  while (!reader.done) {
    const { field, wireType } = reader.key();
    if (!visit(reader, field, wireType)) reader.skip(wireType, field);
  }
}
