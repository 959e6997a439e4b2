/**
 * A minimal protobuf (proto3) writer: only what Modal's request messages need. Our own rather than a runtime such as
 * `@bufbuild/protobuf` because we encode about ten request shapes by hand and the Worker bundle should not carry
 * a reflection runtime for that; the writer is checked byte for byte against the official SDK (conformance test).
 *
 * Method names follow proto3 field semantics, so message encoders read like the .proto file:
 * - scalars with implicit presence (`string`, `uint32`, `bool`, …) are skipped when they hold the default value,
 *   exactly as protobuf-ts/ts-proto (the SDK's generator) do;
 * - `optional…` and `message` fields are written whenever they are defined, even when empty, because presence
 *   itself carries meaning (an empty `open_ports` or `gpu_config` is what the SDK sends).
 */
export const WireType = {
  VARINT: 0,
  I64: 1,
  LEN: 2,
  SGROUP: 3,
  EGROUP: 4,
  I32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const encoder = new TextEncoder();
const TWO_32 = 0x1_0000_0000;

export class ProtoWriter {
  #buffer: Uint8Array<ArrayBuffer>;
  #view: DataView;
  #length = 0;

  constructor(initialCapacity = 64) {
    this.#buffer = new Uint8Array(initialCapacity);
    this.#view = new DataView(this.#buffer.buffer);
  }

  /** The encoded bytes (a copy sized to the content, so the writer can be dropped). */
  finish(): Uint8Array<ArrayBuffer> {
    return this.#buffer.slice(0, this.#length);
  }

  // ---- fields ---------------------------------------------------------------------------------------------------

  string(field: number, value: string): this {
    return value === "" ? this : this.optionalString(field, value);
  }

  /** An `optional string`: written when defined, even when empty. */
  optionalString(field: number, value: string | undefined): this {
    if (value === undefined) return this;
    this.#key(field, WireType.LEN);
    const lengthAt = this.#length;
    // UTF-8 straight into the buffer behind a 1-byte length slot. Room for ASCII first (ids, names, base64 JIT
    // configs); if the text did not fit, room for the worst case (3 bytes per UTF-16 unit) and encode again.
    // The extra 5 bytes cover the widest length prefix, so closing never reallocates.
    this.#reserve(6 + value.length);
    let result = encoder.encodeInto(value, this.#buffer.subarray(lengthAt + 1, lengthAt + 1 + value.length));
    if (result.read < value.length) {
      this.#reserve(6 + value.length * 3);
      result = encoder.encodeInto(value, this.#buffer.subarray(lengthAt + 1));
    }
    return this.#closeLength(lengthAt, result.written);
  }

  repeatedString(field: number, values: readonly string[]): this {
    for (const value of values) this.optionalString(field, value);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    return value.length === 0 ? this : this.#key(field, WireType.LEN).#lengthDelimited(value);
  }

  uint32(field: number, value: number): this {
    return value === 0 ? this : this.optionalUint32(field, value);
  }

  optionalUint32(field: number, value: number | undefined): this {
    if (value === undefined) return this;
    if (!Number.isInteger(value) || value < 0 || value >= TWO_32) {
      throw new RangeError(`field ${field}: ${value} is not a uint32`);
    }
    return this.#key(field, WireType.VARINT).#varint(value, 0);
  }

  /** `int32` and enums: negative values take ten bytes, sign-extended to 64 bits as the spec requires. */
  int32(field: number, value: number): this {
    if (value === 0) return this;
    if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff) {
      throw new RangeError(`field ${field}: ${value} is not an int32`);
    }
    return this.#key(field, WireType.VARINT).#varint(value >>> 0, value < 0 ? 0xffff_ffff : 0);
  }

  uint64(field: number, value: bigint): this {
    if (value === 0n) return this;
    if (value < 0n || value >= 1n << 64n) throw new RangeError(`field ${field}: ${value} is not a uint64`);
    return this.#key(field, WireType.VARINT).#varint64(value);
  }

  int64(field: number, value: bigint): this {
    if (value === 0n) return this;
    if (value < -(1n << 63n) || value >= 1n << 63n) {
      throw new RangeError(`field ${field}: ${value} is not an int64`);
    }
    return this.#key(field, WireType.VARINT).#varint64(BigInt.asUintN(64, value));
  }

  bool(field: number, value: boolean): this {
    return value ? this.#key(field, WireType.VARINT).#varint(1, 0) : this;
  }

  /** Zero (and -0, as ts-proto does) is the default and is skipped. */
  double(field: number, value: number): this {
    if (value === 0) return this;
    this.#key(field, WireType.I64).#reserve(8);
    this.#view.setFloat64(this.#length, value, true);
    this.#length += 8;
    return this;
  }

  float(field: number, value: number): this {
    if (value === 0) return this;
    this.#key(field, WireType.I32).#reserve(4);
    this.#view.setFloat32(this.#length, value, true);
    this.#length += 4;
    return this;
  }

  /**
   * A sub-message: written whenever `encode` is given, even if it writes nothing (presence is meaningful).
   * `encode` writes into this same buffer behind a 1-byte length slot, widened afterwards if the message is
   * longer than 127 bytes — no child buffers, no copies but that one shift.
   */
  message(field: number, encode: ((writer: ProtoWriter) => void) | undefined): this {
    if (encode === undefined) return this;
    this.#key(field, WireType.LEN).#reserve(1);
    const lengthAt = this.#length;
    this.#length += 1;
    encode(this);
    return this.#closeLength(lengthAt, this.#length - lengthAt - 1);
  }

  repeatedMessage<T>(
    field: number,
    items: readonly T[],
    encode: (writer: ProtoWriter, item: T) => void,
  ): this {
    for (const item of items) this.message(field, (writer) => encode(writer, item));
    return this;
  }

  /** `map<string, string>`: one entry message per key, in insertion order (what `Object.entries` gives the SDK). */
  stringMap(field: number, map: Readonly<Record<string, string>>): this {
    for (const [key, value] of Object.entries(map)) {
      this.message(field, (entry) => entry.string(1, key).string(2, value));
    }
    return this;
  }

  // ---- low level -----------------------------------------------------------------------------------------------

  #key(field: number, wireType: WireType): this {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fff_ffff)
      throw new RangeError(`bad field ${field}`);
    // field << 3 overflows int32 above 2^28: compute in floating point, then split.
    const key = field * 8 + wireType;
    return this.#varint(key % TWO_32, Math.floor(key / TWO_32));
  }

  #lengthDelimited(bytes: Uint8Array): this {
    this.#varint(bytes.length, 0).#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
    return this;
  }

  /**
   * Finishes a length-delimited value of `size` bytes written after a 1-byte slot at `lengthAt`: the content moves
   * right when its length needs more than one varint byte (protobuf wants the shortest form, as the SDK writes).
   */
  #closeLength(lengthAt: number, size: number): this {
    let width = 1;
    while (size >= 2 ** (7 * width)) width++;
    // Count the content as written before growing, so a reallocation carries it over.
    this.#length = lengthAt + 1 + size;
    if (width > 1) {
      this.#reserve(width - 1);
      this.#buffer.copyWithin(lengthAt + width, lengthAt + 1, lengthAt + 1 + size);
    }
    let position = lengthAt;
    let rest = size;
    while (rest > 0x7f) {
      this.#buffer[position++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.#buffer[position] = rest;
    this.#length = lengthAt + width + size;
    return this;
  }

  /** A varint from two unsigned 32-bit halves. */
  #varint(low: number, high: number): this {
    this.#reserve(10);
    let lo = low >>> 0;
    let hi = high >>> 0;
    while (hi !== 0 || lo > 0x7f) {
      this.#buffer[this.#length++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.#buffer[this.#length++] = lo;
    return this;
  }

  #varint64(value: bigint): this {
    return this.#varint(Number(value & 0xffff_ffffn), Number(value >> 32n));
  }

  #reserve(bytes: number): void {
    if (this.#length + bytes <= this.#buffer.length) return;
    let capacity = this.#buffer.length * 2;
    while (capacity < this.#length + bytes) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
    this.#view = new DataView(next.buffer);
  }
}
