// The trust list and the revocation list: COSE_Sign1 (ES256) signed by the regional root key.
// The JavaScript twin of verifier/lists.py: the same refusals ("malformed", "wrong_type",
// "bad_signature") and the same no-rollback rule.

import { CborMap, MalformedError, decodeCbor, isInt } from "./cbor.js";
import { bytesEqual, exportSpki, importJwk, importSpki, kidForDer, parseSign1, toHex, verifySign1 } from "./cose.js";

export const TRUST_LIST_TYPE = "permits-trust-list";
export const REVOCATION_LIST_TYPE = "permits-revocation-list";
const KEY_STATUSES = ["active", "retired"];
const ID_LENGTH = 5;
const KID_LENGTH = 8;

export class ListError extends Error {
  constructor(reason, message) {
    super(`${reason}: ${message}`);
    this.name = "ListError";
    this.reason = reason;
  }
}

const bad = (message) => new ListError("malformed", message);

function get(map, key, check, what) {
  if (!map.has(key) || !check(map.get(key))) throw bad(`${what}: '${key}' is missing or of the wrong type`);
  return map.get(key);
}

const isUint = (v) => isInt(v) && v >= 0;
const isText = (v) => typeof v === "string" && v.length > 0;
const isMap = (v) => v instanceof CborMap;
const isArray = (v) => Array.isArray(v);
const isBytes = (v) => v instanceof Uint8Array;

function items(value, parse, what) {
  const out = [];
  for (const item of value) {
    if (!(item instanceof CborMap)) throw bad(`${what}: an entry is not a map`);
    out.push(parse(item));
  }
  return out;
}

function names(value, what) {
  const map = get(value, "names", isMap, what);
  const out = {};
  for (const [k, v] of map.items()) {
    if (typeof k !== "string" || typeof v !== "string") throw bad(`${what}: names map language codes to text`);
    out[k] = v;
  }
  return out;
}

/** Check structure, signer and signature; return the payload map of the expected type. */
async function open(data, root, expectedType) {
  let message;
  try {
    message = parseSign1(data);
  } catch (exc) {
    if (exc instanceof MalformedError) throw bad(`not a signed list: ${exc.message}`);
    throw exc;
  }
  if (!bytesEqual(message.kid, root.kid)) {
    throw new ListError("bad_signature", `signed by key ${toHex(message.kid)}, not by the root key`);
  }
  if (!(await verifySign1(message, root.key))) {
    throw new ListError("bad_signature", "the root key's signature does not verify");
  }
  let payload;
  try {
    payload = decodeCbor(message.payload);
  } catch (exc) {
    if (exc instanceof MalformedError) throw bad(`payload: ${exc.message}`);
    throw exc;
  }
  if (!(payload instanceof CborMap)) throw bad("the payload is not a map");
  const kind = payload.get("type");
  if (kind !== expectedType) throw new ListError("wrong_type", `expected a ${expectedType}, got ${kind}`);
  return payload;
}

async function issuerKey(value) {
  const kid = get(value, "kid", (v) => isBytes(v) && v.length === KID_LENGTH, "a key");
  const der = get(value, "key", isBytes, "a key");
  const status = get(value, "status", (v) => KEY_STATUSES.includes(v), "a key");
  let key;
  try {
    key = await importSpki(der);
  } catch {
    throw bad(`key ${toHex(kid)} is not a P-256 SubjectPublicKeyInfo`);
  }
  if (!bytesEqual(await kidForDer(der), kid)) throw bad(`kid ${toHex(kid)} does not match its key`);
  return { kid, kidHex: toHex(kid), der, status, key };
}

async function issuer(value) {
  const code = get(value, "code", isText, "an issuer");
  const what = `issuer ${code}`;
  const categories = get(value, "categories", isArray, what);
  if (!categories.every(isUint)) throw bad(`${what}: categories are unsigned integers`);
  const issuerNames = names(value, what);
  const municipality = get(value, "municipality", isUint, what);
  const keyMaps = get(value, "keys", isArray, what);
  const keys = [];
  for (const k of keyMaps) {
    if (!(k instanceof CborMap)) throw bad(`${what}: an entry is not a map`);
    keys.push(await issuerKey(k));
  }
  return { code, names: issuerNames, municipality, categories: categories.map(Number), keys };
}

/** The pinned root public key from its JWK: {key: CryptoKey, kid: Uint8Array, kidHex}. */
export async function rootFromJwk(jwk) {
  const key = await importJwk(jwk);
  const kid = await kidForDer(await exportSpki(key));
  return { key, kid, kidHex: toHex(kid) };
}

/** The pinned root public key from a DER SubjectPublicKeyInfo. */
export async function rootFromSpki(der) {
  const key = await importSpki(der);
  const kid = await kidForDer(der);
  return { key, kid, kidHex: toHex(kid) };
}

