// A strict CBOR (RFC 8949) reader, the JavaScript twin of verifier/cose.py `decode_cbor`.
//
// Strict in the same ways as the Python library: definite lengths only, no duplicate map
// keys (keys compared as Python compares them: 1, 1.0 and true are one key), no trailing
// bytes, valid UTF-8 text, at most 17 levels of nesting (cbor2's max_depth=16). Tags are kept
// as CborTag objects, never interpreted.
//
// Values: unsigned and negative integers are Numbers when safe, else BigInts; floats are
// CborFloat (so that 1.0 is never taken for the integer 1); byte strings Uint8Array; text
// strings string; arrays Array; maps CborMap; true/false booleans; null null; undefined
// CBOR_UNDEFINED; other simple values CborSimple.

export class MalformedError extends Error {
  constructor(message) {
    super(message);
    this.name = "MalformedError";
  }
}

export class CborTag {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

export class CborFloat {
  constructor(value) {
    this.value = value;
  }
}

export class CborSimple {
  constructor(value) {
    this.value = value;
  }
}

export const CBOR_UNDEFINED = Object.freeze({ undefined: true });

let nanCounter = 0;

function hex(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += bytes[i].toString(16).padStart(2, "0");
  return out;
}

/** The key under which Python would file `value` in a dict (equal keys, equal strings). */
export function pythonKey(value) {
  switch (typeof value) {
    case "number":
    case "bigint":
      return `n:${value}`;
    case "boolean":
      return value ? "n:1" : "n:0";
    case "string":
      return `t:${value}`;
    default:
      break;
  }
  if (value === null) return "N";
  if (value === CBOR_UNDEFINED) return "U";
  if (value instanceof Uint8Array) return `b:${hex(value)}`;
  if (value instanceof CborFloat) {
    const f = value.value;
    if (Number.isNaN(f)) return `nan:${nanCounter++}`; // NaN never equals NaN
    if (Number.isInteger(f)) return `n:${BigInt(f)}`;
    return `f:${f}`;
  }
  if (Array.isArray(value)) return `a:[${value.map(pythonKey).join(",")}]`;
  if (value instanceof CborMap) {
    const parts = [...value.entries.keys()].sort().map((k) => `${k}=${pythonKey(value.entries.get(k)[1])}`);
    return `m:{${parts.join(",")}}`;
  }
  if (value instanceof CborTag) return `g:${value.tag}:${pythonKey(value.value)}`;
  if (value instanceof CborSimple) return `s:${value.value}`;
  return `?:${String(value)}`;
}

/** A decoded CBOR map: keys in wire order, looked up by Python key equality. */
export class CborMap {
  constructor() {
    this.entries = new Map(); // pythonKey -> [key, value]
  }

  /** The value under `key` (a number or a string), or undefined. */
  get(key) {
    const entry = this.entries.get(pythonKey(key));
    return entry === undefined ? undefined : entry[1];
  }

  has(key) {
    return this.entries.has(pythonKey(key));
  }

  /** [key, value] pairs in wire order. */
  items() {
    return [...this.entries.values()];
  }

