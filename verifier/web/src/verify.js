// Verifying a permit QR text at a checkpoint: ordered checks, one verdict, never an exception.
// The JavaScript twin of verifier/verify.py, check for check:
//
//   1 text and Base45             -> malformed
//   2 COSE structure, alg, kid    -> malformed
//   3 kid on the trust list       -> unknown_issuer
//   4 signature (WebCrypto ES256) -> bad_signature
//   5 payload claims              -> malformed
//   6 category allowed for issuer -> category_not_allowed
//   7 revocation list             -> revoked / replaced
//   8 time: nbf, exp, windows, weekdays (Asia/Tbilisi) -> not_yet_valid / expired / outside_window
//
// Each verdict carries `reasonKey` and `params`, from which the screen writes its one line in
// the officer's language, and `reason`, the same line in English.

import { decodeQrText } from "./text.js";
import { parseSign1, toHex, verifySign1 } from "./cose.js";
import { decodeClaims } from "./claims.js";
import { controlCode } from "./controlcode.js";
import { isStale, revocationStatus } from "./lists.js";

export const TIMEZONE = "Asia/Tbilisi";
export const STATUSES = [
  "valid", "malformed", "unknown_issuer", "bad_signature", "category_not_allowed",
  "not_yet_valid", "expired", "outside_window", "revoked", "replaced",
];
const WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

const localFormat = new Intl.DateTimeFormat("en-US", {
  timeZone: TIMEZONE,
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  weekday: "short",
});

function intlParts(epochSeconds) {
  const parts = {};
  for (const p of localFormat.formatToParts(new Date(epochSeconds * 1000))) parts[p.type] = p.value;
  return parts;
}

// The zone's offset from UTC, looked up once per UTC hour (the zone's rules come from the
// browser's time zone data, as Python's come from zoneinfo; offsets change on whole hours).
const offsets = new Map();

function offsetSeconds(epochSeconds) {
  const hour = Math.floor(epochSeconds / 3600);
  let offset = offsets.get(hour);
  if (offset === undefined) {
    const p = intlParts(hour * 3600);
    offset = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute)) / 1000 - hour * 3600;
    if (offsets.size > 10_000) offsets.clear();
    offsets.set(hour, offset);
  }
  return offset;
}

/** The local (Asia/Tbilisi) calendar fields of an epoch in seconds. */
export function localParts(epochSeconds) {
  const seconds = Math.floor(Number(epochSeconds));
  const local = new Date((seconds + offsetSeconds(seconds)) * 1000);
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    weekday: (local.getUTCDay() + 6) % 7, // Monday = 0
  };
}

