"""Oversight: anomalies, organisations and keys (a revoked key fails in the verifier after
the lists are re-exported), policy changes as new versions, the audit chain, checkpoints."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from permits.accounts.caller import Caller
from permits.audit.models import AuditEvent
from permits.errors import Conflict, NotPermitted, ValidationFailed
from permits.issuance.models import Permit
from permits.organisations.models import Organisation
from permits.oversight.anomalies import scan_anomalies
from permits.oversight.audit_view import audit_events, check_chain
from permits.oversight.checkpoints import distance_km, load_checkpoints, register_checkpoint
from permits.oversight.policy_edit import (
    CategoryEdit,
    apply_category_change,
    permits_by_version,
    propose_category_change,
)
from permits.oversight.trust import (
    approve_key,
    live_permits_of_key,
    organisations_overview,
    publish_lists,
    register_issuer,
    request_key,
    revoke_key,
    rotate_key,
    set_categories,
)
from permits.policy.models import PolicyVersion
from permits.policy.service import policy_at, policy_version
from permits.review.revocation import revoke_one
from permits.trust.keystore import KeyStore
from permits.trust.models import IssuerKey
from tests.admin.conftest import CheckMaker
from tests.conftest import Clock, local
from tests.factories import World, farm_work, funeral, medical_staff, person
from tests.helpers import issue
from verifier.lists import load_revocation_list, load_trust_list
from verifier.model import Status
from verifier.verify import Verifier


def _verifier_from_files(folder: Path, keystore: KeyStore) -> Verifier:
    root = keystore.root_public_key()
    trust = load_trust_list((folder / "trust-list.cose").read_bytes(), root_public_key=root)
    revocation = load_revocation_list(
        (folder / "revocation-list.cose").read_bytes(), root_public_key=root
    )
    return Verifier(trust, revocation)


def test_anomalies_plates_persons_volume_copied_qr_and_bad_checks(
    client: TestClient,
    world: World,
    session: Session,
    clock: Clock,
    admin: Caller,
    checkpoints: list[str],
    add_check: CheckMaker,
) -> None:
    # four active permits on one plate (limit 3); the same nurse on all four
    same_car = [issue(client, world, medical_staff(clock())) for _ in range(4)]
    other = medical_staff(clock())
    other["vehicle"]["plate"] = "ZZ-999-ZZ"
    other["persons"] = [person("staff_member", "ლია", "ლომიძე", "01024099999", position="ექთანი")]
    lone = issue(client, world, other)
    # a day's volume far above the usual: twelve funerals today, none before
    for _ in range(11):
        body = funeral(clock())
        body["vehicle"]["plate"] = f"FN-{_:03d}-AA"
        issue(client, world, body)
    # one permit checked at Tsalka and at Marneuli 10 minutes apart: about 75 km
    at = clock() + timedelta(hours=1)
    add_check(lone, "TSK-C", at)
    add_check(lone, "MRN-N", at + timedelta(minutes=10))
    # a plausible pair: Marneuli then Rustavi, 60 minutes later
    add_check(same_car[0], "MRN-N", at)
    add_check(same_car[0], "RUS-N", at + timedelta(minutes=60))
    # a forged code and a revoked permit at a checkpoint; a stale pass after revocation
    add_check(None, "BOL-E", at, result="bad_signature", cti="ffffffffff")
    revoke_one(
        session,
        caller=admin,
        permit_id=uuid.UUID(same_car[3]["id"]),
        reason="x y z",
        now=clock() + timedelta(minutes=30),
    )
    add_check(same_car[3], "RUS-N", at + timedelta(minutes=5), result="revoked")
    add_check(same_car[3], "GRD-C", at + timedelta(minutes=50), result="valid")

    report = scan_anomalies(session, caller=admin, now=clock() + timedelta(hours=3))
    # the revoked one no longer counts: the plate is on 3 active permits, at the limit
    assert report.plates == []
    revoke_one(
        session,
        caller=admin,
        permit_id=uuid.UUID(lone["id"]),
        reason="x y z",
        now=clock() + timedelta(hours=2),
    )
    extra = issue(client, world, medical_staff(clock()))
    report = scan_anomalies(session, caller=admin, now=clock() + timedelta(hours=3))
    assert [(p.key, p.count) for p in report.plates] == [("AA123BB", 4)]
    assert {r.serial for r in report.plates[0].permits} >= {extra["serial"]}
    persons = {p.key: p for p in report.persons}  # the nurse, and the funeral's three people
    assert {k: p.count for k, p in persons.items()} == {
        "01024054321": 4,
        "01008011111": 11,
        "01008022222": 11,
        "01008033333": 11,
    }
    assert "ნინო ბერიძე" in persons["01024054321"].label
    assert [(v.organisation, v.count) for v in report.volume] == [("MRN-CLINIC", 17)]
    assert len(report.copied) == 1
    pair = report.copied[0]
    assert (pair.first_checkpoint, pair.second_checkpoint) == ("TSK-C", "MRN-N")
    assert pair.permit is not None and pair.permit.serial == lone["serial"]
    assert 60 < pair.km < 90 and pair.kmh > 120
    assert {(c.result, c.checkpoint) for c in report.bad_checks} == {
        ("bad_signature", "BOL-E"),
        ("revoked", "RUS-N"),
    }
    assert [(s.checkpoint, s.result) for s in report.stale_passes] == [("GRD-C", "revoked")]
    with pytest.raises(NotPermitted):
        scan_anomalies(session, caller=world.callers["doctor"], now=clock())


def test_revoked_key_fails_in_the_verifier_after_the_lists_are_re_exported(
    client: TestClient,
    world: World,
    session: Session,
    clock: Clock,
    admin: Caller,
    keystore: KeyStore,
    tmp_path: Path,
) -> None:
    permits = [issue(client, world, medical_staff(clock())) for _ in range(2)]
    other = issue(client, world, farm_work(clock()), user="bolnisi")
    folder = tmp_path / "published"
    publish_lists(session, caller=admin, keystore=keystore, out_dir=folder, now=clock())
    verifier = _verifier_from_files(folder, keystore)
    at = clock() + timedelta(hours=1)
    assert verifier.verify(permits[0]["qr_text"], at=at).status == Status.VALID

    kid = session.exec(select(Permit.kid).where(Permit.id == uuid.UUID(permits[0]["id"]))).one()
    assert live_permits_of_key(session, kid=kid, now=clock()) == 2
    with pytest.raises(Conflict, match="2 live permits"):
        revoke_key(
            session,
            caller=admin,
            kid=kid,
            reason="laptop stolen",
            confirmed_count=1,
            keystore=keystore,
            now=clock(),
        )
    assert session.exec(select(IssuerKey.status).where(IssuerKey.kid == kid)).one() == "active"
    key, touched = revoke_key(
        session,
        caller=admin,
        kid=kid,
        reason="laptop stolen",
        confirmed_count=2,
        keystore=keystore,
        now=clock(),
    )
    assert key.status == "revoked" and touched == 2

    # the old files still hold the key: devices that have not synced still accept it
    assert verifier.verify(permits[1]["qr_text"], at=at).status == Status.VALID
    files = publish_lists(
        session, caller=admin, keystore=keystore, out_dir=folder, now=clock() + timedelta(minutes=1)
    )
    assert {f.path.name for f in files} == {
        "trust-list.cose",
        "revocation-list.cose",
        "root-public-key.pem",
    }
    synced = _verifier_from_files(folder, keystore)
    for permit in permits:
        assert synced.verify(permit["qr_text"], at=at).status == Status.UNKNOWN_ISSUER
    assert synced.verify(other["qr_text"], at=at.replace(hour=7)).status == Status.VALID
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "key.revoke")).one()
    assert audit.actor == "admin@KK-ADMIN" and "laptop stolen" in audit.details


def test_register_issuer_categories_approve_and_rotate_keys(
    client: TestClient,
    world: World,
    session: Session,
    clock: Clock,
    admin: Caller,
    keystore: KeyStore,
) -> None:
    names = {"ka": "წალკის კლინიკა", "az": "Tsalka klinikası", "en": "Tsalka clinic"}
    with pytest.raises(ValidationFailed) as caught:
        register_issuer(
            session,
            caller=admin,
            code="TSK-CLINIC",
            kind="clinic",
            names=names,
            municipality=6,
            address="Tsalka",
            categories=["farm_work"],
            keystore=keystore,
            now=clock(),
        )
    assert caught.value.errors[0].code == "category_not_for_kind"
    assert (
        session.exec(select(Organisation).where(Organisation.code == "TSK-CLINIC")).first() is None
    )
    clinic = register_issuer(
        session,
        caller=admin,
        code="tsk-clinic",
        kind="clinic",
        names=names,
        municipality=6,
        address="Tsalka",
        categories=["medical_staff", "doctor_visit"],
        keystore=keystore,
        now=clock(),
    )
    assert clinic.code == "TSK-CLINIC"
    rows = {
        r.organisation.code: r for r in organisations_overview(session, caller=admin, now=clock())
    }
    assert rows["TSK-CLINIC"].categories == ["doctor_visit", "medical_staff"]
    assert [k.key.status for k in rows["TSK-CLINIC"].keys] == ["active"]
    set_categories(
        session, caller=admin, code="TSK-CLINIC", categories=["medical_staff"], now=clock()
    )
    rows = {
        r.organisation.code: r for r in organisations_overview(session, caller=admin, now=clock())
    }
    assert rows["TSK-CLINIC"].categories == ["medical_staff"]

    pending = request_key(session, caller=admin, code="TSK-CLINIC", keystore=keystore, now=clock())
    assert pending.status == "pending"
    approved = approve_key(session, caller=admin, kid=pending.kid, now=clock())
    assert approved.status == "active"
    with pytest.raises(Conflict):
        approve_key(session, caller=admin, kid=pending.kid, now=clock())
    rotated = rotate_key(session, caller=admin, code="TSK-CLINIC", keystore=keystore, now=clock())
    statuses = {
        k.kid: k.status
        for k in session.exec(select(IssuerKey).where(IssuerKey.organisation_id == clinic.id)).all()
    }
    assert statuses[rotated.kid] == "active" and statuses[pending.kid] == "retired"
    actions = set(session.exec(select(AuditEvent.action)).all())
    assert {
        "organisation.create",
        "organisation.categories",
        "key.create",
        "key.approve",
    } <= actions
    with pytest.raises(NotPermitted):
        organisations_overview(session, caller=world.callers["head"], now=clock())


def test_policy_change_is_a_new_version_and_counts_permits_it_would_shorten(
    client: TestClient, world: World, session: Session, clock: Clock, admin: Caller
) -> None:
    long = issue(client, world, farm_work(clock()), user="bolnisi")  # 14 days
    short = farm_work(clock())
    short["schedule"]["valid_until"] = (clock() + timedelta(days=2)).isoformat()
    issue(client, world, short, user="bolnisi")
    rules = policy_at(session, clock()).categories["farm_work"]
    edit = CategoryEdit(
        daily_windows=(("06:00", "08:00"), ("18:00", "19:00")),
        regulation_end=clock() + timedelta(days=5),
        max_persons=rules.max_persons,
        max_validity_days=rules.max_validity_days,
    )
    effective = clock() + timedelta(hours=1)
    proposal = propose_category_change(
        session,
        caller=admin,
        category="farm_work",
        edit=edit,
        effective_from=effective,
        note="regulation ends early",
        now=clock(),
    )
    assert proposal.changes == ["regulation_end"] and proposal.touched_total == 1
    assert proposal.touched["regulation_end"] == 1
    with pytest.raises(Conflict, match="shorten 1 permits"):
        apply_category_change(
            session,
            caller=admin,
            category="farm_work",
            edit=edit,
            effective_from=effective,
            note="regulation ends early",
            confirmed_count=None,
            now=clock(),
        )
    assert session.exec(select(PolicyVersion)).all().__len__() == 1
    row, _ = apply_category_change(
        session,
        caller=admin,
        category="farm_work",
        edit=edit,
        effective_from=effective,
        note="regulation ends early",
        confirmed_count=1,
        now=clock(),
    )
    assert row.version == 2 and row.effective_from == effective
    # history is untouched and the issued permit keeps its version and its end
    assert policy_version(session, 1).categories["farm_work"].regulation_end == rules.regulation_end
    assert policy_version(session, 2).categories["farm_work"].regulation_end == edit.regulation_end
    stored = session.get(Permit, uuid.UUID(long["id"]))
    assert stored is not None and stored.policy_version == 1
    assert stored.valid_until.isoformat()[:10] == long["schedule"]["valid_until"][:10]
    assert policy_at(session, clock()).version == 1
    assert policy_at(session, effective).version == 2
    assert permits_by_version(session) == {1: 2}
    # a permit issued after the change is capped by the new regulation end
    clock.advance(hours=2)
    refused = client.post("/api/v1/permits", json=farm_work(clock()), headers=world.auth("bolnisi"))
    assert refused.status_code == 422 and "after_regulation_end" in refused.text

    # windows narrowed: the permits whose windows leave the new ones are counted
    narrower = CategoryEdit((("06:00", "07:00"),), edit.regulation_end, 5, 31)
    proposal = propose_category_change(
        session,
        caller=admin,
        category="farm_work",
        edit=narrower,
        effective_from=clock(),
        note="n",
        now=clock(),
    )
    assert proposal.touched["windows"] == 2
    with pytest.raises(ValidationFailed) as caught:
        propose_category_change(
            session,
            caller=admin,
            category="farm_work",
            edit=narrower,
            effective_from=clock() - timedelta(days=1),
            note="n",
            now=clock(),
        )
    assert caught.value.field == "effective_from"
    with pytest.raises(ValidationFailed) as caught:
        propose_category_change(
            session,
            caller=admin,
            category="farm_work",
            edit=CategoryEdit((("09:00", "08:00"),), None, 5, 31),
            effective_from=clock(),
            note="n",
            now=clock(),
        )
    assert caught.value.errors[0].code == "window_invalid"
    with pytest.raises(NotPermitted):
        propose_category_change(
            session,
            caller=world.callers["bolnisi"],
            category="farm_work",
            edit=narrower,
            effective_from=clock(),
            note="n",
            now=clock(),
        )


def test_editing_an_audit_row_in_the_database_is_caught(
    client: TestClient, world: World, session: Session, clock: Clock, admin: Caller
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    revoke_one(
        session, caller=admin, permit_id=uuid.UUID(permit["id"]), reason="x y z", now=clock()
    )
    assert check_chain(session, caller=admin).intact
    target = session.exec(select(AuditEvent).where(AuditEvent.action == "permit.revoke")).one()
    session.execute(
        text("UPDATE audit_event SET details = :d WHERE seq = :seq"),
        {"d": json.dumps({"reason": "nothing to see"}), "seq": target.seq},
    )
    session.commit()
    report = check_chain(session, caller=admin)
    assert not report.intact and report.first_broken_seq == target.seq
    page = audit_events(session, caller=admin, around_seq=target.seq, per_page=10)
    assert target.seq in {e.seq for e in page.events}
    page = audit_events(session, caller=admin, action="permit.", per_page=10)
    assert {e.action for e in page.events} == {"permit.issue", "permit.revoke"}
    with pytest.raises(NotPermitted):
        check_chain(session, caller=world.callers["doctor"])


def test_checkpoint_registry(session: Session, clock: Clock, admin: Caller, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[checkpoints]]\ncode = "X1"\nmunicipality = 1\nlatitude = 100\n'
        'longitude = 1\nnames = { ka = "a", az = "b", en = "c" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        load_checkpoints(session, path=bad, now=clock(), actor=admin)
    assert caught.value.field == "checkpoints.0.latitude"
    point = register_checkpoint(
        session,
        data={
            "code": "RUS-S",
            "names": {"ka": "რუსთავი, სამხრეთი", "az": "Rustavi, cənub", "en": "Rustavi, south"},
            "municipality": 7,
            "latitude": 41.52,
            "longitude": 45.01,
        },
        now=clock(),
        actor=admin,
    )
    assert point.id is not None
    with pytest.raises(Conflict):
        register_checkpoint(
            session,
            data={
                "code": "RUS-S",
                "names": {"ka": "a", "az": "b", "en": "c"},
                "municipality": 7,
                "latitude": 1,
                "longitude": 1,
            },
            now=clock(),
            actor=admin,
        )
    assert distance_km((41.5950, 43.9600), (41.4950, 44.8120)) == pytest.approx(71.7, abs=1)
    assert local(2026, 1, 1).tzinfo is not None