  get size() {
    return this.entries.size;
  }
}

/** True for a CBOR integer (never a float, never a boolean). */
export function isInt(value) {
  return (typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint";
}

/** The entries of a map whose keys are integers, as a Map from Number (or BigInt) keys. */
export function intKeyed(map) {
  const out = new Map();
  for (const [key, value] of map.items()) {
    if (isInt(key)) out.set(typeof key === "bigint" ? key : key, value);
  }
  return out;
}

const MAX_LEVEL = 17; // cbor2 max_depth=16: the top item is level 1
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const TWO_32 = 2 ** 32;

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  need(n) {
    if (this.pos + n > this.bytes.length) throw new MalformedError("not well-formed CBOR: ends early");
  }

  byte() {
    this.need(1);
    return this.bytes[this.pos++];
  }

  // The argument of an initial byte: a Number when safe, else a BigInt.
  argument(info) {
    if (info < 24) return info;
    if (info === 24) return this.byte();
    if (info === 25) {
      this.need(2);
      const v = this.view.getUint16(this.pos);
      this.pos += 2;
      return v;
    }
    if (info === 26) {
      this.need(4);
      const v = this.view.getUint32(this.pos);
      this.pos += 4;
      return v;
    }
    if (info === 27) {
      this.need(8);
      const hi = this.view.getUint32(this.pos);
      const lo = this.view.getUint32(this.pos + 4);
      this.pos += 8;
      if (hi < 0x200000) return hi * TWO_32 + lo; // below 2^53
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    if (info === 31) throw new MalformedError("not well-formed CBOR: indefinite length");
    throw new MalformedError("not well-formed CBOR: reserved additional information");
  }

  length(info) {
    const n = this.argument(info);
    if (typeof n === "bigint" || n > this.bytes.length - this.pos) {
      throw new MalformedError("not well-formed CBOR: length beyond the data");
    }
    return n;
  }

  item(level) {
    if (level > MAX_LEVEL) throw new MalformedError("not well-formed CBOR: nested too deeply");
    const initial = this.byte();
    const major = initial >> 5;
    const info = initial & 31;
    switch (major) {
      case 0:
        return this.argument(info);
      case 1: {
        const n = this.argument(info);
        if (typeof n === "bigint") return -1n - n;
        const v = -1 - n;
        return Number.isSafeInteger(v) ? v : -1n - BigInt(n);
      }
      case 2: {
        const n = this.length(info);
        const out = this.bytes.slice(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case 3: {
        const n = this.length(info);
        let text;
        try {
          text = UTF8.decode(this.bytes.subarray(this.pos, this.pos + n));
        } catch {
          throw new MalformedError("not well-formed CBOR: text is not UTF-8");
        }
        this.pos += n;
        return text;
      }
      case 4: {
        const n = this.length(info);
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.item(level + 1);
        return out;
      }
      case 5: {
        const n = this.length(info);
        const map = new CborMap();
        for (let i = 0; i < n; i++) {
          const key = this.item(level + 1);
          const value = this.item(level + 1);
          const k = pythonKey(key);
          if (map.entries.has(k)) throw new MalformedError("not well-formed CBOR: duplicate map key");
          map.entries.set(k, [key, value]);
        }
        return map;
      }
      case 6: {
        const tag = this.argument(info);
        return new CborTag(tag, this.item(level + 1));
      }
      default:
        return this.simple(info);
    }
  }

  simple(info) {
    if (info < 20) return new CborSimple(info);
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return CBOR_UNDEFINED;
      case 24: {
        const v = this.byte();
        if (v < 32) throw new MalformedError("not well-formed CBOR: invalid simple value");
        return new CborSimple(v);
      }
      case 25: {
        this.need(2);
        const v = halfToFloat(this.view.getUint16(this.pos));
        this.pos += 2;
        return new CborFloat(v);
      }
      case 26: {
        this.need(4);
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        return new CborFloat(v);
      }
      case 27: {
        this.need(8);
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        return new CborFloat(v);
      }
      case 31:
        throw new MalformedError("not well-formed CBOR: break outside an indefinite item");
      default:
        throw new MalformedError("not well-formed CBOR: reserved simple value");
    }
  }
}

function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Decode exactly one CBOR data item from `bytes` (a Uint8Array); MalformedError otherwise. */
export function decodeCbor(bytes) {
  if (!(bytes instanceof Uint8Array)) throw new MalformedError("CBOR input must be bytes");
  const reader = new Reader(bytes);
  const value = reader.item(1);
  if (reader.pos !== bytes.length) throw new MalformedError("trailing bytes after the CBOR data item");
  return value;
}

// -- a minimal encoder: what the COSE Sig_structure needs -----------------------------------

function head(major, n) {
  if (n < 24) return [(major << 5) | n];
  if (n < 0x100) return [(major << 5) | 24, n];
  if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff];
  return [(major << 5) | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** CBOR of ["Signature1", protected, h'', payload]: the bytes an ES256 COSE_Sign1 signs. */
export function sigStructure(protectedBytes, payload) {
  const context = [0x6a, ...new TextEncoder().encode("Signature1")];
  const parts = [
    [0x84],
    context,
    head(2, protectedBytes.length),
    protectedBytes,
    [0x40],
    head(2, payload.length),
    payload,
  ];
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
