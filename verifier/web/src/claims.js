// The permit payload of format v1 (a CBOR map of CWT claims plus compact negative keys).
// The JavaScript twin of verifier/codec.py's decoder: every rule of `claims_from_cbor_map`
// and `validate_claims`, so that both refuse the same payloads.

import { CborMap, MalformedError, decodeCbor, intKeyed, isInt } from "./cbor.js";
import { toHex } from "./cose.js";

export const EXP = 4;
export const NBF = 5;
export const CTI = 7;
export const CATEGORY = -1;
export const PERSONS = -2;
export const PLATE = -3;
export const VEHICLE_KIND = -4;
export const MAKE_MODEL = -5;
export const ROUTE = -6;
export const ROUTE_NOTE = -7;
export const WINDOWS = -8;
export const WEEKDAYS = -9;

const PERMIT_ID_LENGTH = 5;
const MAX_PERSONS = 50;
const MAX_NAME = 200;
const MAX_FOREIGN_DOCUMENT = 40;
const MAX_FREEFORM_PLATE = 20;
const MAX_MAKE_MODEL = 100;
const MAX_ROUTE_NOTE = 200;
const MAX_WINDOWS = 12;
const MINUTES_PER_DAY = 1440;
const PERSONAL_NUMBER_LIMIT = 10 ** 11;
const UINT_MAX = 2n ** 64n - 1n;
const ALL_WEEKDAYS = 0b1111111;
const ROLES = 10; // 1..10
const VEHICLE_KINDS = 8; // 1..8
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const GEORGIAN_FIRST = 0x10d0;
const GEORGIAN_LAST = 0x10f0;
const CODE_SPACE = 33;
const CODE_HYPHEN = 34;
const CODE_PADDING = 63;
const PLATE_MAX = ((25 * 26 + 25) * 1000 + 999) * 26 * 26 + 25 * 26 + 25;
const A = 65;

function isUint(value) {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0;
  return typeof value === "bigint" && value >= 0n && value <= UINT_MAX;
}

function uint(value, what) {
  if (!isUint(value)) throw new MalformedError(`${what} is not an unsigned integer`);
  return value;
}

function text(value, what) {
  if (typeof value !== "string") throw new MalformedError(`${what} is not a text string`);
  return value;
}

function array(value, what) {
  if (!Array.isArray(value)) throw new MalformedError(`${what} is not an array`);
  return value;
}

