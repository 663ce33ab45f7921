"""The checkpoint registry: register checkpoints with their position, load them from a file,
and measure the distance between two of them."""

from __future__ import annotations

import math
import tomllib
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.roles import CHECKING_ROLES
from permits.audit.service import record
from permits.errors import Conflict, FieldError, ValidationFailed
from permits.oversight.models import Checkpoint
from permits.policy.rules import Names

DEFAULT_CHECKPOINTS_FILE = Path(__file__).with_name("checkpoints.toml")
EARTH_RADIUS_KM = 6371.0088


class CheckpointIn(BaseModel):
    """A checkpoint as given on a form or in the registry file."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    names: Names
    municipality: int = Field(ge=1, le=255)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class _RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    checkpoints: list[CheckpointIn]


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two (latitude, longitude) points (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _validated(data: dict[str, object]) -> CheckpointIn:
    try:
        return CheckpointIn.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                FieldError(".".join(str(p) for p in e["loc"]), "checkpoint_invalid", e["msg"])
                for e in exc.errors()
            ]
        ) from exc


def register_checkpoint(
    session: Session, *, data: dict[str, object], now: datetime, actor: Caller | None
) -> Checkpoint:
    """Register a checkpoint (code, names, municipality, position) and commit.

    Raises ValidationFailed naming the field, or Conflict when the code is taken.
    """
    spec = _validated(data)
    if session.exec(select(Checkpoint).where(Checkpoint.code == spec.code)).first():
        raise Conflict(f"a checkpoint {spec.code} exists", code="checkpoint_exists")
    checkpoint = _add(session, spec, now)
    record(
        session,
        actor=actor,
        action="checkpoint.create",
        subject_type="checkpoint",
        subject_id=spec.code,
        at=now,
        details={"latitude": spec.latitude, "longitude": spec.longitude},
    )
    session.commit()
    return checkpoint


def _add(session: Session, spec: CheckpointIn, now: datetime) -> Checkpoint:
    checkpoint = Checkpoint(
        code=spec.code,
        name_ka=spec.names.ka,
        name_az=spec.names.az,
        name_en=spec.names.en,
        municipality=spec.municipality,
        latitude=spec.latitude,
        longitude=spec.longitude,
        created_at=now,
    )
    session.add(checkpoint)
    return checkpoint


def load_checkpoints(
    session: Session, *, path: Path, now: datetime, actor: Caller | None
) -> list[str]:
    """Add every checkpoint of a registry file whose code is not registered yet, and commit.

    The whole file is validated first: a bad entry loads nothing. Returns the codes added.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed([FieldError("file", "toml_syntax", str(exc))]) from exc
    try:
        registry = _RegistryFile.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                FieldError(".".join(str(p) for p in e["loc"]), "checkpoint_invalid", e["msg"])
                for e in exc.errors()
            ]
        ) from exc
    known = set(session.exec(select(Checkpoint.code)).all())
    added = []
    for spec in registry.checkpoints:
        if spec.code in known:
            continue
        _add(session, spec, now)
        known.add(spec.code)
        added.append(spec.code)
    if added:
        record(
            session,
            actor=actor,
            action="checkpoint.load",
            subject_type="checkpoint",
            subject_id=path.name[:64],
            at=now,
            details={"added": added},
        )
    session.commit()
    return added


def ensure_default_checkpoints(session: Session, *, now: datetime) -> list[str]:
    """Load the region's default checkpoints when the registry is empty; return codes added."""
    if session.exec(select(Checkpoint.id).limit(1)).first() is not None:
        return []
    return load_checkpoints(session, path=DEFAULT_CHECKPOINTS_FILE, now=now, actor=None)


def all_checkpoints(session: Session) -> list[Checkpoint]:
    """Return every registered checkpoint, by code."""
    return list(session.exec(select(Checkpoint).order_by(col(Checkpoint.code))).all())


def device_checkpoints(session: Session, *, caller: Caller) -> list[Checkpoint]:
    """Return the active checkpoints, by code, for a checkpoint device to offer its officer
    (police and regional administrators only: NotPermitted for anyone else)."""
    caller.require_any(CHECKING_ROLES)
    return list(
        session.exec(
            select(Checkpoint).where(col(Checkpoint.active)).order_by(col(Checkpoint.code))
        ).all()
    )


def positions(session: Session) -> dict[str, tuple[float, float]]:
    """Return {code: (latitude, longitude)} of every registered checkpoint."""
    return {c.code: (c.latitude, c.longitude) for c in all_checkpoints(session)}
