// Verify many QR texts with the JavaScript verifier and print the outcomes as JSON lines.
// Used by tests/checkpoint/test_js_matches_python.py to compare with the Python library.
//
//   node verifier/web/test/verify-many.mjs VECTORS_DIR < cases.json
//   cases.json: [{"qr": "...", "at": "ISO time", "revocation": true}, ...]

import { readFileSync } from "node:fs";
import { join } from "node:path";

import { loadRevocationList, loadTrustList, rootFromJwk } from "../src/lists.js";
import { Verifier } from "../src/verify.js";
import { claimsToJson } from "../src/claims.js";

const dir = process.argv[2];
const read = (name) => new Uint8Array(readFileSync(join(dir, name)));
const root = await rootFromJwk(JSON.parse(readFileSync(join(dir, "root-public-key.jwk.json"), "utf-8")));
const trust = await loadTrustList(read("trust-list.cose"), root);
const revocation = await loadRevocationList(read("revocation-list.cose"), root);
const withList = new Verifier(trust, revocation);
const withoutList = new Verifier(trust, null);
const cases = JSON.parse(readFileSync(0, "utf-8"));
const out = [];
for (const c of cases) {
  const r = await (c.revocation ? withList : withoutList).verify(c.qr, Date.parse(c.at));
  out.push({
    status: r.status,
    warnings: r.warnings,
    control_code: r.controlCode,
    claims: r.claims ? claimsToJson(r.claims) : null,
  });
}
// integers beyond 2^53 (a CBOR uint may reach 2^64 - 1) travel as "bigint:N"
process.stdout.write(JSON.stringify(out, (_, v) => (typeof v === "bigint" ? `bigint:${v}` : v)));
