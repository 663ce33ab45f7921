// The control code printed under the QR (twin of verifier/controlcode.py): the 5-byte permit
// id as 8 Crockford Base32 characters plus a check character, shown as "XXX-XXX-XXX".

import { MalformedError } from "./cbor.js";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const VALUES = new Map([...ALPHABET].map((ch, i) => [ch, i]));
VALUES.set("O", 0);
VALUES.set("I", 1);
VALUES.set("L", 1);
const REDUCTION = 0b100101;

function mul2(a) {
  a <<= 1;
  return a & 0b100000 ? a ^ REDUCTION : a;
}

function fold(digits) {
  let interim = 0;
  for (const d of digits) interim = mul2(interim) ^ d;
  return interim;
}

/** The control code "XXX-XXX-XXX" of a 5-byte permit id. */
export function controlCode(permitId) {
  if (permitId.length !== 5) throw new Error("a permit id is 5 bytes");
  let value = 0n;
  for (const b of permitId) value = (value << 8n) | BigInt(b);
  const digits = [];
  for (let i = 0; i < 8; i++) digits.push(Number((value >> BigInt(5 * (7 - i))) & 31n));
  digits.push(mul2(fold(digits)));
  const text = digits.map((d) => ALPHABET[d]).join("");
  return `${text.slice(0, 3)}-${text.slice(3, 6)}-${text.slice(6, 9)}`;
}

/** Normalise a typed control code ("xh5 q64 zw4" -> "XH5-Q64-ZW4"); MalformedError if it is not one. */
export function normaliseControlCode(typed) {
  const cleaned = String(typed).toUpperCase().replace(/[ -]/g, "");
  if (cleaned.length !== 9) throw new MalformedError("a control code has 9 characters");
  const digits = [];
  for (const ch of cleaned) {
    if (!VALUES.has(ch)) throw new MalformedError("a control code uses 0-9 and A-Z without U");
    digits.push(VALUES.get(ch));
  }
  if (fold(digits) !== 0) throw new MalformedError("the check character does not match");
  const text = digits.map((d) => ALPHABET[d]).join("");
  return `${text.slice(0, 3)}-${text.slice(3, 6)}-${text.slice(6, 9)}`;
}
