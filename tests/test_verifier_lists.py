"""Trust and revocation lists: signatures, rollback, type confusion, binary search."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.vectors.generate import Keys, kid, revocation_list, trust_list
from verifier import cose, lists
from verifier.errors import ListError
from verifier.model import RevocationList, RevocationPartition

K = Keys.fresh()
ROOT_KID = kid(K.root)


def sign_tl(**changes: Any) -> bytes:
    return lists.sign_trust_list(
        replace(trust_list(K, 3), **changes), root_private_key=K.root, root_kid=ROOT_KID
    )


def signed_payload(payload: Any) -> bytes:
    """Any CBOR payload, properly signed by the root."""
    return cose.sign1(cbor2.dumps(payload), private_key=K.root, kid=ROOT_KID)


def refused(reason: str, data: bytes, *, kind: str = "trust") -> str:
    load = lists.load_trust_list if kind == "trust" else lists.load_revocation_list
    with pytest.raises(ListError) as caught:
        load(data, root_public_key=K.root.public_key())
    assert caught.value.reason == reason, caught.value
    return str(caught.value)


# -- signing and loading ----------------------------------------------------------------------


def test_trust_list_round_trip() -> None:
    original = trust_list(K, 3)
    data = lists.sign_trust_list(original, root_private_key=K.root, root_kid=ROOT_KID)
    assert lists.load_trust_list(data, root_public_key=K.root.public_key()) == original
    payload = cbor2.loads(cose.parse_sign1(data).payload)
    assert payload["type"] == "permits-trust-list"
    assert list(payload) == [
        "type", "version", "issued", "stale_after", "issuers", "categories", "municipalities",
    ]  # fmt: skip
    assert list(payload["issuers"][0]) == ["code", "names", "municipality", "categories", "keys"]
    assert list(payload["issuers"][0]["keys"][0]) == ["kid", "key", "status"]


def test_revocation_list_round_trip() -> None:
    original = revocation_list()
    data = lists.sign_revocation_list(original, root_private_key=K.root, root_kid=ROOT_KID)
    assert lists.load_revocation_list(data, root_public_key=K.root.public_key()) == original
    payload = cbor2.loads(cose.parse_sign1(data).payload)
    assert payload["type"] == "permits-revocation-list"
    assert set(payload["issuers"]["MRN-CLINIC"]) == {"revoked", "replaced"}


def test_not_signed_by_the_root() -> None:
    other = lists.sign_trust_list(
        trust_list(K, 3), root_private_key=K.other_root, root_kid=kid(K.other_root)
    )
    assert "not by the root key" in refused("bad_signature", other)
    # another key that claims the root's kid
    forged = lists.sign_trust_list(
        trust_list(K, 3), root_private_key=K.other_root, root_kid=ROOT_KID
    )
    assert "does not verify" in refused("bad_signature", forged)
    tampered = bytearray(sign_tl())
    tampered[len(tampered) // 2] ^= 0x20
    refused("bad_signature", bytes(tampered))


def test_type_confusion_is_refused() -> None:
    rl = lists.sign_revocation_list(revocation_list(), root_private_key=K.root, root_kid=ROOT_KID)
    assert "expected a permits-trust-list" in refused("wrong_type", rl)
    refused("wrong_type", sign_tl(), kind="revocation")
    refused("wrong_type", signed_payload({4: 1, 5: 0}))  # a permit-like payload, root-signed
    refused("wrong_type", signed_payload({"type": "permits-trust-list-v2"}))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        cbor2.dumps([1, 2, 3, 4]),
        signed_payload([1, 2]),
        cose.sign1(b"\xff", private_key=K.root, kid=ROOT_KID),
    ],
)
def test_malformed_lists(data: bytes) -> None:
    refused("malformed", data)


def _payload_with(change: Any) -> bytes:
    payload = lists.trust_list_payload(trust_list(K, 3))
    change(payload)
    return signed_payload(payload)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.pop("version"),
        lambda p: p.update(version=-1),
        lambda p: p.update(issued="yesterday"),
        lambda p: p.update(issuers={}),
        lambda p: p.update(categories={}),
        lambda p: p["issuers"][0].pop("code"),
        lambda p: p["issuers"][0].update(categories=["1"]),
        lambda p: p["issuers"][0].update(names={"en": 1}),
        lambda p: p["issuers"][0]["keys"][0].update(status="compromised"),
        lambda p: p["issuers"][0]["keys"][0].update(kid=b"1234567"),
        lambda p: p["issuers"][0]["keys"][0].update(kid=bytes(8)),  # does not match the key
        lambda p: p["issuers"][0]["keys"][0].update(key=b"not a key"),
        lambda p: p["issuers"][1]["keys"].append(p["issuers"][0]["keys"][0]),  # kid twice
        lambda p: p["issuers"].append(p["issuers"][0]),  # issuer twice
        lambda p: p["issuers"][0]["keys"][0].update(
            key=ec.generate_private_key(ec.SECP384R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ),
    ],
)
def test_malformed_trust_list_contents(change: Any) -> None:
    refused("malformed", _payload_with(change))


def test_unknown_fields_are_ignored() -> None:
    payload = lists.trust_list_payload(trust_list(K, 3))
    payload["future"] = {"anything": [1, 2]}
    payload["issuers"][0]["phone"] = "+995"
    assert lists.load_trust_list(signed_payload(payload), root_public_key=K.root.public_key())


def _revocation_payload(**issuers: Any) -> bytes:
    return signed_payload(
        {
            "type": "permits-revocation-list",
            "version": 1,
            "issued": 0,
            "stale_after": 60,
            "issuers": issuers,
        }
    )


@pytest.mark.parametrize(
    "entry",
    [
        {"revoked": b"1234", "replaced": b""},  # not a multiple of 5
        {"revoked": b"bbbbbaaaaa", "replaced": b""},  # not sorted
        {"revoked": b"aaaaaaaaaa", "replaced": b""},  # duplicate
        {"revoked": b""},  # replaced missing
        {"revoked": "aaaaa", "replaced": b""},
        [b"", b""],
    ],
)
def test_malformed_revocation_partitions(entry: Any) -> None:
    refused("malformed", _revocation_payload(X=entry), kind="revocation")


def test_sign_revocation_list_refuses_unsorted_runs() -> None:
    rl = RevocationList(1, 0, 60, {"X": RevocationPartition(revoked=b"bbbbbaaaaa")})
    with pytest.raises(ValueError, match="sorted"):
        lists.sign_revocation_list(rl, root_private_key=K.root, root_kid=ROOT_KID)


# -- versions ------------------------------------------------------------------------------------


def test_accept_update_only_takes_strictly_newer_versions() -> None:
    assert lists.accept_update(None, 0)
    assert lists.accept_update(2, 3)
    assert not lists.accept_update(3, 3)
    assert not lists.accept_update(3, 2)


# -- binary search -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 2, 3, 1000])
def test_binary_search_finds_every_listed_id_and_nothing_else(size: int) -> None:
    rng = random.Random(size)
    ids = {rng.randbytes(5) for _ in range(size)}
    run = lists.build_partition(ids, []).revoked
    assert len(run) == 5 * len(ids)
    for permit_id in ids:
        assert lists.contains_id(run, permit_id)
    listed = sorted(ids)
    probes = [bytes(5), b"\xff" * 5, *(rng.randbytes(5) for _ in range(200))]
    # just beside every listed id: one below and one above
    for permit_id in listed:
        value = int.from_bytes(permit_id, "big")
        probes += [(value + d).to_bytes(5, "big") for d in (-1, 1) if 0 <= value + d < 2**40]
    for probe in probes:
        assert lists.contains_id(run, probe) == (probe in ids)
    assert not lists.contains_id(run, b"1234")  # not an id at all


def test_build_partition_sorts_and_deduplicates_and_revoked_wins() -> None:
    a, b, c = b"aaaaa", b"bbbbb", b"ccccc"
    part = lists.build_partition([c, a, c], [b, a, b])
    assert part == RevocationPartition(revoked=a + c, replaced=b)
    with pytest.raises(ValueError, match="5 bytes"):
        lists.build_partition([b"abcd"], [])


def test_revocation_status_looks_in_the_issuers_partition_only() -> None:
    rl = RevocationList(
        1,
        0,
        60,
        {
            "A": lists.build_partition([b"aaaaa"], [b"bbbbb"]),
            "B": lists.build_partition([b"ccccc"], []),
        },
    )
    assert lists.revocation_status(rl, "A", b"aaaaa") == "revoked"
    assert lists.revocation_status(rl, "A", b"bbbbb") == "replaced"
    assert lists.revocation_status(rl, "A", b"ccccc") is None
    assert lists.revocation_status(rl, "B", b"ccccc") == "revoked"
    assert lists.revocation_status(rl, "Z", b"aaaaa") is None


def test_each_entry_takes_five_bytes() -> None:
    rng = random.Random(1)
    ids = [rng.randbytes(5) for _ in range(20_000)]
    run = lists.build_partition(ids, []).revoked
    assert len(run) == 5 * len(set(ids))  # 1,000,000 ids -> 5,000,000 bytes
    assert all(lists.contains_id(run, i) for i in ids[:500])
