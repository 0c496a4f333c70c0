/**
 * The subset of MessagePack that wslink messages use (nil, booleans, numbers, strings, binary,
 * arrays, maps), so the tests can speak wslink 2.x's binary protocol without a dependency.
 * Extension types are rejected.
 *
 * @module
 */

/** A value MessagePack can carry here. */
export type Packable =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | Packable[]
  | { [key: string]: Packable };

/** Encodes `value` as MessagePack. */
export function encode(value: Packable): Uint8Array {
  const out = new Writer();
  write(out, value);
  return out.bytes();
}

class Writer {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  #room(n: number): number {
    if (this.#len + n > this.#buf.length) {
      const bigger = new Uint8Array(
        Math.max(this.#buf.length * 2, this.#len + n),
      );
      bigger.set(this.#buf);
      this.#buf = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    const at = this.#len;
    this.#len += n;
    return at;
  }

  byte(b: number): void {
    const at = this.#room(1);
    this.#buf[at] = b;
  }

  uint(size: 1 | 2 | 4, n: number): void {
    const at = this.#room(size);
    if (size === 1) this.#view.setUint8(at, n);
    else if (size === 2) this.#view.setUint16(at, n);
    else this.#view.setUint32(at, n);
  }

  int32(n: number): void {
    this.#view.setInt32(this.#room(4), n);
  }

  float64(n: number): void {
    this.#view.setFloat64(this.#room(8), n);
  }

  raw(bytes: Uint8Array): void {
    const at = this.#room(bytes.length);
    this.#buf.set(bytes, at);
  }

  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** Writes a length header: the fix form below `fix[1]`, else the 8-, 16- or 32-bit form. */
function header(
  out: Writer,
  len: number,
  fix: [number, number] | null,
  codes: number[],
) {
  if (fix && len < fix[1]) return out.byte(fix[0] | len);
  if (codes[0] !== 0 && len < 0x100) {
    return out.byte(codes[0]), out.uint(1, len);
  }
  if (len < 0x10000) return out.byte(codes[1]), out.uint(2, len);
  out.byte(codes[2]);
  out.uint(4, len);
}

function writeNumber(out: Writer, n: number): void {
  if (!Number.isInteger(n) || n > 0xffffffff || n < -0x80000000) {
    out.byte(0xcb);
    out.float64(n);
  } else if (n >= 0 && n < 0x80) out.byte(n);
  else if (n >= 0) {
    const size = n < 0x100 ? 1 : n < 0x10000 ? 2 : 4;
    out.byte({ 1: 0xcc, 2: 0xcd, 4: 0xce }[size]);
    out.uint(size, n);
  } else if (n >= -32) out.byte(n & 0xff);
  else {
    out.byte(0xd2);
    out.int32(n);
  }
}

function write(out: Writer, value: Packable): void {
  if (value === null) out.byte(0xc0);
  else if (value === false) out.byte(0xc2);
  else if (value === true) out.byte(0xc3);
  else if (typeof value === "number") writeNumber(out, value);
  else if (typeof value === "string") {
    const utf8 = new TextEncoder().encode(value);
    header(out, utf8.length, [0xa0, 32], [0xd9, 0xda, 0xdb]);
    out.raw(utf8);
  } else if (value instanceof Uint8Array) {
    header(out, value.length, null, [0xc4, 0xc5, 0xc6]);
    out.raw(value);
  } else if (Array.isArray(value)) {
    header(out, value.length, [0x90, 16], [0, 0xdc, 0xdd]);
    for (const item of value) write(out, item);
  } else {
    const entries = Object.entries(value);
    header(out, entries.length, [0x80, 16], [0, 0xde, 0xdf]);
    for (const [k, v] of entries) {
      write(out, k);
      write(out, v);
    }
  }
}

/** Decodes one MessagePack value that fills `bytes`. */
export function decode(bytes: Uint8Array): Packable {
  const reader = new Reader(bytes);
  const value = reader.value();
  if (reader.offset !== bytes.length) {
    throw new Error("trailing bytes after a MessagePack value");
  }
  return value;
}

class Reader {
  offset = 0;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #take(n: number): number {
    const at = this.offset;
    if (at + n > this.#bytes.length) {
      throw new Error("truncated MessagePack value");
    }
    this.offset += n;
    return at;
  }

  #uint(size: 1 | 2 | 4 | 8): number {
    const at = this.#take(size);
    if (size === 1) return this.#view.getUint8(at);
    if (size === 2) return this.#view.getUint16(at);
    if (size === 4) return this.#view.getUint32(at);
    return Number(this.#view.getBigUint64(at));
  }

  #int(size: 1 | 2 | 4 | 8): number {
    const at = this.#take(size);
    if (size === 1) return this.#view.getInt8(at);
    if (size === 2) return this.#view.getInt16(at);
    if (size === 4) return this.#view.getInt32(at);
    return Number(this.#view.getBigInt64(at));
  }

  #str(len: number): string {
    const at = this.#take(len);
    return new TextDecoder().decode(this.#bytes.subarray(at, at + len));
  }

  #bin(len: number): Uint8Array {
    const at = this.#take(len);
    return this.#bytes.slice(at, at + len);
  }

  #array(len: number): Packable[] {
    return Array.from({ length: len }, () => this.value());
  }

  #map(len: number): { [key: string]: Packable } {
    const map: { [key: string]: Packable } = {};
    for (let i = 0; i < len; i++) map[String(this.value())] = this.value();
    return map;
  }

  value(): Packable {
    const code = this.#uint(1);
    if (code < 0x80) return code;
    if (code < 0x90) return this.#map(code & 0x0f);
    if (code < 0xa0) return this.#array(code & 0x0f);
    if (code < 0xc0) return this.#str(code & 0x1f);
    if (code >= 0xe0) return code - 0x100;
    switch (code) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.#bin(this.#uint(1));
      case 0xc5:
        return this.#bin(this.#uint(2));
      case 0xc6:
        return this.#bin(this.#uint(4));
      case 0xca:
        return this.#view.getFloat32(this.#take(4));
      case 0xcb:
        return this.#view.getFloat64(this.#take(8));
      case 0xcc:
        return this.#uint(1);
      case 0xcd:
        return this.#uint(2);
      case 0xce:
        return this.#uint(4);
      case 0xcf:
        return this.#uint(8);
      case 0xd0:
        return this.#int(1);
      case 0xd1:
        return this.#int(2);
      case 0xd2:
        return this.#int(4);
      case 0xd3:
        return this.#int(8);
      case 0xd9:
        return this.#str(this.#uint(1));
      case 0xda:
        return this.#str(this.#uint(2));
      case 0xdb:
        return this.#str(this.#uint(4));
      case 0xdc:
        return this.#array(this.#uint(2));
      case 0xdd:
        return this.#array(this.#uint(4));
      case 0xde:
        return this.#map(this.#uint(2));
      case 0xdf:
        return this.#map(this.#uint(4));
    }
    throw new Error(`unsupported MessagePack type 0x${code.toString(16)}`);
  }
}
