"""A revocation list of 1 million entries: its size, the cost to publish and load it, and the
cost of one look-up on a device, in the Python library and (with node) in the checkpoint app.

    .venv/bin/python benchmarks/bench_revocation_list.py [--entries 1000000] [--issuers 40]

The format (docs/format.md): per issuer, one byte string of sorted 5-byte permit ids for
"revoked" and one for "replaced", inside a CBOR map signed by the root key. A look-up is a
binary search over the bytes: O(log n), about 20 comparisons for a million entries, and
nothing is built in memory beyond the file itself.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _spine import machine  # noqa: E402

SIZE_TARGET = 10 * 1024 * 1024

NODE_SCRIPT = r"""
import { readFileSync } from "node:fs";
import { loadRevocationList, revocationStatus, rootFromSpki } from "%(lists)s";
const [file, rootFile, probesFile] = process.argv.slice(2);
const data = new Uint8Array(readFileSync(file));
const root = await rootFromSpki(new Uint8Array(readFileSync(rootFile)));
let t = performance.now();
const list = await loadRevocationList(data, root);
const loadMs = performance.now() - t;
const probes = JSON.parse(readFileSync(probesFile, "utf-8"))
  .map(([code, hex]) => [code, Uint8Array.from(Buffer.from(hex, "hex"))]);
let found = 0;
t = performance.now();
const rounds = 20;
for (let r = 0; r < rounds; r++) {
  for (const [code, id] of probes) if (revocationStatus(list, code, id)) found++;
}
const lookupUs = (performance.now() - t) * 1000 / (rounds * probes.length);
console.log(JSON.stringify({ loadMs, lookupUs, found: found / rounds, probes: probes.length }));
"""


def main() -> int:
    """Build, sign, measure and look up; print the figures against the targets."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--issuers", type=int, default=40)
    args = parser.parse_args()

    from verifier import lists
    from verifier.keys import generate_private_key, kid_for, public_key_der
    from verifier.model import RevocationList

    print(f"bench_revocation_list: {machine()}")
    root = generate_private_key()
    codes = [f"ORG-{n:03d}" for n in range(args.issuers)]
    ids = {secrets.token_bytes(5) for _ in range(args.entries)}
    while len(ids) < args.entries:
        ids.add(secrets.token_bytes(5))
    by_issuer: dict[str, tuple[list[bytes], list[bytes]]] = {c: ([], []) for c in codes}
    for number, permit_id in enumerate(ids):
        revoked, replaced = by_issuer[codes[number % len(codes)]]
        (replaced if number % 4 == 0 else revoked).append(permit_id)

    started = time.perf_counter()
    partitions = {c: lists.build_partition(r, p) for c, (r, p) in by_issuer.items()}
    listed = RevocationList(
        version=1, issued=int(time.time()), stale_after=43200, partitions=partitions
    )
    data = lists.sign_revocation_list(
        listed, root_private_key=root, root_kid=kid_for(root.public_key())
    )
    publish_s = time.perf_counter() - started
    compressed = len(gzip.compress(data, 6))

    started = time.perf_counter()
    loaded = lists.load_revocation_list(data, root_public_key=root.public_key())
    load_s = time.perf_counter() - started

    # Look-ups: half listed ids, half unknown ones, in the right issuer's partition.
    issuer_of = {}
    for number, permit_id in enumerate(ids):  # the same order as when they were assigned
        if number == 50_000:
            break
        issuer_of[permit_id] = codes[number % len(codes)]
    sample = list(issuer_of)
    probes = [(issuer_of[i], i) for i in sample] + [
        (codes[n % len(codes)], secrets.token_bytes(5)) for n in range(50_000)
    ]
    started = time.perf_counter()
    found = sum(1 for code, permit_id in probes if lists.revocation_status(loaded, code, permit_id))
    lookup_us = (time.perf_counter() - started) / len(probes) * 1e6
    assert found >= len(sample)

    # How the cost grows with n: one partition of n ids, many look-ups each.
    growth = []
    for n in (1_000, 10_000, 100_000, 1_000_000):
        run = b"".join(sorted(secrets.token_bytes(5) for _ in range(n)))
        keys = [run[i * 5 : i * 5 + 5] for i in range(0, n, max(1, n // 2000))]
        started = time.perf_counter()
        for permit_id in keys * max(1, 20000 // len(keys)):
            lists.contains_id(run, permit_id)
        per = (time.perf_counter() - started) / (len(keys) * max(1, 20000 // len(keys))) * 1e6
        growth.append((n, per))

    node = shutil.which("node")
    device = None
    if node:
        with tempfile.TemporaryDirectory() as folder:
            base = Path(folder)
            (base / "list.cose").write_bytes(data)
            (base / "root.der").write_bytes(public_key_der(root.public_key()))
            (base / "probes.json").write_text(
                json.dumps([[code, permit_id.hex()] for code, permit_id in probes[::10]])
            )
            script = base / "probe.mjs"
            script.write_text(
                NODE_SCRIPT % {"lists": (ROOT / "verifier/web/src/lists.js").as_uri()}
            )
            result = subprocess.run(
                [
                    node,
                    str(script),
                    str(base / "list.cose"),
                    str(base / "root.der"),
                    str(base / "probes.json"),
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=600,
                env={**os.environ},
            )
            if result.returncode == 0:
                device = json.loads(result.stdout.strip().splitlines()[-1])
            else:
                print(f"  (node run failed: {result.stderr.strip()[:300]})")

    mb = len(data) / 1024 / 1024
    print(f"  {args.entries:,} entries over {args.issuers} issuers (3/4 revoked, 1/4 replaced)")
    print(
        f"  signed file: {len(data):,} bytes = {mb:.2f} MiB ({len(data) / args.entries:.2f} bytes "
        f"an entry; gzip {compressed / 1024 / 1024:.2f} MiB: random ids do not compress) "
        f"(target ≤ 10 MiB): {'MET' if len(data) <= SIZE_TARGET else 'NOT MET'}"
    )
    print(
        f"  publish (sort, encode, sign) {publish_s:.2f} s; "
        f"load on a device (verify, check) {load_s:.2f} s"
    )
    print(f"  one look-up (Python): {lookup_us:.1f} µs; binary search, O(log n):")
    for n, per in growth:
        print(f"    n = {n:>9,}: {per:.2f} µs a look-up")
    if device and node:
        version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
        print(
            f"  checkpoint app (node {version.strip()}): "
            f"load {device['loadMs']:.0f} ms, one look-up {device['lookupUs']:.2f} µs"
        )
    ratio = growth[-1][1] / growth[0][1]
    print(
        f"  look-up cost from 1k to 1M entries grows {ratio:.1f}x (1000x more entries): "
        f"{'O(log n) MET' if ratio < 10 else 'NOT logarithmic'}"
    )
    return 0 if len(data) <= SIZE_TARGET and ratio < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
