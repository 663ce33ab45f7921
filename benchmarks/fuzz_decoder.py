"""Coverage-guided fuzzing of the Python decoder with atheris (libFuzzer for Python).

    .venv/bin/python benchmarks/fuzz_decoder.py                  # 100,000 inputs
    .venv/bin/python benchmarks/fuzz_decoder.py --runs 1000000

Every input goes down five paths, chosen by its first byte:
  0 the QR text as typed or scanned (any text)   -> Verifier.verify
  1 the COSE bytes under the Base45 layer         -> Verifier.verify
  2 the claims payload bytes                      -> codec.decode_claims
  3 a payload signed with a trusted issuer's key  -> Verifier.verify (past the signature)
  4 a trust or revocation list file               -> lists.load_*_list
The corpus starts from the golden vectors (tests/vectors/). Each layer may refuse only with
its own error (MalformedError, ListError); any other exception is a crash. The verifier
must never call anything VALID that a trusted key did not sign exactly so: a VALID verdict
on paths 0 and 1 must carry a protected header, payload and signature byte-identical to a
genuine vector's, and on path 3 the fuzzer's own signed payload must decode to claims.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VECTORS = ROOT / "tests" / "vectors"

import atheris  # noqa: E402

with atheris.instrument_imports():
    from verifier import codec, cose, lists, text
    from verifier.errors import ListError, MalformedError
    from verifier.keys import generate_private_key, kid_for, public_key_der
    from verifier.model import Issuer, IssuerKey, Status
    from verifier.verify import Verifier

REPORT = {"at": 0, "started": 0.0}
STATS = {"inputs": 0, "valid": 0, "crashes": 0, "by_path": [0, 0, 0, 0, 0]}


def _load() -> tuple[Verifier, datetime, set[tuple[bytes, bytes, bytes]], list[bytes], object]:
    index = json.loads((VECTORS / "index.json").read_text())
    from cryptography.hazmat.primitives import serialization

    root = serialization.load_pem_public_key((VECTORS / index["root_public_key"]).read_bytes())
    trust = lists.load_trust_list(
        (VECTORS / "trust-list.cose").read_bytes(),
        root_public_key=root,  # type: ignore[arg-type]
    )
    revocation = lists.load_revocation_list(
        (VECTORS / "revocation-list.cose").read_bytes(),
        root_public_key=root,  # type: ignore[arg-type]
    )
    # One more issuer whose private key the fuzzer holds (path 3), allowed every category.
    own = generate_private_key()
    fuzz_issuer = Issuer(
        code="FUZZ",
        names={"en": "Fuzz"},
        municipality=1,
        categories=tuple(range(0, 64)),
        keys=(IssuerKey(kid_for(own.public_key()), public_key_der(own.public_key())),),
    )
    from dataclasses import replace

    verifier = Verifier(replace(trust, issuers=(*trust.issuers, fuzz_issuer)), revocation)
    genuine: set[tuple[bytes, bytes, bytes]] = set()
    seeds: list[bytes] = []
    moment = None
    for name in index["vectors"]:
        vector = json.loads((VECTORS / name).read_text())
        if vector.get("kind") != "permit":
            seeds.append(b"\x04" + (VECTORS / vector["file"]).read_bytes())
            continue
        seeds.append(b"\x00" + vector["qr"].encode())
        try:
            raw = text.decode_qr_text(vector["qr"])
            message = cose.parse_sign1(raw)
        except MalformedError:
            continue
        seeds.append(b"\x01" + raw)
        seeds.append(b"\x02" + message.payload)
        seeds.append(b"\x03" + message.payload)
        if vector["expected"]["status"] == "valid":
            genuine.add((message.protected_bytes, message.payload, message.signature))
            moment = moment or datetime.fromisoformat(vector["at"])
    assert moment is not None
    return verifier, moment, genuine, seeds, (own, root)


VERIFIER, AT, GENUINE, SEEDS, KEYS = _load()
OWN_KEY, ROOT_KEY = KEYS  # type: ignore[misc]


def _check_valid(result: object, raw: bytes) -> None:
    message = cose.parse_sign1(raw)
    triple = (message.protected_bytes, message.payload, message.signature)
    if triple not in GENUINE:
        raise AssertionError(f"ACCEPTED a permit no trusted key signed so: {raw.hex()}")


def test_one_input(data: bytes) -> None:
    """One fuzz input; a crash is counted, then re-raised for libFuzzer to report."""
    try:
        _one_input(data)
    except BaseException:
        STATS["crashes"] += 1
        raise
    if STATS["inputs"] == REPORT["at"]:
        _report()


def _report() -> None:
    seconds = time.monotonic() - REPORT["started"]
    print(
        f"\nfuzz_decoder: {STATS['inputs']} inputs in {seconds:.0f} s "
        f"({STATS['inputs'] / max(seconds, 1e-9):.0f}/s); by path {STATS['by_path']}; "
        f"VALID verdicts {STATS['valid']} (each checked to be a genuine vector); "
        f"crashes or forgeries accepted: {STATS['crashes']}",
        flush=True,
    )


def _one_input(data: bytes) -> None:
    STATS["inputs"] += 1
    if not data:
        return
    path, body = data[0] % 5, data[1:]
    STATS["by_path"][path] += 1
    if path == 0:
        qr_text = body.decode("utf-8", errors="replace")
        result = VERIFIER.verify(qr_text, at=AT)
        try:
            raw = text.decode_qr_text(qr_text)
            message = cose.parse_sign1(raw)
            codec.decode_claims(message.payload)
        except MalformedError:
            pass
        if result.status is Status.VALID:
            STATS["valid"] += 1
            _check_valid(result, text.decode_qr_text(qr_text))
    elif path == 1:
        result = VERIFIER.verify(text.encode_qr_text(body), at=AT)
        with contextlib.suppress(MalformedError):
            cose.parse_sign1(body)
        if result.status is Status.VALID:
            STATS["valid"] += 1
            _check_valid(result, body)
    elif path == 2:
        try:
            claims = codec.decode_claims(body)
        except MalformedError:
            return
        codec.validate_claims(claims)
    elif path == 3:
        permit = text.encode_qr_text(
            cose.sign1(body, private_key=OWN_KEY, kid=kid_for(OWN_KEY.public_key()))
        )
        result = VERIFIER.verify(permit, at=AT)
        try:
            codec.decode_claims(body)
            decodes = True
        except MalformedError:
            decodes = False
        if not decodes and result.status is not Status.MALFORMED:
            raise AssertionError(f"undecodable claims got {result.status}: {body.hex()}")
    else:
        for load in (lists.load_trust_list, lists.load_revocation_list):
            with contextlib.suppress(ListError):
                load(body, root_public_key=ROOT_KEY)  # type: ignore[arg-type]


def main() -> int:
    """Run the fuzzer for --runs inputs and print what it did."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--max-len", type=int, default=4200)
    args, rest = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as corpus:
        for number, seed in enumerate(SEEDS):
            (Path(corpus) / f"seed-{number:03d}").write_bytes(seed)
        argv = [
            sys.argv[0],
            corpus,
            f"-runs={args.runs}",
            f"-max_len={args.max_len}",
            "-print_final_stats=1",
            "-close_fd_mask=0",
            *rest,
        ]
        REPORT["at"], REPORT["started"] = args.runs, time.monotonic()
        atheris.Setup(argv, test_one_input)
        atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
