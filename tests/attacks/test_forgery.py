"""The forgery suite: every way we know to make a checkpoint accept a permit or a list that
the regional root and a trusted issuer did not sign as shown.

The golden vectors (tests/vectors/) already hold one example of several of these (ES384 in
the header, alg only in the unprotected header, a stranger's key, one changed character, a
list signed by another key, a replayed list); this suite adds the attacks they do not cover
and runs the covered ones over many inputs. Each attack must end in a precise refusal, never
VALID and never an exception.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.attacks import forge
from tests.attacks.forge import CLINIC, FARM_WORK, MEDICAL_STAFF, NOW, Keys
from verifier import codec, cose, lists, text
from verifier.errors import ListError
from verifier.model import Person, Role, Status, Window
from verifier.verify import Verifier

K = Keys.fresh()
ORDER = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(forge.trust_list(K), forge.empty_revocations())


def verdict(verifier: Verifier, qr_text: str) -> Status:
    return verifier.verify(qr_text, at=NOW).status


def test_the_genuine_permit_is_valid(verifier: Verifier) -> None:
    """The baseline every attack below starts from."""
    assert verdict(verifier, forge.signed_permit(forge.claims(), K.clinic)) is Status.VALID


# -- 1. another algorithm in the header, or none ---------------------------------------------

PAYLOAD = codec.encode_claims(forge.claims())
CLINIC_KID = forge.kid(K.clinic)


@pytest.mark.parametrize(
    ("protected", "unprotected"),
    [
        ({cose.HEADER_KID: CLINIC_KID}, {}),  # no alg at all ("none")
        (b"", {cose.HEADER_ALG: cose.ALG_ES256, cose.HEADER_KID: CLINIC_KID}),  # empty protected
        ({cose.HEADER_ALG: "none", cose.HEADER_KID: CLINIC_KID}, {}),  # JOSE's "none"
        ({cose.HEADER_ALG: "ES256", cose.HEADER_KID: CLINIC_KID}, {}),  # a name, not the label
        ({cose.HEADER_ALG: 0, cose.HEADER_KID: CLINIC_KID}, {}),
        ({cose.HEADER_ALG: -8, cose.HEADER_KID: CLINIC_KID}, {}),  # EdDSA
        ({cose.HEADER_ALG: -37, cose.HEADER_KID: CLINIC_KID}, {}),  # PS256
        ({cose.HEADER_ALG: -36, cose.HEADER_KID: CLINIC_KID}, {}),  # ES512
        ({cose.HEADER_ALG: 5, cose.HEADER_KID: CLINIC_KID}, {}),  # HMAC 256/256
        ({cose.HEADER_ALG: -7.0, cose.HEADER_KID: CLINIC_KID}, {}),  # -7 as a float
        ({cose.HEADER_ALG: True, cose.HEADER_KID: CLINIC_KID}, {}),
        ({"1": -7, cose.HEADER_KID: CLINIC_KID}, {}),  # the label as text
        ({cose.HEADER_ALG: cbor2.CBORTag(2, b"\x07"), cose.HEADER_KID: CLINIC_KID}, {}),
    ],
)
def test_another_algorithm_or_none_is_malformed(
    verifier: Verifier, protected: Any, unprotected: dict[Any, Any]
) -> None:
    # Properly signed by the clinic's own key: only the header is wrong.
    forged = forge.qr(
        forge.message(PAYLOAD, protected=protected, unprotected=unprotected, signer=K.clinic)
    )
    assert verdict(verifier, forged) is Status.MALFORMED


@pytest.mark.parametrize(
    "secret",
    [
        forge.der(K.clinic),  # the public key, as on the trust list
        forge.kid(K.clinic),
        b"",
    ],
    ids=["public-key-der", "kid", "empty"],
)
@pytest.mark.parametrize("alg", [5, 4, 6, 7, -7])
def test_hmac_keyed_with_public_values_is_refused(
    verifier: Verifier, secret: bytes, alg: int
) -> None:
    """Algorithm confusion: an HMAC 'signature' keyed with what every device knows."""
    forged = forge.hmac_permit(forge.claims(), secret, as_kid=CLINIC_KID, alg=alg)
    assert verdict(verifier, forged) in (Status.MALFORMED, Status.BAD_SIGNATURE)


def test_an_unsigned_permit_with_an_empty_or_zero_signature_is_refused(
    verifier: Verifier,
) -> None:
    header = {cose.HEADER_ALG: cose.ALG_ES256, cose.HEADER_KID: CLINIC_KID}
    for signature in (b"", b"\0" * 64, b"\xff" * 64, b"\0" * 32 + b"\1" * 32):
        forged = forge.qr(forge.message(PAYLOAD, protected=header, signature=signature))
        assert verdict(verifier, forged) in (Status.MALFORMED, Status.BAD_SIGNATURE)


def test_a_duplicated_alg_label_is_malformed(verifier: Verifier) -> None:
    # {1: -7, 1: 5, 4: kid}: readers that keep the last key would see HMAC, others ES256.
    protected = b"\xa3\x01\x26\x01\x05\x04\x48" + CLINIC_KID  # map(3) 1:-7 1:5 4:bstr(8)
    forged = forge.qr(forge.message(PAYLOAD, protected=protected, signer=K.clinic))
    assert verdict(verifier, forged) is Status.MALFORMED


# -- 2. an issuer's kid with another key's signature -----------------------------------------


@pytest.mark.parametrize("signer", ["stranger", "bolnisi", "root"])
def test_the_clinics_kid_with_another_keys_signature_is_a_bad_signature(
    verifier: Verifier, signer: str
) -> None:
    key: ec.EllipticCurvePrivateKey = getattr(K, signer)
    forged = forge.signed_permit(forge.claims(), key, as_kid=CLINIC_KID)
    assert verdict(verifier, forged) is Status.BAD_SIGNATURE


def test_a_kid_moved_to_the_unprotected_header_does_not_help(verifier: Verifier) -> None:
    # The stranger signs with no kid in the protected header and names the clinic's kid in the
    # unprotected one (which the signature does not cover).
    protected = {cose.HEADER_ALG: cose.ALG_ES256}
    forged = forge.qr(
        forge.message(
            PAYLOAD,
            protected=protected,
            unprotected={cose.HEADER_KID: CLINIC_KID},
            signer=K.stranger,
        )
    )
    assert verdict(verifier, forged) is Status.BAD_SIGNATURE
    # A genuine permit whose unprotected kid is swapped for another issuer's: refused too.
    genuine = forge.qr(
        forge.message(
            PAYLOAD,
            protected=protected,
            unprotected={cose.HEADER_KID: CLINIC_KID},
            signer=K.clinic,
        )
    )
    assert verdict(verifier, genuine) is Status.VALID
    parts = forge.split(genuine)
    parts[1] = {cose.HEADER_KID: forge.kid(K.bolnisi)}
    assert verdict(verifier, forge.join(parts)) is Status.BAD_SIGNATURE


def test_the_protected_kid_wins_over_an_unprotected_one(verifier: Verifier) -> None:
    stranger = forge.qr(
        forge.message(
            PAYLOAD,
            protected={cose.HEADER_ALG: cose.ALG_ES256, cose.HEADER_KID: forge.kid(K.stranger)},
            unprotected={cose.HEADER_KID: CLINIC_KID},
            signer=K.stranger,
        )
    )
    assert verdict(verifier, stranger) is Status.UNKNOWN_ISSUER


# -- 3. a key that is not on the trust list ----------------------------------------------------


def test_a_key_not_on_the_trust_list_is_an_unknown_issuer() -> None:
    retired_then_dropped = ec.generate_private_key(ec.SECP256R1())
    permit = forge.signed_permit(forge.claims(), retired_then_dropped)
    with_key = Verifier(forge.trust_list(K, clinic_keys=(K.clinic, retired_then_dropped)))
    without = Verifier(forge.trust_list(K))
    assert with_key.verify(permit, at=NOW).status is Status.VALID
    assert without.verify(permit, at=NOW).status is Status.UNKNOWN_ISSUER


def test_a_kid_collision_attempt_with_another_curve_key_is_refused_on_the_list() -> None:
    # A P-384 key slipped into a list under a kid: the list itself is refused.
    p384 = ec.generate_private_key(ec.SECP384R1())
    from verifier.keys import kid_for_der

    der = forge.keys.public_key_der(p384.public_key())
    tl = forge.trust_list(K)
    bad_issuer = replace(tl.issuers[0], keys=(forge.IssuerKey(kid_for_der(der), der),))
    data = forge.sign_trust_list(replace(tl, issuers=(bad_issuer, tl.issuers[1])), K.root)
    with pytest.raises(ListError) as refused:
        lists.load_trust_list(data, root_public_key=K.root.public_key())
    assert refused.value.reason == ListError.MALFORMED


# -- 4. a trust list not signed by the root ---------------------------------------------------


def _rogue_trust_list() -> dict[str, Any]:
    """The clinic's wish list: itself allowed every category, and the stranger as an issuer."""
    payload = lists.trust_list_payload(forge.trust_list(K, version=99))
    payload["issuers"][0]["categories"] = list(range(1, 20))
    payload["issuers"].append(
        {
            "code": "ROGUE",
            "names": {"en": "Rogue"},
            "municipality": 5,
            "categories": list(range(1, 20)),
            "keys": [
                {"kid": forge.kid(K.stranger), "key": forge.der(K.stranger), "status": "active"}
            ],
        }
    )
    return payload


