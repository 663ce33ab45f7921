"""Fixtures for the regional administration's tests: the admin caller, the checkpoint
registry, and a way to record checks as a device would upload them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from sqlmodel import Session

from permits.accounts.caller import Caller
from permits.checks.models import Check
from permits.oversight.checkpoints import ensure_default_checkpoints
from tests.conftest import Clock
from tests.factories import World


@pytest.fixture(autouse=True)
def _fresh_policy_cache() -> Iterator[None]:
    """Forget parsed policy documents around each test: the spine caches them by version
    number per process, and these tests store versions 2 and 3 with different rules."""
    from permits.policy import service

    service._parsed.clear()
    yield
    service._parsed.clear()


@pytest.fixture
def admin(world: World) -> Caller:
    """The regional administrator of the demo world (role regional_admin)."""
    return world.callers["admin"]


@pytest.fixture
def checkpoints(session: Session, clock: Clock) -> list[str]:
    """The region's default checkpoints, registered."""
    return ensure_default_checkpoints(session, now=clock())


CheckMaker = Callable[..., Check]


@pytest.fixture
def add_check(session: Session) -> CheckMaker:
    """Store one check of a permit (by id and cti) at a checkpoint, as a device upload."""

    def make(
        permit: dict[str, object] | None,
        checkpoint: str,
        at: datetime,
        result: str = "valid",
        cti: str | None = None,
    ) -> Check:
        check = Check(
            permit_id=uuid.UUID(str(permit["id"])) if permit else None,
            cti=cti or (_cti(session, permit) if permit else None),
            checked_at=at,
            recorded_at=at,
            checkpoint=checkpoint,
            result=result,
            reason="",
            source="device",
        )
        session.add(check)
        session.commit()
        return check

    return make


def _cti(session: Session, permit: dict[str, object]) -> str:
    from permits.issuance.models import Permit

    row = session.get(Permit, uuid.UUID(str(permit["id"])))
    assert row is not None
    return row.cti
