"""Loading what a certificate shows: one joined query per look-up (and one for the policy
version), never the medical purpose column, the persons in their order, the same view singly,
in a batch and behind the holder link, the successor of a replaced permit, and another
organisation's permit refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session

from permits.certificates import service
from permits.errors import NotFound
from permits.policy import service as policy_service
from tests.factories import World, medical_staff
from tests.helpers import replace


@contextmanager
def selects(engine: Engine) -> Iterator[list[str]]:
    """Collect the text of every SELECT sent to the database inside the block."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def test_one_query_loads_a_view_and_never_reads_the_purpose(
    engine: Engine,
    session: Session,
    issued: dict[str, dict[str, Any]],
    clock: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    permit = issued["doctor_visit"]  # purpose_detail "dialysis session", three persons
    monkeypatch.setattr(policy_service, "_parsed", {})  # the policy not yet parsed
    with selects(engine) as seen:
        view = service.certificate_view(session, caller=None, ref=permit["id"], now=clock())
    assert view.serial == permit["serial"]
    assert len(seen) == 2, seen  # the permit with all it shows; the policy, once a process
    assert not any("purpose_detail" in statement for statement in seen)
    with selects(engine) as seen:
        again = service.certificate_view(session, caller=None, ref=permit["id"], now=clock())
    assert again == view
    assert len(seen) == 1, seen
    refs = [issued[c]["id"] for c in ("funeral", "medical_staff")] + [permit["serial"]]
    with selects(engine) as seen:
        service.certificate_views(session, caller=None, refs=refs, now=clock())
    assert len(seen) == 2, seen  # by id, by serial


def test_batch_singles_and_holder_link_give_the_same_views_persons_in_order(
    session: Session, issued: dict[str, dict[str, Any]], clock: Any
) -> None:
    funeral, visit, staff = (issued[c] for c in ("funeral", "doctor_visit", "medical_staff"))
    refs = [funeral["id"], visit["serial"].lower(), funeral["serial"], staff["id"]]
    views = service.certificate_views(session, caller=None, refs=refs, now=clock())
    expected = [funeral, visit, funeral, staff]
    assert [v.serial for v in views] == [p["serial"] for p in expected]
    for ref, view in zip(refs, views, strict=True):
        assert service.certificate_view(session, caller=None, ref=ref, now=clock()) == view
        token = view.holder_path.removeprefix("/h/")
        assert service.holder_view(session, token=token, now=clock()) == view
    assert [p.name for p in views[0].persons] == ["ზურაბ ლომიძე", "ეთერ ლომიძე", "Rəşad Məmmədov"]
    assert [p.name for p in views[1].persons] == [
        "თამარ გელაშვილი",
        "ლევან მაისურაძე",
        "გიორგი კაპანაძე",
    ]
    assert views[1].issuer_names[0] == views[3].issuer_names[0]  # one clinic, loaded once
    assert views[1].replaced_by_serial is None and views[1].status == "active"


def test_a_replaced_permit_names_its_successor_in_every_path(
    client: TestClient,
    world: World,
    session: Session,
    issued: dict[str, dict[str, Any]],
    clock: Any,
) -> None:
    permit = issued["medical_staff"]
    successor = replace(client, world, permit, medical_staff(clock()))["serial"]
    [view] = service.certificate_views(session, caller=None, refs=[permit["serial"]], now=clock())
    assert (view.status, view.replaced_by_serial, view.valid) == ("replaced", successor, False)
    token = view.holder_path.removeprefix("/h/")
    assert service.holder_view(session, token=token, now=clock()) == view
    new = service.certificate_view(session, caller=None, ref=successor, now=clock())
    assert (new.status, new.replaced_by_serial) == ("active", None)


def test_another_organisations_permit_is_not_found_and_unknown_refs_are_named(
    world: World, session: Session, issued: dict[str, dict[str, Any]], clock: Any
) -> None:
    farm, staff = issued["farm_work"], issued["medical_staff"]  # Bolnisi's, Marneuli's
    doctor = world.callers["doctor"]
    assert service.certificate_view(session, caller=doctor, ref=staff["id"], now=clock())
    with pytest.raises(NotFound) as refused:
        service.certificate_views(
            session, caller=doctor, refs=[staff["serial"], farm["serial"]], now=clock()
        )
    assert refused.value.field == "permits[1]"
    bolnisi = world.callers["bolnisi"]
    assert service.certificate_view(session, caller=bolnisi, ref=farm["id"], now=clock())
    with pytest.raises(NotFound):
        service.certificate_view(session, caller=bolnisi, ref=staff["id"], now=clock())
    with pytest.raises(NotFound) as unknown:
        service.certificate_views(
            session, caller=None, refs=[staff["id"], "MRN-CLINIC-999999"], now=clock()
        )
    assert unknown.value.field == "permits[1]"
    with pytest.raises(NotFound):
        service.holder_view(session, token="no-such-token-000000", now=clock())
