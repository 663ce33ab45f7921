"""The audit chain: every state change recorded, and tampering caught at the first broken link."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, select

from permits.audit.models import AuditEvent
from permits.audit.service import verify_chain
from tests.conftest import Clock
from tests.factories import World, medical_staff, patient_delivery
from tests.helpers import issue


def _actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditEvent.action).order_by(col(AuditEvent.seq))).all())


def test_state_changes_are_recorded_with_who_and_what(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    permit = issue(client, world, patient_delivery(clock()))
    client.post(
        f"/api/v1/permits/{permit['id']}/receipt",
        json={"received_by": "nurse"},
        headers=world.auth("doctor"),
    )
    client.post(
        f"/api/v1/permits/{permit['id']}/replace",
        json=patient_delivery(clock()),
        headers=world.auth("doctor"),
    )
    other = issue(client, world, medical_staff(clock()))
    client.post(
        f"/api/v1/permits/{other['id']}/revoke",
        json={"reason": "x y z"},
        headers=world.auth("admin"),
    )
    actions = _actions(session)
    assert actions[-4:] == ["permit.receipt", "permit.replace", "permit.issue", "permit.revoke"]
    assert {"policy.add", "organisation.create", "key.create", "user.create"} <= set(actions)
    last = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
    assert last is not None and last.actor == "admin@KK-ADMIN" and "x y z" in last.details
    report = verify_chain(session)
    assert report.intact and report.events == len(actions)


def test_editing_an_audit_row_is_caught(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    issue(client, world, medical_staff(clock()))
    assert verify_chain(session).intact
    target = session.exec(select(AuditEvent).where(AuditEvent.action == "permit.issue")).one()
    session.execute(
        text("UPDATE audit_event SET actor = 'nobody' WHERE seq = :seq"), {"seq": target.seq}
    )
    session.commit()
    report = verify_chain(session)
    assert not report.intact and report.first_broken_seq == target.seq
    assert "changed" in report.reason


def test_deleting_an_audit_row_is_caught(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    issue(client, world, medical_staff(clock()))
    session.execute(text("DELETE FROM audit_event WHERE seq = 3"))
    session.commit()
    report = verify_chain(session)
    assert not report.intact and report.first_broken_seq == 3
