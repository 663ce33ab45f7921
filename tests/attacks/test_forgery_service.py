"""Forgeries against the running service and the lists it publishes: old lists replayed to
bring back a revoked key or clear a revocation, a stolen issuer key used outside its
categories, a key that was never approved, and forged codes sent to online verification."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from permits.trust import keys
from permits.trust.keystore import KeyStore
from permits.trust.models import PublishedList
from tests.attacks import forge
from tests.conftest import Clock
from tests.factories import World, medical_staff
from tests.helpers import device_verifier, issue
from verifier import codec, cose, lists, text
from verifier.model import Person, Role, Status
from verifier.verify import Verifier


def _published(session: Session, kind: str) -> list[PublishedList]:
    return list(
        session.exec(
            select(PublishedList)
            .where(PublishedList.kind == kind)
            .order_by(col(PublishedList.version))
            .execution_options(populate_existing=True)
        ).all()
    )


def test_replaying_an_old_trust_list_cannot_bring_back_a_revoked_key(
    client: TestClient, world: World, session: Session, keystore: KeyStore, clock: Clock
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    before = client.get("/api/v1/lists/trust-list.cose").content
    active = keys.signing_key(
        session, organisation=world.organisations["MRN-CLINIC"], keystore=keystore
    )
    keys.revoke_key(
        session, kid=active.kid.hex(), keystore=keystore, now=clock(), actor=None, reason="stolen"
    )
    after = client.get("/api/v1/lists/trust-list.cose").content
    root = keystore.root_public_key()
    old, new = (lists.load_trust_list(d, root_public_key=root) for d in (before, after))
    # The old list would indeed bring the key back: that is what a replay is after.
    assert Verifier(old).verify(permit["qr_text"], at=clock()).status is Status.VALID
    assert Verifier(new).verify(permit["qr_text"], at=clock()).status is Status.UNKNOWN_ISSUER
    # The service published a strictly newer version, and a device holding it refuses every
    # version it published before.
    versions = [row.version for row in _published(session, "trust")]
    assert versions == sorted(set(versions)) and new.version == versions[-1] > old.version
    for version in versions[:-1]:
        assert not lists.accept_update(new.version, version)


def test_replaying_an_old_revocation_list_cannot_clear_a_revocation(
    client: TestClient, world: World, session: Session, keystore: KeyStore, clock: Clock
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    before = client.get("/api/v1/lists/revocation-list.cose").content
    revoked = client.post(
        f"/api/v1/permits/{permit['id']}/revoke",
        json={"reason": "lost phone"},
        headers=world.auth("doctor"),
    )
    assert revoked.status_code == 200
    device = device_verifier(client, keystore)
    assert device.verify(permit["qr_text"], at=clock()).status is Status.REVOKED
    old = lists.load_revocation_list(before, root_public_key=keystore.root_public_key())
    assert device.revocation_list is not None
    assert not lists.accept_update(device.revocation_list.version, old.version)


def test_a_stolen_issuer_key_cannot_sign_outside_its_categories(
    client: TestClient, world: World, session: Session, keystore: KeyStore, clock: Clock
) -> None:
    # The attacker holds the clinic's private key and signs farm work (Bolnisi's category).
    stolen = keys.signing_key(
        session, organisation=world.organisations["MRN-CLINIC"], keystore=keystore
    )
    device = device_verifier(client, keystore)
    farm_code = next(c.code for c in device.trust_list.categories if c.slug == "farm_work")
    claims = forge.claims(
        category=farm_code, persons=(Person(Role.FARMER, "ზურაბ კაპანაძე", "12001054321"),)
    )
    claims = replace(
        claims,
        not_before=int(clock().timestamp()) - 3600,
        expires=int(clock().timestamp()) + 86400,
    )
    forged = forge.signed_permit(claims, stolen.private_key)
    assert device.verify(forged, at=clock()).status is Status.CATEGORY_NOT_ALLOWED
    online = client.post(
        "/api/v1/verify",
        json={"qr_text": forged, "checkpoint": "Bolnisi east"},
        headers=world.auth("police"),
    )
    assert online.status_code == 200 and online.json()["status"] == "category_not_allowed"


def test_a_key_never_approved_is_not_on_the_trust_list(
    client: TestClient, world: World, session: Session, keystore: KeyStore, clock: Clock
) -> None:
    pending = keys.create_key(
        session,
        organisation=world.organisations["MRN-CLINIC"],
        keystore=keystore,
        now=clock(),
        actor=None,
    )
    assert pending.status == "pending"
    private = keystore.issuer_private_key("MRN-CLINIC", bytes.fromhex(pending.kid))
    claims = replace(
        forge.claims(),
        not_before=int(clock().timestamp()) - 3600,
        expires=int(clock().timestamp()) + 86400,
    )
    forged = forge.signed_permit(claims, private)
    assert device_verifier(client, keystore).verify(forged, at=clock()).status is (
        Status.UNKNOWN_ISSUER
    )


def _forgeries(genuine: str, keystore: KeyStore, clinic_kid: bytes) -> dict[str, str]:
    parts = forge.split(genuine)
    claims = codec.decode_claims(parts[2])
    stranger = forge.keys.generate_private_key()
    later = replace(claims, expires=claims.expires + 30 * 86400)
    edited = [parts[0], parts[1], codec.encode_claims(later), parts[3]]
    no_alg = {cose.HEADER_KID: clinic_kid}
    return {
        "edited": forge.join(edited),
        "stranger-under-clinic-kid": forge.signed_permit(claims, stranger, as_kid=clinic_kid),
        "stranger": forge.signed_permit(claims, stranger),
        "no-alg": forge.qr(forge.message(parts[2], protected=no_alg, signature=parts[3])),
        "hmac": forge.hmac_permit(claims, b"", as_kid=clinic_kid),
        "root-signed": forge.signed_permit(claims, keystore.ensure_root()[0]),
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("edited", "bad_signature"),
        ("stranger-under-clinic-kid", "bad_signature"),
        ("stranger", "unknown_issuer"),
        ("no-alg", "malformed"),
        ("hmac", "malformed"),
        ("root-signed", "unknown_issuer"),
    ],
)
def test_online_verification_refuses_forgeries_and_records_them(
    client: TestClient,
    world: World,
    keystore: KeyStore,
    clock: Clock,
    name: str,
    expected: str,
) -> None:
    genuine = issue(client, world, medical_staff(clock()))["qr_text"]
    kid = cose.parse_sign1(text.decode_qr_text(genuine)).kid
    forged = _forgeries(genuine, keystore, kid)[name]
    response = client.post(
        "/api/v1/verify",
        json={"qr_text": forged, "checkpoint": "Marneuli north"},
        headers=world.auth("police"),
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    assert (body["status"], body["valid"]) == (expected, False)
    assert body["persons"] == [] or expected == "category_not_allowed"
    assert body["check_id"] > 0
