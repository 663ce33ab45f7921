// Fuzzing the checkpoint app's JavaScript decoder (verifier/web/src) with fast-check.
//
//     node benchmarks/fuzz_decoder_js.mjs                 # 100,000 inputs
//     node benchmarks/fuzz_decoder_js.mjs --runs 400000
//
// Inputs: byte-level mutations of every golden vector's COSE bytes (flips, insertions,
// deletions, truncations), random bytes under the Base45 layer, random Base45 and random
// text after the prefix, random claims payloads, and mutated list files. Each layer may
// refuse only with its own error (MalformedError, ListError); anything else is a crash. The
// verifier must never throw and never say "valid" unless the protected header, payload and
// signature are byte-identical to a genuine vector's (changes to the unsigned header that
// leave the permit as signed are fine). fast-check is property-based, not coverage-guided:
// the mutations start from real permits so that inputs reach deep into the decoder.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";

import { MalformedError } from "../verifier/web/src/cbor.js";
import { decodeClaims } from "../verifier/web/src/claims.js";
import { parseSign1 } from "../verifier/web/src/cose.js";
import { ListError, loadRevocationList, loadTrustList, rootFromJwk } from "../verifier/web/src/lists.js";
import { base45Encode, decodeQrText } from "../verifier/web/src/text.js";
import { STATUSES, Verifier } from "../verifier/web/src/verify.js";

const here = dirname(fileURLToPath(import.meta.url));
const VECTORS = join(here, "..", "tests", "vectors");
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 100_000;

const index = JSON.parse(readFileSync(join(VECTORS, "index.json"), "utf-8"));
const bytes = (name) => new Uint8Array(readFileSync(join(VECTORS, name)));
const root = await rootFromJwk(JSON.parse(readFileSync(join(VECTORS, index.root_public_key_jwk), "utf-8")));
const trust = await loadTrustList(bytes("trust-list.cose"), root);
const revocation = await loadRevocationList(bytes("revocation-list.cose"), root);
const verifier = new Verifier(trust, revocation);

const hex = (b) => Buffer.from(b).toString("hex");
const genuine = new Set();
const seeds = [];
const listSeeds = [bytes("trust-list.cose"), bytes("revocation-list.cose"), bytes("trust-list-v2.cose")];
let at = null;
for (const name of index.vectors) {
  const vector = JSON.parse(readFileSync(join(VECTORS, name), "utf-8"));
  if (vector.kind !== "permit") continue;
  let raw;
  try {
    raw = decodeQrText(vector.qr);
  } catch {
    continue;
  }
  seeds.push(raw);
  if (vector.expected.status === "valid") {
    const message = parseSign1(raw);
    genuine.add(hex(message.protectedBytes) + hex(message.payload) + hex(message.signature));
    at ??= Date.parse(vector.at);
  }
}

const stats = { inputs: 0, valid: 0, byKind: {} };

/** Run `fn`; rethrow anything that is not one of `allowed` (a crash). */
function only(allowed, fn) {
  try {
    return fn();
  } catch (exc) {
    if (allowed.some((type) => exc instanceof type)) return undefined;
    throw exc;
  }
}

async function checkPermitBytes(raw, kind) {
  stats.inputs += 1;
  stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
  const message = only([MalformedError], () => parseSign1(raw));
  if (message) only([MalformedError], () => decodeClaims(message.payload));
  const result = await verifier.verify("MP1:" + base45Encode(raw), at);
  if (!STATUSES.includes(result.status)) throw new Error(`unknown status ${result.status}`);
  if (result.status === "valid") {
    stats.valid += 1;
    const key = hex(message.protectedBytes) + hex(message.payload) + hex(message.signature);
    if (!genuine.has(key)) throw new Error(`ACCEPTED a forged permit: ${hex(raw)}`);
  }
}

async function checkText(text, kind) {
  stats.inputs += 1;
  stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
  only([MalformedError], () => decodeQrText(text));
  const result = await verifier.verify(text, at);
  if (result.status === "valid") {
    stats.valid += 1;
    const message = parseSign1(decodeQrText(text));
    if (!genuine.has(hex(message.protectedBytes) + hex(message.payload) + hex(message.signature))) {
      throw new Error(`ACCEPTED a forged text: ${text}`);
    }
  }
}

function mutate(seed, edits) {
  let out = Array.from(seed);
  for (const edit of edits) {
    const position = edit.position % (out.length + 1);
    if (edit.kind === 0 && out.length) out[position % out.length] = edit.value;
    else if (edit.kind === 1) out.splice(position, 0, edit.value);
    else if (edit.kind === 2 && out.length) out.splice(position % out.length, 1);
    else if (edit.kind === 3) out = out.slice(0, position);
    else if (edit.kind === 4 && out.length) out[position % out.length] ^= 1 << (edit.value % 8);
  }
  return new Uint8Array(out);
}

const edit = fc.record({
  kind: fc.integer({ min: 0, max: 4 }),
  position: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
});
const BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const properties = [
  [0.45, "mutated permit", fc.asyncProperty(
    fc.nat({ max: seeds.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 6 }),
    (i, edits) => checkPermitBytes(mutate(seeds[i], edits), "mutated permit"))],
  [0.15, "random COSE bytes", fc.asyncProperty(
    fc.uint8Array({ maxLength: 400 }), (raw) => checkPermitBytes(raw, "random COSE bytes"))],
  [0.15, "random Base45 text", fc.asyncProperty(
    fc.string({ unit: fc.constantFrom(...BASE45), maxLength: 500 }),
    (body) => checkText("MP1:" + body, "random Base45 text"))],
  [0.05, "random text", fc.asyncProperty(
    fc.string({ unit: "binary", maxLength: 300 }), (text) => checkText(text, "random text"))],
  [0.1, "random claims", fc.asyncProperty(fc.nat({ max: seeds.length - 1 }),
    fc.array(edit, { minLength: 1, maxLength: 6 }), (i, edits) => {
      stats.inputs += 1;
      stats.byKind["random claims"] = (stats.byKind["random claims"] ?? 0) + 1;
      const message = only([MalformedError], () => parseSign1(seeds[i]));
      if (message) only([MalformedError], () => decodeClaims(mutate(message.payload, edits)));
    })],
  [0.1, "mutated list", fc.asyncProperty(fc.nat({ max: listSeeds.length - 1 }),
    fc.array(edit, { minLength: 1, maxLength: 4 }), async (i, edits) => {
      stats.inputs += 1;
      stats.byKind["mutated list"] = (stats.byKind["mutated list"] ?? 0) + 1;
      const data = mutate(listSeeds[i], edits);
      for (const load of [loadTrustList, loadRevocationList]) {
        try {
          await load(data, root);
        } catch (exc) {
          if (!(exc instanceof ListError)) throw exc;
        }
      }
    })],
];

const started = Date.now();
let failed = false;
for (const [share, name, property] of properties) {
  try {
    await fc.assert(property, { numRuns: Math.ceil(RUNS * share), endOnFailure: true });
  } catch (exc) {
    failed = true;
    console.error(`${name}: ${exc.message.split("\n").slice(0, 8).join("\n")}`);
  }
}
const seconds = (Date.now() - started) / 1000;
console.log(
  `fuzz_decoder_js: ${stats.inputs} inputs in ${seconds.toFixed(0)} s ` +
    `(${(stats.inputs / seconds).toFixed(0)}/s); ${JSON.stringify(stats.byKind)}; ` +
    `VALID verdicts ${stats.valid} (each checked to be a genuine vector); ` +
    `crashes or forgeries accepted: ${failed ? "YES" : 0}`,
);
process.exit(failed ? 1 : 0);