@pytest.mark.parametrize(
    ("signer", "as_root_kid"),
    [
        ("clinic", False),  # a trusted issuer signs a list in its own name
        ("clinic", True),  # ...or under the root's kid
        ("stranger", True),
        ("bolnisi", False),
    ],
)
def test_a_trust_list_not_signed_by_the_root_is_refused(signer: str, as_root_kid: bool) -> None:
    key: ec.EllipticCurvePrivateKey = getattr(K, signer)
    data = forge.signed_list(
        _rogue_trust_list(), key, as_kid=forge.kid(K.root) if as_root_kid else None
    )
    with pytest.raises(ListError) as refused:
        lists.load_trust_list(data, root_public_key=K.root.public_key())
    assert refused.value.reason == ListError.BAD_SIGNATURE


def test_the_roots_signature_moved_onto_another_list_is_refused() -> None:
    genuine = cbor2.loads(forge.sign_trust_list(forge.trust_list(K), K.root))
    genuine[2] = cbor2.dumps(_rogue_trust_list())
    with pytest.raises(ListError) as refused:
        lists.load_trust_list(cbor2.dumps(genuine), root_public_key=K.root.public_key())
    assert refused.value.reason == ListError.BAD_SIGNATURE


def test_a_list_with_an_hmac_under_the_roots_kid_is_refused() -> None:
    import hashlib
    import hmac

    payload = cbor2.dumps(_rogue_trust_list())
    protected = cbor2.dumps({cose.HEADER_ALG: 5, cose.HEADER_KID: forge.kid(K.root)})
    secret = forge.der(K.root)
    tag = hmac.new(secret, cose.sig_structure(protected, payload), hashlib.sha256).digest()
    data = cbor2.dumps([protected, {}, payload, tag * 2])
    with pytest.raises(ListError) as refused:
        lists.load_trust_list(data, root_public_key=K.root.public_key())
    assert refused.value.reason == ListError.MALFORMED


