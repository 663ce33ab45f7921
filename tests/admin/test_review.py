"""Review: dashboard figures, a permit's whole history, revoking one or in bulk with a
confirmed count, and Excel export detailed and grouped."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.audit.models import AuditEvent
from permits.errors import Conflict, NotPermitted, ValidationFailed
from permits.issuance.models import Permit
from permits.issuance.service import SearchFilters
from permits.review.dashboard import dashboard, default_period
from permits.review.export import export_workbook, safe_cell
from permits.review.history import permit_history
from permits.review.revocation import BulkScope, bulk_revoke, preview_bulk_revoke, revoke_one
from tests.admin.conftest import CheckMaker
from tests.conftest import Clock
from tests.factories import World, farm_work, medical_staff, patient_delivery
from tests.helpers import issue


def test_dashboard_counts_permits_by_category_issuer_day_and_checks_by_checkpoint(
    client: TestClient,
    world: World,
    session: Session,
    clock: Clock,
    admin: Caller,
    checkpoints: list[str],
    add_check: CheckMaker,
) -> None:
    staff = [issue(client, world, medical_staff(clock())) for _ in range(3)]
    farm = issue(client, world, farm_work(clock()), user="bolnisi")
    revoke_one(
        session, caller=admin, permit_id=uuid.UUID(staff[0]["id"]), reason="lost", now=clock()
    )
    add_check(staff[1], "MRN-N", clock() + timedelta(minutes=5))
    add_check(staff[2], "MRN-N", clock() + timedelta(minutes=6), result="outside_window")
    add_check(staff[0], "RUS-N", clock() + timedelta(hours=2), result="revoked")
    add_check(farm, "BOL-E", clock() + timedelta(hours=2))

    since, until = default_period(clock())
    board = dashboard(
        session,
        caller=admin,
        since=since,
        until=until,
        now=clock() + timedelta(hours=3),
        language="en",
    )
    by_category = {row.key: row.counts for row in board.by_category}
    assert by_category["medical_staff"].issued == 3
    assert by_category["medical_staff"].revoked == 1 and by_category["medical_staff"].active == 2
    assert by_category["farm_work"].issued == 1
    assert board.totals.issued == 4 and board.active_now == 3
    issuers = {row.key: row.counts.issued for row in board.by_issuer}
    assert issuers == {"MRN-CLINIC": 3, "BOL-MUNI": 1}
    assert {row.label for row in board.by_municipality} >= {"Rustavi", "Bolnisi"}
    today = clock().date().isoformat()
    assert [r.counts.issued for r in board.by_day if r.key == today] == [4]
    assert len(board.by_day) == 7
    points = {row.code: row for row in board.by_checkpoint}
    assert points["MRN-N"].total == 2 and points["MRN-N"].failed == 1
    assert points["MRN-N"].failed_share == 0.5
    assert points["MRN-N"].label == "Marneuli, north entrance"
    assert points["RUS-N"].reasons == {"revoked": 1}
    assert points["MRN-N"].hours[10] == [2, 1]  # 10:05 and 10:06 local, one failed
    assert points["RUS-N"].hours[12] == [1, 1] and sum(h[0] for h in points["RUS-N"].hours) == 1
    assert board.checks_total == 4 and board.failure_reasons == {"outside_window": 1, "revoked": 1}
    assert len(board.by_hour) == 7 * 24
    assert sum(h.total for h in board.by_hour) == 4
    one = dashboard(
        session,
        caller=admin,
        since=since,
        until=until,
        now=clock(),
        language="ka",
        checkpoint="MRN-N",
    )
    assert sum(h.total for h in one.by_hour) == 2 and sum(h.failed for h in one.by_hour) == 1
    with pytest.raises(NotPermitted):
        dashboard(
            session,
            caller=world.callers["doctor"],
            since=since,
            until=until,
            now=clock(),
            language="en",
        )
    with pytest.raises(ValidationFailed):
        dashboard(session, caller=admin, since=until, until=since, now=clock(), language="en")


def test_history_shows_issue_receipt_replacement_and_every_check(
    client: TestClient,
    world: World,
    session: Session,
    clock: Clock,
    admin: Caller,
    checkpoints: list[str],
    add_check: CheckMaker,
) -> None:
    old = issue(client, world, patient_delivery(clock()))
    client.post(
        f"/api/v1/permits/{old['id']}/receipt",
        json={"received_by": "nurse Eka"},
        headers=world.auth("doctor"),
    )
    add_check(old, "MRN-S", clock() + timedelta(minutes=1))
    new = client.post(
        f"/api/v1/permits/{old['id']}/replace",
        json=patient_delivery(clock()),
        headers=world.auth("doctor"),
    ).json()
    add_check(old, "MRN-N", clock() + timedelta(minutes=30), result="replaced")

    history = permit_history(
        session, caller=admin, permit_id=uuid.UUID(old["id"]), now=clock(), language="en"
    )
    kinds = [e.kind for e in history.events]
    assert kinds[0] == "issue" and "receipt" in kinds and "replaced" in kinds
    assert kinds.count("check") == 2
    assert history.status == "replaced" and history.successor is not None
    assert str(history.successor.id) == new["id"]
    assert history.policy.version == 1
    assert [(c.checkpoint_name, c.result) for c in history.checks] == [
        ("Marneuli – Sadakhlo road", "valid"),
        ("Marneuli, north entrance", "replaced"),
    ]
    assert history.checks[0].latitude == pytest.approx(41.34)
    receipt = next(e for e in history.events if e.kind == "receipt")
    assert receipt.detail == "nurse Eka" and receipt.actor == "doctor@MRN-CLINIC"
    successor = permit_history(
        session, caller=admin, permit_id=uuid.UUID(new["id"]), now=clock(), language="en"
    )
    assert successor.events[0].kind == "replace"
    assert [p.id for p in successor.predecessors] == [uuid.UUID(old["id"])]
    with pytest.raises(NotPermitted):
        permit_history(
            session,
            caller=world.callers["doctor"],
            permit_id=uuid.UUID(old["id"]),
            now=clock(),
            language="en",
        )


def test_revoke_one_needs_a_reason(
    client: TestClient, world: World, session: Session, clock: Clock, admin: Caller
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    with pytest.raises(ValidationFailed) as caught:
        revoke_one(
            session, caller=admin, permit_id=uuid.UUID(permit["id"]), reason=" ", now=clock()
        )
    assert caught.value.field == "reason"
    assert session.get(Permit, uuid.UUID(permit["id"])).status == "active"  # type: ignore[union-attr]
    revoked = revoke_one(
        session,
        caller=admin,
        permit_id=uuid.UUID(permit["id"]),
        reason="issued in error",
        now=clock(),
    )
    assert revoked.status == "revoked" and revoked.revoke_reason == "issued in error"


def test_bulk_revoke_previews_then_needs_the_count_confirmed(
    client: TestClient, world: World, session: Session, clock: Clock, admin: Caller
) -> None:
    farm = [issue(client, world, farm_work(clock()), user="bolnisi") for _ in range(3)]
    farm_by_ministry = issue(client, world, farm_work(clock()), user="ministry")
    staff = issue(client, world, medical_staff(clock()))
    revoke_one(
        session, caller=admin, permit_id=uuid.UUID(farm[0]["id"]), reason="x y z", now=clock()
    )
    scope = BulkScope(category="farm_work")
    preview = preview_bulk_revoke(session, caller=admin, scope=scope, now=clock())
    assert preview.count == 3  # two of Bolnisi's still active, one of the ministry's

    with pytest.raises(Conflict, match="3 permits are in scope now, not 2"):
        bulk_revoke(
            session,
            caller=admin,
            scope=scope,
            reason="regulation ended",
            confirmed_count=2,
            now=clock(),
        )
    assert (
        session.exec(
            select(Permit).where(Permit.category == "farm_work", Permit.status == "active")
        )
        .all()
        .__len__()
        == 3
    )

    count = bulk_revoke(
        session,
        caller=admin,
        scope=scope,
        reason="regulation ended",
        confirmed_count=3,
        now=clock(),
    )
    assert count == 3
    session.expire_all()
    statuses = {p.id: (p.status, p.revoke_reason) for p in session.exec(select(Permit)).all()}
    assert statuses[uuid.UUID(farm_by_ministry["id"])] == ("revoked", "regulation ended")
    assert statuses[uuid.UUID(staff["id"])] == ("active", None)
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == "permit.revoke").order_by(col(AuditEvent.seq))
    ).all()
    assert len(events) == 4 and all(e.actor == "admin@KK-ADMIN" for e in events)
    bulk = session.exec(select(AuditEvent).where(AuditEvent.action == "permit.revoke_bulk")).one()
    assert '"count":3' in bulk.details
    # by issuer: the clinic's one active permit
    issuer = preview_bulk_revoke(
        session, caller=admin, scope=BulkScope(issuer="mrn-clinic"), now=clock()
    )
    assert issuer.count == 1 and issuer.organisation is not None
    with pytest.raises(ValidationFailed) as caught:
        preview_bulk_revoke(session, caller=admin, scope=BulkScope(), now=clock())
    assert caught.value.field == "issuer"
    with pytest.raises(ValidationFailed):
        preview_bulk_revoke(session, caller=admin, scope=BulkScope(category="nope"), now=clock())
    with pytest.raises(NotPermitted):
        preview_bulk_revoke(session, caller=world.callers["bolnisi"], scope=scope, now=clock())


def test_excel_export_detailed_and_grouped_neutralises_formulas(
    client: TestClient, world: World, session: Session, clock: Clock, admin: Caller
) -> None:
    first = issue(client, world, medical_staff(clock()))
    issue(client, world, medical_staff(clock()))
    issue(client, world, farm_work(clock()), user="bolnisi")
    revoke_one(
        session,
        caller=admin,
        permit_id=uuid.UUID(first["id"]),
        reason='=HYPERLINK("http://evil","x")',
        now=clock(),
    )

    data = export_workbook(
        session, caller=admin, filters=SearchFilters(), now=clock(), language="en"
    )
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Serial" and len(rows) == 4
    reasons = [r[15] for r in rows[1:] if r[15]]
    assert reasons == ['\'=HYPERLINK("http://evil","x")']
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert {r[0] for r in rows[1:]} >= {first["serial"]}

    grouped = export_workbook(
        session,
        caller=admin,
        filters=SearchFilters(),
        now=clock(),
        language="en",
        grouped_by="issuer",
    )
    rows = list(load_workbook(io.BytesIO(grouped)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Issuer", "Issued", "Active")
    by_issuer = {r[0].split(" · ")[0]: r[1:] for r in rows[1:-1]}
    assert by_issuer["MRN-CLINIC"] == (2, 1, 0, 1, 0)
    assert by_issuer["BOL-MUNI"] == (1, 1, 0, 0, 0)
    assert rows[-1] == ("Total", 3, 2, 0, 1, 0)

    filtered = export_workbook(
        session,
        caller=admin,
        filters=SearchFilters(category="farm_work"),
        now=clock(),
        language="ka",
        grouped_by="category",
    )
    rows = list(load_workbook(io.BytesIO(filtered)).active.iter_rows(values_only=True))
    assert len(rows) == 3 and rows[1][1] == 1
    assert rows[0][:2] == ("კატეგორია", "გაცემული")  # Georgian headers
    assert rows[-1][0] == "სულ"
    with pytest.raises(ValidationFailed):
        export_workbook(
            session,
            caller=admin,
            filters=SearchFilters(),
            now=clock(),
            language="en",
            grouped_by="colour",
        )
    assert safe_cell("+1") == "'+1" and safe_cell("@x") == "'@x" and safe_cell("ok") == "ok"
    assert safe_cell(5) == 5