/** "2026-11-16 00:00" in Tbilisi time (as verify.py writes it). */
export function localText(epochSeconds) {
  const n = Number(epochSeconds);
  if (!Number.isFinite(n) || Math.abs(n) > 8.64e12) return `${epochSeconds} (epoch seconds)`;
  const p = localParts(n);
  const two = (x) => String(x).padStart(2, "0");
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}`;
}

export function hhmm(minutes) {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

const dayAllowed = (weekdays, weekday) => weekdays === null || ((weekdays >> weekday) & 1) === 1;

/** True when the local moment falls in the daily windows on an allowed weekday (see verify.py). */
export function inSchedule(windows, weekdays, local) {
  const minute = local.hour * 60 + local.minute;
  const weekday = local.weekday;
  if (!windows.length) return dayAllowed(weekdays, weekday);
  for (const w of windows) {
    if (w.start < w.end) {
      if (w.start <= minute && minute < w.end && dayAllowed(weekdays, weekday)) return true;
    } else {
      if (minute >= w.start && dayAllowed(weekdays, weekday)) return true;
      if (minute < w.end && dayAllowed(weekdays, (weekday + 6) % 7)) return true;
    }
  }
  return false;
}

/**
 * Verifies permit QR texts against one trust list and, optionally, one revocation list
 * (both as loaded by lists.js). Issuer keys are imported once, when the lists are loaded.
 */
export class Verifier {
  constructor(trustList, revocationList = null) {
    this.trustList = trustList;
    this.revocationList = revocationList;
    this.keys = new Map();
    for (const issuer of trustList.issuers) {
      for (const key of issuer.keys) {
        if (!this.keys.has(key.kidHex)) this.keys.set(key.kidHex, { issuer, key: key.key });
      }
    }
    this.categories = new Map(trustList.issuers.map((i) => [i.code, new Set(i.categories)]));
    this.slugs = new Map(trustList.categories.map((c) => [c.code, c.slug]));
  }

  /** The list warnings at `atMs`: trust_list_stale, revocation_list_stale, no_revocation_list. */
  warnings(atMs) {
    const at = atMs / 1000;
    const found = [];
    if (isStale(this.trustList.issued, this.trustList.stale_after, at)) found.push("trust_list_stale");
    if (this.revocationList === null) found.push("no_revocation_list");
    else if (isStale(this.revocationList.issued, this.revocationList.stale_after, at)) {
      found.push("revocation_list_stale");
    }
    return found;
  }

  /** The verdict on `qrText` at `atMs` (epoch milliseconds); never throws on any input. */
  async verify(qrText, atMs) {
    const warnings = this.warnings(atMs);
    try {
      return await this.#verify(qrText, atMs, warnings);
    } catch {
      // a bug must never become an exception at a checkpoint, nor VALID
      return { status: "malformed", reason: "the permit could not be read", reasonKey: "unreadable", params: {}, warnings, at: atMs, claims: null, issuer: null, controlCode: null };
    }
  }

  async #verify(qrText, atMs, warnings) {
    const fail = (status, reasonKey, reason, params = {}) => ({
      status, reason, reasonKey, params, warnings, at: atMs, claims: null, issuer: null, controlCode: null,
    });
    // 1. Text and Base45.
    let data;
    try {
      data = decodeQrText(qrText);
    } catch (exc) {
      return fail("malformed", "not_a_permit_code", `not a permit code: ${exc.message}`);
    }
    // 2. COSE_Sign1 structure, ES256 in the protected header, a kid, a 64-byte signature.
    let message;
    try {
      message = parseSign1(data);
    } catch (exc) {
      return fail("malformed", "not_signed", `not a signed permit: ${exc.message}`);
    }
    // 3. The kid must be on the trust list.
    const kid = toHex(message.kid);
    const entry = this.keys.get(kid);
    if (!entry) {
      return fail("unknown_issuer", "unknown_key", `the signing key ${kid} is not on the trust list`, { kid });
    }
    const { issuer } = entry;
    // 4. The signature must verify with that key.
    if (!(await verifySign1(message, entry.key))) {
      return fail("bad_signature", "bad_signature", `the signature does not match key ${kid} of ${issuer.code}: altered or forged`, { kid, issuer: issuer.code });
    }
    // 5. The payload must be valid v1 claims.
    let claims;
    try {
      claims = decodeClaims(message.payload);
    } catch (exc) {
      return fail("malformed", "unreadable_claims", `signed by ${issuer.code} but unreadable: ${exc.message}`, { issuer: issuer.code });
    }
    const verdict = (status, reasonKey, reason, params = {}) => ({
      status, reason, reasonKey, params, warnings, at: atMs, claims, issuer,
      controlCode: controlCode(claims.permit_id),
    });
    // 6. The issuer must be allowed to issue this category.
    const allowed = this.categories.get(issuer.code) || new Set();
    if (!allowed.has(Number(claims.category)) || typeof claims.category === "bigint") {
      const slug = this.slugs.get(Number(claims.category)) || "unknown";
      return verdict("category_not_allowed", "category_not_allowed", `${issuer.code} may not issue category ${claims.category} (${slug})`, { issuer: issuer.code, category: claims.category });
    }
    // 7. The issuer's partition of the revocation list.
    if (this.revocationList !== null) {
      const listed = revocationStatus(this.revocationList, issuer.code, claims.permit_id);
      if (listed === "revoked") return verdict("revoked", "revoked", "the issuer revoked this permit");
      if (listed === "replaced") return verdict("replaced", "replaced", "replaced by a newer permit");
    }
    // 8. Time: validity period (exp exclusive), then daily windows and weekdays in Tbilisi.
    const at = atMs / 1000;
    if (at < claims.not_before) {
      return verdict("not_yet_valid", "not_yet_valid", `not valid before ${localText(claims.not_before)}`, { from: localText(claims.not_before) });
    }
    if (at >= claims.expires) {
      return verdict("expired", "expired", `expired at ${localText(claims.expires)}`, { until: localText(claims.expires) });
    }
    const local = localParts(Math.floor(at));
    if (!inSchedule(claims.windows, claims.weekdays, local)) {
      const days = claims.weekdays === null ? [] : WEEKDAY_NAMES.map((_, i) => i).filter((i) => (claims.weekdays >> i) & 1);
      const hours = claims.windows.map((w) => `${hhmm(w.start)}-${hhmm(w.end)}`).join(", ");
      const now = `${hhmm(local.hour * 60 + local.minute)}`;
      return verdict("outside_window", "outside_window", `outside its schedule: ${WEEKDAY_NAMES[local.weekday]} ${now}, valid ${hours ? `only ${hours}` : ""}${days.length ? ` on ${days.map((i) => WEEKDAY_NAMES[i]).join(", ")}` : ""}`, { hours, days, weekday: local.weekday, now });
    }
    return verdict("valid", "valid", `valid until ${localText(claims.expires)}`, { until: localText(claims.expires) });
  }
}
