"""Trust and revocation lists: what they hold, rotation, key revocation, expiry, versions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from permits.issuance.models import Permit
from permits.policy.service import policy_at
from permits.trust import keys
from permits.trust.keystore import KeyStore
from permits.trust.lists import (
    KEEP_SIGNED_VERSIONS,
    REVOCATION,
    TRUST,
    build_revocation_list,
    current_list,
    export_lists,
)
from permits.trust.models import PublishedList
from tests.conftest import Clock
from tests.factories import World, medical_staff
from tests.helpers import device_verifier, issue
from verifier.lists import load_revocation_list, load_trust_list, revocation_status
from verifier.model import Status
from verifier.verify import Verifier


def test_trust_list_names_issuers_keys_and_allowed_categories(
    client: TestClient, world: World, keystore: KeyStore
) -> None:
    response = client.get("/api/v1/lists/trust-list.cose")
    assert response.status_code == 200 and response.headers["content-type"] == "application/cose"
    trust = load_trust_list(response.content, root_public_key=keystore.root_public_key())
    issuers = {i.code: i for i in trust.issuers}
    assert set(issuers) == {"MRN-CLINIC", "SHM-DOCTOR", "BOL-MUNI", "MEPA", "KK-ADMIN"}
    assert set(issuers["BOL-MUNI"].categories) == {7, 8, 9}  # funeral, farm work, shop supply
    assert set(issuers["MEPA"].categories) == {8, 10}
    assert issuers["MRN-CLINIC"].names["ka"] == "მარნეულის სამედიცინო ცენტრი"
    assert all(len(i.keys) == 1 and i.keys[0].status == "active" for i in issuers.values())
    special = next(c for c in trust.categories if c.slug == "special_needs")
    assert special.names["en"] == "Medical necessity"


def test_lists_are_versioned_and_only_change_when_something_changed(
    client: TestClient, world: World, clock: Clock
) -> None:
    first = client.get("/api/v1/lists/revocation-list.cose")
    again = client.get("/api/v1/lists/revocation-list.cose")
    assert first.headers["x-list-version"] == again.headers["x-list-version"]
    permit = issue(client, world, medical_staff(clock()))
    client.post(
        f"/api/v1/permits/{permit['id']}/revoke",
        json={"reason": "test"},
        headers=world.auth("doctor"),
    )
    after = client.get("/api/v1/lists/revocation-list.cose")
    assert int(after.headers["x-list-version"]) == int(first.headers["x-list-version"]) + 1
    clock.advance(hours=2)  # older than the refresh period: republished even unchanged
    later = client.get("/api/v1/lists/revocation-list.cose")
    assert int(later.headers["x-list-version"]) == int(after.headers["x-list-version"]) + 1


def test_rotation_keeps_the_old_key_until_its_last_permit_expires(
    client: TestClient, world: World, session: Session, keystore: KeyStore, clock: Clock
) -> None:
    old_permit = issue(client, world, medical_staff(clock()))
    organisation = world.organisations["MRN-CLINIC"]
    keys.rotate_key(session, organisation=organisation, keystore=keystore, now=clock(), actor=None)
    new_permit = issue(client, world, medical_staff(clock()))
    assert new_permit["qr_text"] != old_permit["qr_text"]
    verifier = device_verifier(client, keystore)
    assert verifier.verify(old_permit["qr_text"], at=clock()).status is Status.VALID
    assert verifier.verify(new_permit["qr_text"], at=clock()).status is Status.VALID
    mrn = next(i for i in verifier.trust_list.issuers if i.code == "MRN-CLINIC")
    assert sorted(k.status for k in mrn.keys) == ["active", "retired"]
    clock.advance(days=15)  # the old key's last permit has expired: it leaves the list
    mrn = next(
        i for i in device_verifier(client, keystore).trust_list.issuers if i.code == "MRN-CLINIC"
    )
    assert [k.status for k in mrn.keys] == ["active"]


def test_a_revoked_key_stops_its_permits_at_the_next_sync(
    client: TestClient, world: World, session: Session, keystore: KeyStore, clock: Clock
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    assert (
        device_verifier(client, keystore).verify(permit["qr_text"], at=clock()).status
        is Status.VALID
    )
    active = keys.signing_key(
        session, organisation=world.organisations["MRN-CLINIC"], keystore=keystore
    )
    keys.revoke_key(
        session,
        kid=active.kid.hex(),
        keystore=keystore,
        now=clock(),
        actor=None,
        reason="laptop stolen",
    )
    result = device_verifier(client, keystore).verify(permit["qr_text"], at=clock())
    assert result.status is Status.UNKNOWN_ISSUER
    # and nothing can be signed with it any more
    response = client.post(
        "/api/v1/permits", json=medical_staff(clock()), headers=world.auth("doctor")
    )
    assert response.status_code == 503 and response.json()["errors"][0]["code"] == "no_signing_key"


def test_revocation_entries_drop_out_once_the_permit_would_have_expired(
    client: TestClient, world: World, session: Session, keystore: KeyStore, clock: Clock
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    client.post(
        f"/api/v1/permits/{permit['id']}/revoke",
        json={"reason": "test"},
        headers=world.auth("doctor"),
    )
    policy = policy_at(session, clock())
    listed, entries = build_revocation_list(session, policy=policy, now=clock(), version=1)
    cti = bytes.fromhex(session.exec(select(Permit.cti)).one())
    assert entries == 1 and revocation_status(listed, "MRN-CLINIC", cti) == "revoked"
    later, entries = build_revocation_list(
        session, policy=policy, now=clock() + timedelta(days=15), version=2
    )
    assert entries == 0 and revocation_status(later, "MRN-CLINIC", cti) is None


def test_export_writes_static_files_a_device_can_use(
    client: TestClient,
    world: World,
    session: Session,
    keystore: KeyStore,
    clock: Clock,
    tmp_path: Path,
) -> None:
    out = tmp_path / "public"
    permit = issue(client, world, medical_staff(clock()))
    paths = export_lists(
        session,
        out_dir=out,
        keystore=keystore,
        policy=policy_at(session, clock()),
        now=clock(),
        refresh_after=timedelta(0),
    )
    assert sorted(p.name for p in paths) == [
        "revocation-list.cose",
        "root-public-key.pem",
        "trust-list.cose",
    ]
    root = load_pem_public_key((out / "root-public-key.pem").read_bytes())
    trust = load_trust_list((out / "trust-list.cose").read_bytes(), root_public_key=root)  # type: ignore[arg-type]
    revocation = load_revocation_list(
        (out / "revocation-list.cose").read_bytes(), root_public_key=root
    )  # type: ignore[arg-type]
    assert Verifier(trust, revocation).verify(permit["qr_text"], at=clock()).status is Status.VALID


def test_old_versions_keep_their_rows_but_drop_their_signed_bytes(
    session: Session, keystore: KeyStore, clock: Clock, world: World
) -> None:
    policy = policy_at(session, clock())

    def publish(kind: str) -> PublishedList:
        return current_list(
            session,
            kind=kind,
            keystore=keystore,
            policy=policy,
            now=clock(),
            refresh_after=timedelta(0),  # every call signs a new version
        )

    trust = publish(TRUST)
    newest = None
    for _ in range(KEEP_SIGNED_VERSIONS + 3):
        clock.advance(seconds=1)
        newest = publish(REVOCATION)
    assert newest is not None
    rows = session.exec(
        select(PublishedList)
        .where(PublishedList.kind == REVOCATION)
        .order_by(col(PublishedList.version))
        .execution_options(populate_existing=True)
    ).all()
    versions = [row.version for row in rows]
    assert versions == list(range(1, newest.version + 1))  # history: every version, in order
    kept = [row for row in rows if row.data]
    assert [row.version for row in kept] == versions[-KEEP_SIGNED_VERSIONS:]
    # The newest is whole and is what devices get.
    listed = load_revocation_list(kept[-1].data, root_public_key=keystore.root_public_key())
    assert listed.version == newest.version
    # One list's retention leaves the other alone: the trust list's old version keeps its bytes.
    assert trust.version <= newest.version - KEEP_SIGNED_VERSIONS
    kept_trust = session.exec(
        select(PublishedList)
        .where(PublishedList.kind == TRUST, PublishedList.version == trust.version)
        .execution_options(populate_existing=True)
    ).one()
    assert kept_trust.data
