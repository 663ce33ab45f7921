// The text form of a permit: "MP1:" + Base45 (RFC 9285) of the COSE_Sign1 bytes.
// The JavaScript twin of verifier/text.py.

import { MalformedError } from "./cbor.js";

export const PREFIX = "MP1:";
export const MAX_TEXT_LENGTH = 4096;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

// The characters Python's str.strip() removes (str.isspace), which differ from JS trim().
const PY_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000,
  0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028,
  0x2029, 0x202f, 0x205f, 0x3000,
]);

/** `text` without the surrounding whitespace that Python's str.strip() removes. */
export function pyStrip(text) {
  let start = 0;
  let end = text.length;
  while (start < end && PY_SPACE.has(text.charCodeAt(start))) start++;
  while (end > start && PY_SPACE.has(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

function codePoints(text) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The bytes of a Base45 text; MalformedError unless it is valid RFC 9285 Base45. */
export function base45Decode(text) {
  if (typeof text !== "string") throw new MalformedError("Base45 input must be text");
  if (text.includes("\n")) throw new MalformedError("not valid Base45: line break");
  const n = text.length;
  if (n % 3 === 1) throw new MalformedError("not valid Base45");
  const out = new Uint8Array(Math.floor(n / 3) * 2 + (n % 3 === 2 ? 1 : 0));
  let o = 0;
  const value = (i) => {
    const c = text.charCodeAt(i);
    const v = c < 128 ? VALUES[c] : -1;
    if (v < 0) throw new MalformedError("not valid Base45");
    return v;
  };
  for (let i = 0; i < n; i += 3) {
    if (n - i >= 3) {
      const x = value(i) + value(i + 1) * 45 + value(i + 2) * 2025;
      if (x > 0xffff) throw new MalformedError("not valid Base45");
      out[o++] = x >> 8;
      out[o++] = x & 0xff;
    } else {
      const x = value(i) + value(i + 1) * 45;
      if (x > 0xff) throw new MalformedError("not valid Base45");
      out[o++] = x;
    }
  }
  return out;
}

/** The Base45 text of `bytes` (always succeeds). */
export function base45Encode(bytes) {
  let out = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    let x = bytes[i] * 256 + bytes[i + 1];
    const c = x % 45;
    x = (x - c) / 45;
    const d = x % 45;
    const e = (x - d) / 45;
    out += ALPHABET[c] + ALPHABET[d] + ALPHABET[e];
  }
  if (bytes.length % 2) {
    const x = bytes[bytes.length - 1];
    out += ALPHABET[x % 45] + ALPHABET[Math.floor(x / 45)];
  }
  return out;
}

/** The COSE bytes carried by a QR text; MalformedError for anything else (see text.py). */
export function decodeQrText(text) {
  if (typeof text !== "string") throw new MalformedError("a QR text must be a string");
  if (text.length > MAX_TEXT_LENGTH * 4 && codePoints(text) > MAX_TEXT_LENGTH * 4) {
    throw new MalformedError(`text longer than ${MAX_TEXT_LENGTH} characters`);
  }
  const stripped = pyStrip(text);
  if (!stripped) throw new MalformedError("empty text");
  if (stripped.length > MAX_TEXT_LENGTH && codePoints(stripped) > MAX_TEXT_LENGTH) {
    throw new MalformedError(`text longer than ${MAX_TEXT_LENGTH} characters`);
  }
  if (!stripped.startsWith(PREFIX)) {
    throw new MalformedError(`not a permit: the text does not start with ${PREFIX}`);
  }
  const body = stripped.slice(PREFIX.length);
  if (!body) throw new MalformedError("nothing after the prefix");
  return base45Decode(body);
}