/**
 * The trust list in `data` after checking that the root key signed it.
 * Throws ListError ("malformed", "bad_signature", "wrong_type"); does not check the version.
 */
export async function loadTrustList(data, root) {
  const payload = await open(data, root, TRUST_LIST_TYPE);
  const what = "the trust list";
  const issuerMaps = get(payload, "issuers", isArray, what);
  const issuers = [];
  for (const item of issuerMaps) {
    if (!(item instanceof CborMap)) throw bad(`${what}: an entry is not a map`);
    issuers.push(await issuer(item));
  }
  const kids = issuers.flatMap((i) => i.keys.map((k) => k.kidHex));
  if (new Set(kids).size !== kids.length) throw bad("a kid is listed twice");
  if (new Set(issuers.map((i) => i.code)).size !== issuers.length) throw bad("an issuer code is listed twice");
  const version = get(payload, "version", isUint, what);
  const issued = get(payload, "issued", isUint, what);
  const staleAfter = get(payload, "stale_after", isUint, what);
  const categories = optionalItems(payload, "categories", (v) => ({
    code: Number(get(v, "code", isUint, "a category")),
    slug: get(v, "slug", isText, "a category"),
    names: names(v, "a category"),
  }));
  const municipalities = optionalItems(payload, "municipalities", (v) => ({
    code: Number(get(v, "code", isUint, "a municipality")),
    names: names(v, "a municipality"),
  }));
  return { version, issued, stale_after: staleAfter, issuers, categories, municipalities };
}

function optionalItems(payload, key, parse) {
  const value = payload.has(key) ? payload.get(key) : [];
  if (!isArray(value)) throw bad(`${key} is not an array`);
  return items(value, parse, key);
}

function compareIds(a, b) {
  for (let i = 0; i < ID_LENGTH; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function checkRun(run, what) {
  if (!isBytes(run) || run.length % ID_LENGTH) throw bad(`${what}: ids must be a byte string of 5-byte ids`);
  for (let start = ID_LENGTH; start < run.length; start += ID_LENGTH) {
    if (compareIds(run.subarray(start - ID_LENGTH, start), run.subarray(start, start + ID_LENGTH)) >= 0) {
      throw bad(`${what}: ids are not sorted and distinct`);
    }
  }
}

/**
 * The revocation list in `data` after checking that the root key signed it.
 * Throws ListError ("malformed", "bad_signature", "wrong_type"); does not check the version.
 */
export async function loadRevocationList(data, root) {
  const payload = await open(data, root, REVOCATION_LIST_TYPE);
  const what = "the revocation list";
  const partitions = new Map();
  for (const [code, entry] of get(payload, "issuers", isMap, what).items()) {
    if (!isText(code) || !(entry instanceof CborMap)) throw bad("issuers maps an issuer code to {revoked, replaced}");
    const revoked = get(entry, "revoked", isBytes, `issuer ${code}`);
    const replaced = get(entry, "replaced", isBytes, `issuer ${code}`);
    checkRun(revoked, `issuer ${code} revoked`);
    checkRun(replaced, `issuer ${code} replaced`);
    partitions.set(code, { revoked, replaced });
  }
  return {
    version: get(payload, "version", isUint, what),
    issued: get(payload, "issued", isUint, what),
    stale_after: get(payload, "stale_after", isUint, what),
    partitions,
  };
}

/** True when a device holding `currentVersion` (null: none) should take `candidateVersion`. */
export function acceptUpdate(currentVersion, candidateVersion) {
  return currentVersion === null || currentVersion === undefined || candidateVersion > currentVersion;
}

/** True when a list issued at `issued` is older than `staleAfter` seconds at `atEpoch`. */
export function isStale(issued, staleAfter, atEpoch) {
  return atEpoch > Number(issued) + Number(staleAfter);
}

/** True when the sorted run of 5-byte ids holds `permitId` (binary search). */
export function containsId(run, permitId) {
  if (permitId.length !== ID_LENGTH) return false;
  let low = 0;
  let high = run.length / ID_LENGTH;
  while (low < high) {
    const middle = (low + high) >> 1;
    const c = compareIds(run.subarray(middle * ID_LENGTH, middle * ID_LENGTH + ID_LENGTH), permitId);
    if (c < 0) low = middle + 1;
    else if (c > 0) high = middle;
    else return true;
  }
  return false;
}

/** "revoked" or "replaced" when the issuer's partition lists `permitId`, else null. */
export function revocationStatus(list, issuerCode, permitId) {
  const partition = list.partitions.get(issuerCode);
  if (!partition) return null;
  if (containsId(partition.revoked, permitId)) return "revoked";
  if (containsId(partition.replaced, permitId)) return "replaced";
  return null;
}
