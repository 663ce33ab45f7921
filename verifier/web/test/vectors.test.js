// Every golden vector in tests/vectors/ through the JavaScript verifier: the same status,
// warnings, control code and claims as the Python library (tests/test_verifier_vectors.py),
// and the same verdict on every list. Run: node --test verifier/web/test/*.test.js (make test-js)
//
// PERMITS_VECTORS=<dir> runs another folder of vectors (e.g. freshly generated ones).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { loadRevocationList, loadTrustList, acceptUpdate, rootFromJwk, rootFromSpki, ListError } from "../src/lists.js";
import { Verifier, STATUSES } from "../src/verify.js";
import { claimsToJson } from "../src/claims.js";

const here = dirname(fileURLToPath(import.meta.url));
const VECTORS = process.env.PERMITS_VECTORS || join(here, "..", "..", "..", "tests", "vectors");
const index = JSON.parse(readFileSync(join(VECTORS, "index.json"), "utf-8"));
const bytes = (name) => new Uint8Array(readFileSync(join(VECTORS, name)));

function pemToDer(pem) {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return new Uint8Array(Buffer.from(body, "base64"));
}

const rootPromise = rootFromJwk(JSON.parse(readFileSync(join(VECTORS, index.root_public_key_jwk), "utf-8")));
const loaded = new Map();
async function list(name, kind) {
  const key = `${kind}:${name}`;
  if (!loaded.has(key)) {
    const root = await rootPromise;
    loaded.set(key, kind === "trust_list" ? loadTrustList(bytes(name), root) : loadRevocationList(bytes(name), root));
  }
  return loaded.get(key);
}

/** What the JS verifier makes of one vector, in the vector's own terms. */
export async function runVector(vector) {
  if (vector.kind === "permit") {
    const trust = await list(vector.trust_list, "trust_list");
    const revocation = vector.revocation_list ? await list(vector.revocation_list, "revocation_list") : null;
    const result = await new Verifier(trust, revocation).verify(vector.qr, Date.parse(vector.at));
    const out = { status: result.status, warnings: result.warnings };
    if (result.claims) {
      out.control_code = result.controlCode;
      out.claims = claimsToJson(result.claims);
    }
    return out;
  }
  const root = await rootPromise;
  const load = vector.kind === "trust_list" ? loadTrustList : loadRevocationList;
  try {
    const got = await load(bytes(vector.file), root);
    return acceptUpdate(vector.current_version, got.version) ? "accepted" : "rollback";
  } catch (exc) {
    if (exc instanceof ListError) return exc.reason;
    throw exc;
  }
}

test("the pinned root key has the same kid from its JWK and from its PEM", async () => {
  const fromJwk = await rootPromise;
  const fromPem = await rootFromSpki(pemToDer(readFileSync(join(VECTORS, index.root_public_key), "utf-8")));
  assert.equal(fromJwk.kidHex, fromPem.kidHex);
});

const statuses = new Set();
for (const name of index.vectors) {
  const vector = JSON.parse(readFileSync(join(VECTORS, name), "utf-8"));
  test(`vector ${name}`, async () => {
    const got = await runVector(vector);
    assert.deepEqual(got, vector.expected, `${name}: ${vector.description}`);
    if (vector.kind === "permit") statuses.add(got.status);
  });
}

test("the vectors reached every status", () => {
  assert.deepEqual([...statuses].sort(), [...STATUSES].sort());
});
