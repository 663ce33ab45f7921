// COSE_Sign1 (RFC 9052) with ES256, verified by WebCrypto. The twin of verifier/cose.py.
//
// COSE carries the ES256 signature as the raw 64 bytes r || s, which is exactly what
// WebCrypto's ECDSA verify() takes, so no DER conversion is needed.

import { CborMap, CborTag, MalformedError, decodeCbor, intKeyed, isInt, sigStructure } from "./cbor.js";

export const COSE_SIGN1_TAG = 18;
export const HEADER_ALG = 1;
export const HEADER_KID = 4;
export const ALG_ES256 = -7;
export const SIGNATURE_LENGTH = 64;

const subtle = globalThis.crypto.subtle;
const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" };
const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" };

/**
 * Parse COSE_Sign1 bytes (untagged or tag 18); MalformedError unless well-formed.
 * Returns {protectedBytes, payload, signature, kid, alg}. Does not verify the signature.
 */
export function parseSign1(data) {
  let item = decodeCbor(data);
  if (item instanceof CborTag) {
    if (item.tag !== COSE_SIGN1_TAG) {
      throw new MalformedError(`not a COSE_Sign1 message (CBOR tag ${item.tag})`);
    }
    item = item.value;
  }
  if (!Array.isArray(item) || item.length !== 4) {
    throw new MalformedError("not a COSE_Sign1 message: expected a CBOR array of four items");
  }
  const [protectedBytes, unprotectedRaw, payload, signature] = item;
  if (!(protectedBytes instanceof Uint8Array)) throw new MalformedError("protected header is not a byte string");
  if (!(unprotectedRaw instanceof CborMap)) throw new MalformedError("unprotected header is not a map");
  if (!(payload instanceof Uint8Array)) {
    throw new MalformedError("payload is not a byte string (detached payloads are not supported)");
  }
  if (!(signature instanceof Uint8Array)) throw new MalformedError("signature is not a byte string");
  let protectedLabels = new Map();
  if (protectedBytes.length) {
    const decoded = decodeCbor(protectedBytes);
    if (!(decoded instanceof CborMap)) throw new MalformedError("protected header is not a map");
    protectedLabels = intKeyed(decoded);
  }
  const unprotectedLabels = intKeyed(unprotectedRaw);
  const alg = protectedLabels.get(HEADER_ALG);
  if (!isInt(alg) || alg !== ALG_ES256) {
    throw new MalformedError("unsupported algorithm (only ES256, -7, in the protected header)");
  }
  const kid = protectedLabels.has(HEADER_KID)
    ? protectedLabels.get(HEADER_KID)
    : unprotectedLabels.get(HEADER_KID);
  if (kid === undefined || kid === null) throw new MalformedError("no kid in the header");
  if (!(kid instanceof Uint8Array) || kid.length === 0) {
    throw new MalformedError("kid is not a non-empty byte string");
  }
  if (signature.length !== SIGNATURE_LENGTH) {
    throw new MalformedError(`signature is ${signature.length} bytes, ES256 needs ${SIGNATURE_LENGTH}`);
  }
  return { protectedBytes, payload, signature, kid, alg };
}

/** Import a DER SubjectPublicKeyInfo as a P-256 verification key; MalformedError if it is not one. */
export async function importSpki(der) {
  try {
    return await subtle.importKey("spki", der, ECDSA_P256, false, ["verify"]);
  } catch {
    throw new MalformedError("not a P-256 SubjectPublicKeyInfo");
  }
}

/** Import a JWK (as written to root-public-key.jwk.json) as a P-256 verification key. */
export async function importJwk(jwk) {
  const { kty, crv, x, y } = jwk;
  try {
    return await subtle.importKey("jwk", { kty, crv, x, y, ext: true }, ECDSA_P256, true, ["verify"]);
  } catch {
    throw new MalformedError("not a P-256 public key (JWK)");
  }
}

/** The DER SubjectPublicKeyInfo of an imported public key. */
export async function exportSpki(key) {
  return new Uint8Array(await subtle.exportKey("spki", key));
}

/** The 8-byte kid of a DER SubjectPublicKeyInfo: the first 8 bytes of its SHA-256. */
export async function kidForDer(der) {
  return new Uint8Array(await subtle.digest("SHA-256", der)).slice(0, 8);
}

/** True when `message` (from parseSign1) carries a valid ES256 signature by `key`. */
export async function verifySign1(message, key) {
  if (message.alg !== ALG_ES256 || message.signature.length !== SIGNATURE_LENGTH) return false;
  try {
    return await subtle.verify(
      ECDSA_SHA256,
      key,
      message.signature,
      sigStructure(message.protectedBytes, message.payload),
    );
  } catch {
    return false;
  }
}

export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function toHex(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += bytes[i].toString(16).padStart(2, "0");
  return out;
}

export function fromHex(text) {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