def test_a_permit_signed_with_the_root_key_is_not_a_permit(verifier: Verifier) -> None:
    # The root signs lists only: a permit under the root's kid is from an unknown issuer.
    assert verdict(verifier, forge.signed_permit(forge.claims(), K.root)) is Status.UNKNOWN_ISSUER


# -- 5. an older list replayed -----------------------------------------------------------------


def test_every_older_or_equal_version_is_refused_by_a_device() -> None:
    for held in range(1, 30):
        for offered in range(0, held + 1):
            assert not lists.accept_update(held, offered)
        assert lists.accept_update(held, held + 1)


# -- 6. a category the issuer may not issue ---------------------------------------------------


@given(category=st.integers(0, 2**16).filter(lambda c: c not in (1, 2)))
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_the_clinic_signing_any_category_it_may_not_issue_is_refused(category: int) -> None:
    verifier = Verifier(forge.trust_list(K), forge.empty_revocations())
    forged = forge.signed_permit(forge.claims(category=category), K.clinic)
    assert verdict(verifier, forged) is Status.CATEGORY_NOT_ALLOWED


def test_bolnisi_may_sign_farm_work_but_not_medical_staff(verifier: Verifier) -> None:
    farm = forge.claims(category=FARM_WORK, persons=(Person(Role.FARMER, "ზურაბ", "12001054321"),))
    assert verdict(verifier, forge.signed_permit(farm, K.bolnisi)) is Status.VALID
    staff = forge.claims(category=MEDICAL_STAFF)
    assert verdict(verifier, forge.signed_permit(staff, K.bolnisi)) is Status.CATEGORY_NOT_ALLOWED


# -- 7. a permit edited after signing ------------------------------------------------------------

