"""The JavaScript verifier of the checkpoint app and the Python library agree on damaged input
too: every permit of the vector generator (fresh keys), with bytes flipped, cut or added and
characters changed, and payloads with odd CBOR signed by a trusted issuer key."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import cbor2
import pytest

from tests.vectors import generate as gen
from verifier import codec, cose, keys, lists, text
from verifier.verify import Verifier

SCRIPT = Path(__file__).parents[2] / "verifier" / "web" / "test" / "verify-many.mjs"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _mutations(qr: str, rng: random.Random) -> list[str]:
    data = bytearray(text.base45_decode(qr[len(text.PREFIX) :]))
    body = qr[len(text.PREFIX) :]
    out = []
    for _ in range(24):
        flipped = bytearray(data)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        out.append(text.encode_qr_text(bytes(flipped)))
    for _ in range(4):
        out.append(text.encode_qr_text(bytes(data[: rng.randrange(len(data))])))
        cut = rng.randrange(len(data))
        extra = bytes([rng.randrange(256)])
        out.append(text.encode_qr_text(bytes(data[:cut]) + extra + bytes(data[cut:])))
        where = rng.randrange(len(body))
        out.append(text.PREFIX + body[:where] + rng.choice(ALPHABET) + body[where + 1 :])
    return out


def _odd_payloads() -> list[bytes]:
    """Payload maps a careless decoder might accept or refuse wrongly."""
    staff = cbor2.loads(codec.encode_claims(gen.claims("odd")))
    variants: list[Any] = [
        staff,
        {**staff, 5: float(staff[5])},
        {**staff, -1: True},
        {**staff, -1: cbor2.CBORTag(2, b"\x02")},
        {**staff, -1: 2**64 - 1},
        {**staff, 4: 2**64 - 1},
        {**staff, -9: 0},
        {**staff, -9: 128},
        {**staff, -9: 1},
        {**staff, -8: [60, 60]},
        {**staff, -8: [0, 1440]},
        {**staff, -8: [1380, 60]},
        {**staff, -8: list(range(0, 26))},
        {**staff, -3: 10**12},
        {**staff, -3: "10AB123"},
        {**staff, -3: "x" * 21},
        {**staff, -4: 9},
        {**staff, -4: 8},
        {**staff, -2: []},
        {**staff, -2: [[4, "", 1]]},
        {**staff, -2: [[4, "a\u0085b", 1]]},
        {**staff, -2: [[4, "\U0001f600" * 200, 1]]},
        {**staff, -2: [[4, "\U0001f600" * 201, 1]]},
        {**staff, -2: [[11, "x", 1]]},
        {**staff, -2: [[4, "x", 10**11]]},
        {**staff, -2: [[4, "x", 10**11 - 1]]},
        {**staff, -2: [[4, b"\xff", 1]]},
        {**staff, -2: [[4, b"\x00\x0f", 1]]},
        {**staff, 7: b"\x00" * 4},
        {**staff, 4: staff[5]},
        {**staff, -5: "x" * 101},
        {**staff, -6: [1, 2, 3]},
        {**staff, -7: "ok", 99: "unknown keys are ignored", "text": 1},
    ]
    out = [cbor2.dumps(v) for v in variants]
    out.append(bytes.fromhex("a20101f501"))  # keys 1 and true: a duplicate in Python
    out.append(bytes.fromhex("a201f6f93c00f6"))  # keys 1 and 1.0
    out.append(cbor2.dumps(staff)[:-1])
    out.append(cbor2.dumps(staff) + b"\x00")
    out.append(b"\x81" * 17 + b"\x01")  # too deep
    return out


def _big_as_text(value: Any) -> Any:
    """Integers beyond JavaScript's safe range as the node script writes them."""
    if isinstance(value, dict):
        return {k: _big_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_big_as_text(v) for v in value]
    if type(value) is int and abs(value) > 2**53 - 1:
        return f"bigint:{value}"
    return value


@pytest.mark.skipif(shutil.which("node") is None, reason="node is installed by make setup")
def test_javascript_and_python_agree_on_damaged_input(tmp_path: Path) -> None:
    rng = random.Random(20261102)
    k = gen.Keys.fresh()
    root = k.root.public_key()
    trust_bytes = lists.sign_trust_list(
        gen.trust_list(k, 3), root_private_key=k.root, root_kid=gen.kid(k.root)
    )
    revocation_bytes = lists.sign_revocation_list(
        gen.revocation_list(), root_private_key=k.root, root_kid=gen.kid(k.root)
    )
    (tmp_path / "trust-list.cose").write_bytes(trust_bytes)
    (tmp_path / "revocation-list.cose").write_bytes(revocation_bytes)
    (tmp_path / "root-public-key.jwk.json").write_text(json.dumps(keys.public_key_jwk(root)))

    cases: list[dict[str, Any]] = []
    for vector in gen.permit_vectors(k):
        base = {"at": vector.moment.isoformat(), "revocation": vector.revocation}
        cases.append({**base, "qr": vector.qr})
        if vector.status == "valid" and vector.qr.startswith(text.PREFIX):
            cases += [{**base, "qr": q} for q in _mutations(vector.qr, rng)]
    for payload in _odd_payloads():
        signed = cose.sign1(payload, private_key=k.clinic, kid=gen.kid(k.clinic))
        at = gen.at(1, 10).isoformat()
        cases.append({"qr": text.encode_qr_text(signed), "at": at, "revocation": True})
    assert len(cases) > 500

    done = subprocess.run(
        ["node", str(SCRIPT), str(tmp_path)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    javascript = json.loads(done.stdout)

    trust = lists.load_trust_list(trust_bytes, root_public_key=root)
    revocation = lists.load_revocation_list(revocation_bytes, root_public_key=root)
    verifiers = {True: Verifier(trust, revocation), False: Verifier(trust)}
    statuses = set()
    for case, js in zip(cases, javascript, strict=True):
        result = verifiers[case["revocation"]].verify(
            case["qr"], at=gen.datetime.fromisoformat(case["at"])
        )
        python = _big_as_text(
            {
                "status": result.status.value,
                "warnings": list(result.warnings),
                "control_code": result.control_code,
                "claims": None if result.claims is None else codec.claims_to_json(result.claims),
            }
        )
        assert js == python, (case["qr"], result.reason)
        statuses.add(python["status"])
    assert {"valid", "malformed", "bad_signature", "unknown_issuer"} <= statuses