function codePointLength(value) {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

function checkText(value, what, limit) {
  if (typeof value !== "string" || !value) throw new MalformedError(`${what} must be non-empty text`);
  if (value.length > limit && codePointLength(value) > limit) {
    throw new MalformedError(`${what} is longer than ${limit} characters`);
  }
  if (CONTROL.test(value)) throw new MalformedError(`${what} contains a control character`);
}

/** The text of a packed Georgian name; MalformedError when it is not canonical. */
export function unpackGeorgian(data) {
  if (!data.length) throw new MalformedError("empty packed name");
  const total = data.length * 8;
  const groups = Math.floor(total / 6);
  const rest = total % 6;
  let value = 0n;
  for (const b of data) value = (value << 8n) | BigInt(b);
  const mask = (1n << BigInt(rest)) - 1n;
  if ((value & mask) !== mask) throw new MalformedError("packed name: padding bits are not all 1");
  value >>= BigInt(rest);
  const codes = [];
  for (let i = 0; i < groups; i++) codes.push(Number((value >> BigInt(6 * (groups - 1 - i))) & 63n));
  if (codes[codes.length - 1] === CODE_PADDING) {
    if (rest) throw new MalformedError("packed name: more than 7 bits of padding");
    codes.pop();
  }
  if (!codes.length) throw new MalformedError("empty packed name");
  let out = "";
  for (const code of codes) {
    if (code <= GEORGIAN_LAST - GEORGIAN_FIRST) out += String.fromCharCode(GEORGIAN_FIRST + code);
    else if (code === CODE_SPACE) out += " ";
    else if (code === CODE_HYPHEN) out += "-";
    else throw new MalformedError(`packed name: code ${code} is not a letter`);
  }
  return out;
}

/** The normalised plate ("AB123CD") of a packed plate; MalformedError if out of range. */
export function unpackPlate(value) {
  if (!isUint(value) || value > PLATE_MAX) throw new MalformedError("packed plate out of range");
  let v = Number(value);
  const l4 = v % 26;
  v = (v - l4) / 26;
  const l3 = v % 26;
  v = (v - l3) / 26;
  const digits = v % 1000;
  v = (v - digits) / 1000;
  const l2 = v % 26;
  const l1 = (v - l2) / 26;
  const letter = (n) => String.fromCharCode(A + n);
  return `${letter(l1)}${letter(l2)}${String(digits).padStart(3, "0")}${letter(l3)}${letter(l4)}`;
}

const STANDARD_PLATE = /^[A-Z]{2}[0-9]{3}[A-Z]{2}$/;

/** "AB123CD" shown as "AB-123-CD"; a free-form plate unchanged. */
export function formatPlate(plate) {
  return STANDARD_PLATE.test(plate) ? `${plate.slice(0, 2)}-${plate.slice(2, 5)}-${plate.slice(5)}` : plate;
}

function person(value) {
  const entry = array(value, "a person");
  if (entry.length !== 3) throw new MalformedError("a person is [role, name, document]");
  const [roleValue, nameValue, documentValue] = entry;
  const role = uint(roleValue, "a role");
  if (!(role >= 1 && role <= ROLES)) throw new MalformedError("unknown role");
  const name = nameValue instanceof Uint8Array ? unpackGeorgian(nameValue) : text(nameValue, "a name");
  if (typeof documentValue === "string") {
    return { role: Number(role), name, document: documentValue, foreign_document: true };
  }
  const number = uint(documentValue, "a document");
  if (number >= PERSONAL_NUMBER_LIMIT) throw new MalformedError("a personal number has at most 11 digits");
  return { role: Number(role), name, document: String(number).padStart(11, "0"), foreign_document: false };
}

/** The claims of a decoded payload map; MalformedError when it breaks a rule of format v1. */
export function claimsFromCborMap(value) {
  if (!(value instanceof CborMap)) throw new MalformedError("the payload is not a CBOR map");
  const fields = intKeyed(value);
  for (const [key, what] of [
    [EXP, "exp"],
    [NBF, "nbf"],
    [CTI, "cti"],
    [CATEGORY, "category"],
    [PERSONS, "persons"],
  ]) {
    if (!fields.has(key)) throw new MalformedError(`required claim ${what} (${key}) is missing`);
  }
  const permitId = fields.get(CTI);
  if (!(permitId instanceof Uint8Array)) throw new MalformedError("cti is not a byte string");
  const persons = array(fields.get(PERSONS), "persons");
  if (!(persons.length >= 1 && persons.length <= MAX_PERSONS)) {
    throw new MalformedError(`a permit names 1 to ${MAX_PERSONS} persons`);
  }
  let plate = null;
  let plateFreeform = false;
  if (fields.has(PLATE)) {
    const p = fields.get(PLATE);
    if (typeof p === "string") {
      plate = p;
      plateFreeform = true;
    } else {
      plate = unpackPlate(uint(p, "plate"));
    }
  }
  let vehicleKind = null;
  if (fields.has(VEHICLE_KIND)) {
    const v = uint(fields.get(VEHICLE_KIND), "vehicle kind");
    if (!(v >= 1 && v <= VEHICLE_KINDS)) throw new MalformedError("unknown vehicle kind");
    vehicleKind = Number(v);
  }
  let routeFrom = null;
  let routeTo = null;
  if (fields.has(ROUTE)) {
    const route = array(fields.get(ROUTE), "route");
    if (route.length !== 2) throw new MalformedError("route is [from, to]");
    routeFrom = uint(route[0], "route from");
    routeTo = uint(route[1], "route to");
  }
  const windows = [];
  if (fields.has(WINDOWS)) {
    const flat = array(fields.get(WINDOWS), "windows");
    if (!flat.length || flat.length % 2) {
      throw new MalformedError("windows is a non-empty flat array of start, end pairs");
    }
    const minutes = flat.map((m) => uint(m, "a window time"));
    for (let i = 0; i < minutes.length; i += 2) windows.push({ start: minutes[i], end: minutes[i + 1] });
  }
  const claims = {
    permit_id: permitId,
    category: uint(fields.get(CATEGORY), "category"),
    not_before: uint(fields.get(NBF), "nbf"),
    expires: uint(fields.get(EXP), "exp"),
    persons: persons.map(person),
    plate,
    plate_freeform: plateFreeform,
    vehicle_kind: vehicleKind,
    make_model: fields.has(MAKE_MODEL) ? text(fields.get(MAKE_MODEL), "make and model") : null,
    route_from: routeFrom,
    route_to: routeTo,
    route_note: fields.has(ROUTE_NOTE) ? text(fields.get(ROUTE_NOTE), "route note") : null,
    windows,
    weekdays: fields.has(WEEKDAYS) ? uint(fields.get(WEEKDAYS), "weekdays") : null,
  };
  validateClaims(claims);
  return claims;
}

/** MalformedError unless the decoded `claims` keep every rule of codec.validate_claims. */
function validateClaims(claims) {
  if (claims.permit_id.length !== PERMIT_ID_LENGTH) {
    throw new MalformedError(`the permit id must be ${PERMIT_ID_LENGTH} bytes`);
  }
  if (!(claims.not_before < claims.expires)) throw new MalformedError("nbf must be before exp");
  for (const p of claims.persons) {
    checkText(p.name, "a name", MAX_NAME);
    if (p.foreign_document) checkText(p.document, "a foreign document number", MAX_FOREIGN_DOCUMENT);
  }
  if (claims.plate !== null && claims.plate_freeform) checkText(claims.plate, "a free-form plate", MAX_FREEFORM_PLATE);
  if (claims.make_model !== null) checkText(claims.make_model, "make and model", MAX_MAKE_MODEL);
  if (claims.route_note !== null) checkText(claims.route_note, "the route note", MAX_ROUTE_NOTE);
  if (claims.windows.length > MAX_WINDOWS) throw new MalformedError(`at most ${MAX_WINDOWS} daily windows`);
  for (const w of claims.windows) {
    if (!(w.start < MINUTES_PER_DAY && w.end < MINUTES_PER_DAY)) {
      throw new MalformedError("window times are minutes 0..1439");
    }
    if (w.start == w.end) throw new MalformedError("a window must start and end at different times");
  }
  if (claims.weekdays !== null && !(claims.weekdays >= 1 && claims.weekdays <= ALL_WEEKDAYS)) {
    throw new MalformedError("weekdays is a bitmask 1..127");
  }
  for (const w of claims.windows) {
    w.start = Number(w.start);
    w.end = Number(w.end);
  }
  if (claims.weekdays !== null) claims.weekdays = Number(claims.weekdays);
}

/** The claims in a CBOR payload; MalformedError when it is not a valid v1 payload. */
export function decodeClaims(payload) {
  return claimsFromCborMap(decodeCbor(payload));
}

function jsonNumber(value) {
  return typeof value === "bigint" && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** The claims as plain JSON values, exactly as codec.claims_to_json writes them. */
export function claimsToJson(claims) {
  return {
    permit_id: toHex(claims.permit_id),
    category: jsonNumber(claims.category),
    not_before: jsonNumber(claims.not_before),
    expires: jsonNumber(claims.expires),
    persons: claims.persons.map((p) => ({
      role: p.role,
      name: p.name,
      document: p.document,
      foreign_document: p.foreign_document,
    })),
    plate: claims.plate,
    plate_freeform: claims.plate_freeform,
    vehicle_kind: claims.vehicle_kind,
    make_model: claims.make_model,
    route_from: jsonNumber(claims.route_from),
    route_to: jsonNumber(claims.route_to),
    route_note: claims.route_note,
    windows: claims.windows.map((w) => ({ start: w.start, end: w.end })),
    weekdays: claims.weekdays,
  };
}