EDITS: dict[str, dict[str, Any]] = {
    "later expiry": {"expires": forge.claims().expires + 30 * 86400},
    "earlier start": {"not_before": forge.claims().not_before - 30 * 86400},
    "another person": {"persons": (Person(Role.STAFF_MEMBER, "ლაშა ხარაიშვილი", "01024054999"),)},
    "a second person": {
        "persons": (*forge.claims().persons, Person(Role.DRIVER, "ზურაბ", "12001054321"))
    },
    "another plate": {"plate": "BB321AA"},
    "no plate": {"plate": None},
    "another category": {"category": 1},
    "windows removed": {},
    "another route": {"route_to": 1},
    "another permit id": {"permit_id": b"\0\0\0\0\1"},
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_permit_edited_after_signing_is_a_bad_signature(verifier: Verifier, edit: str) -> None:
    original = forge.claims(windows=(Window(8 * 60, 20 * 60),))
    genuine = forge.signed_permit(original, K.clinic)
    assert verdict(verifier, genuine) is Status.VALID
    changes = EDITS[edit] or {"windows": ()}
    parts = forge.split(genuine)
    parts[2] = codec.encode_claims(replace(original, **changes))
    assert verdict(verifier, forge.join(parts)) is Status.BAD_SIGNATURE


GENUINE = forge.signed_permit(forge.claims(), K.clinic)  # signed once: ECDSA is randomised


@given(st.data())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_change_to_the_signed_bytes_is_never_valid(data: st.DataObject) -> None:
    verifier = Verifier(forge.trust_list(K), forge.empty_revocations())
    genuine = GENUINE
    raw = bytearray(text.decode_qr_text(genuine))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255).filter(lambda b, p=position: b != raw[p]))
    if bytes(raw) == text.decode_qr_text(genuine):
        return
    result = verifier.verify(forge.qr(bytes(raw)), at=NOW)
    assert result.status is not Status.VALID or _same_permit(result, genuine, verifier)


def _same_permit(result: Any, genuine: str, verifier: Verifier) -> bool:
    """A change that leaves the permit's meaning as signed (e.g. in the unsigned header)."""
    original = verifier.verify(genuine, at=NOW)
    return bool(result.claims == original.claims and result.issuer == original.issuer)


def test_a_non_canonical_re_encoding_of_the_same_claims_is_a_bad_signature(
    verifier: Verifier,
) -> None:
    genuine = forge.signed_permit(forge.claims(), K.clinic)
    parts = forge.split(genuine)
    claims_map = cbor2.loads(parts[2])
    # Same claims, keys in another order: different bytes, so the signature no longer covers it.
    parts[2] = cbor2.dumps(dict(reversed(list(claims_map.items()))))
    assert parts[2] != cbor2.dumps(claims_map)
    assert verdict(verifier, forge.join(parts)) is Status.BAD_SIGNATURE


# -- 8. one permit's signature on another ----------------------------------------------------------


def test_one_permits_signature_on_another_is_a_bad_signature(verifier: Verifier) -> None:
    first = forge.signed_permit(forge.claims(1), K.clinic)
    second = forge.signed_permit(forge.claims(2, plate="GE555AB"), K.clinic)
    a, b = forge.split(first), forge.split(second)
    assert verdict(verifier, forge.join([b[0], b[1], b[2], a[3]])) is Status.BAD_SIGNATURE
    assert verdict(verifier, forge.join([a[0], a[1], b[2], a[3]])) is Status.BAD_SIGNATURE
    # Another issuer's header (kid) on the clinic's payload and signature.
    farm = forge.signed_permit(
        forge.claims(3, category=FARM_WORK, persons=(Person(Role.FARMER, "ზურაბ", "12001054321"),)),
        K.bolnisi,
    )
    c = forge.split(farm)
    assert verdict(verifier, forge.join([c[0], a[1], a[2], a[3]])) is Status.BAD_SIGNATURE


def test_a_high_s_twin_of_a_signature_mints_nothing_new(verifier: Verifier) -> None:
    """ECDSA signatures are malleable: (r, n - s) verifies too. The twin carries exactly the
    signed claims (same permit id, same control code), so it cannot create a new permit."""
    genuine = forge.signed_permit(forge.claims(), K.clinic)
    parts = forge.split(genuine)
    r, s = parts[3][:32], int.from_bytes(parts[3][32:], "big")
    parts[3] = r + (ORDER - s).to_bytes(32, "big")
    twin = verifier.verify(forge.join(parts), at=NOW)
    original = verifier.verify(genuine, at=NOW)
    assert twin.claims == original.claims and twin.control_code == original.control_code


def test_revocation_is_per_issuer_so_a_forged_partition_cannot_clear_a_revocation() -> None:
    revoked = forge.claims(7)
    permit = forge.signed_permit(revoked, K.clinic)
    genuine = lists.load_revocation_list(
        lists.sign_revocation_list(
            forge.RevocationList(
                version=5,
                issued=int(NOW.timestamp()),
                stale_after=86400,
                partitions={CLINIC: lists.build_partition([revoked.permit_id], [])},
            ),
            root_private_key=K.root,
            root_kid=forge.kid(K.root),
        ),
        root_public_key=K.root.public_key(),
    )
    assert Verifier(forge.trust_list(K), genuine).verify(permit, at=NOW).status is Status.REVOKED
    # A revocation list emptied by the clinic (not the root) never loads.
    emptied = forge.signed_list(lists.revocation_list_payload(forge.empty_revocations(6)), K.clinic)
    with pytest.raises(ListError):
        lists.load_revocation_list(emptied, root_public_key=K.root.public_key())
