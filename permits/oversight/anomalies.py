"""The anomaly scan, with its limits from the policy's [limits]:

- a plate on more than N active permits; a person on more than N;
- an issuer whose daily volume jumps far above its usual (factor × its mean of the 28 days
  before);
- one permit checked at two checkpoints too far apart for the time between (a copied QR);
- checks of revoked, replaced or forged permits, and passes of permits that were already
  revoked or replaced when checked (a device with stale lists).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import combinations
from typing import Any

from sqlalchemy import bindparam, func, or_, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.roles import REGIONAL_ADMIN
from permits.checks.models import Check
from permits.db import UTCDateTime
from permits.issuance.models import Permit, PermitPerson
from permits.issuance.plates import format_plate
from permits.organisations.models import Organisation
from permits.oversight.checkpoints import distance_km, positions
from permits.policy.rules import Limits
from permits.policy.service import policy_at
from permits.review.buckets import as_local, local_day
from permits.timezone import local_midnight

BASELINE_DAYS = 28
MIN_SPIKE_VOLUME = 10
LIST_LIMIT = 500
FORGED = ("bad_signature", "unknown_issuer", "category_not_allowed")
BAD_VERDICTS = ("revoked", "replaced", *FORGED)


@dataclass(frozen=True, slots=True)
class PermitRef:
    """A permit named in an anomaly (for a link to its history)."""

    id: Any
    serial: str


@dataclass
class CountAnomaly:
    """A plate or a person on more active permits than the limit."""

    key: str
    label: str
    count: int
    permits: list[PermitRef] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class VolumeAnomaly:
    """An issuer's day with far more permits than its usual."""

    organisation: str
    name: str
    day: date
    count: int
    usual: float


@dataclass(frozen=True, slots=True)
class CopiedQr:
    """Two consecutive checks of one permit too far apart for the time between them."""

    cti: str
    permit: PermitRef | None
    first_checkpoint: str
    first_at: datetime
    second_checkpoint: str
    second_at: datetime
    km: float
    minutes: float

    @property
    def kmh(self) -> float:
        """The speed the car would have needed (km/h); infinite for the same moment."""
        return self.km / (self.minutes / 60) if self.minutes > 0 else float("inf")


@dataclass(frozen=True, slots=True)
class BadCheck:
    """A check of a revoked, replaced or forged permit, or a stale pass."""

    check_id: int
    at: datetime
    checkpoint: str
    result: str
    permit: PermitRef | None
    cti: str | None
    stale: bool = False


@dataclass
class AnomalyReport:
    """The outcome of one scan, each list with its total (lists are cut at LIST_LIMIT)."""

    now: datetime
    since: datetime
    limits: Limits
    plates: list[CountAnomaly]
    persons: list[CountAnomaly]
    volume: list[VolumeAnomaly]
    copied: list[CopiedQr]
    copied_unplaced: int
    bad_checks: list[BadCheck]
    bad_checks_total: int
    stale_passes: list[BadCheck]
    seconds: float = 0.0

    @property
    def total(self) -> int:
        """How many anomalies were found in all."""
        return (
            len(self.plates)
            + len(self.persons)
            + len(self.volume)
            + len(self.copied)
            + self.bad_checks_total
            + len(self.stale_passes)
        )


def _active(now: datetime) -> list[Any]:
    return [col(Permit.status) == "active", col(Permit.valid_until) > now]


def _plates(session: Session, limit: int, now: datetime) -> list[CountAnomaly]:
    count = func.count()
    rows = session.execute(
        select(col(Permit.plate), count)
        .where(*_active(now), col(Permit.plate).is_not(None))
        .group_by(col(Permit.plate))
        .having(count > limit)
        .order_by(count.desc())
        .limit(LIST_LIMIT)
    ).all()
    found = {plate: CountAnomaly(plate, format_plate(plate), int(n)) for plate, n in rows}
    if found:
        for permit_id, serial, plate in session.execute(
            select(col(Permit.id), col(Permit.serial), col(Permit.plate))
            .where(*_active(now), col(Permit.plate).in_(list(found)))
            .order_by(col(Permit.issued_at))
        ).all():
            found[plate].permits.append(PermitRef(permit_id, serial))
    return list(found.values())


def _persons(session: Session, limit: int, now: datetime) -> list[CountAnomaly]:
    count = func.count(func.distinct(PermitPerson.permit_id))
    rows = session.execute(
        select(col(PermitPerson.document), count)
        .join(Permit, col(Permit.id) == col(PermitPerson.permit_id))
        .where(*_active(now))
        .group_by(col(PermitPerson.document))
        .having(count > limit)
        .order_by(count.desc())
        .limit(LIST_LIMIT)
    ).all()
    found = {doc: CountAnomaly(doc, doc, int(n)) for doc, n in rows}
    if found:
        seen: set[tuple[str, Any]] = set()
        for document, first, last, permit_id, serial in session.execute(
            sa_select(
                col(PermitPerson.document),
                col(PermitPerson.first_name),
                col(PermitPerson.last_name),
                col(Permit.id),
                col(Permit.serial),
            )
            .join(Permit, col(Permit.id) == col(PermitPerson.permit_id))
            .where(*_active(now), col(PermitPerson.document).in_(list(found)))
            .order_by(col(Permit.issued_at))
        ).all():
            entry = found[document]
            entry.label = f"{first} {last} ({document})"
            if (document, permit_id) not in seen:
                seen.add((document, permit_id))
                entry.permits.append(PermitRef(permit_id, serial))
    return list(found.values())


def _volume(session: Session, factor: float, since: datetime, now: datetime) -> list[VolumeAnomaly]:
    start = local_midnight(since) - timedelta(days=BASELINE_DAYS)
    day = local_day(session, Permit.issued_at)
    rows = session.execute(
        select(col(Permit.organisation_id), day, func.count())
        .where(col(Permit.issued_at) >= start, col(Permit.issued_at) < now)
        .group_by(col(Permit.organisation_id), day)
    ).all()
    daily: dict[int, dict[date, int]] = defaultdict(dict)
    for organisation_id, bucket, count in rows:
        daily[organisation_id][as_local(bucket).date()] = int(count)
    first_day = local_midnight(since).date()
    last_day = local_midnight(now).date()
    flagged = []
    for organisation_id, days in daily.items():
        current = first_day
        while current <= last_day:
            count = days.get(current, 0)
            if count >= MIN_SPIKE_VOLUME:
                baseline = [
                    days.get(current - timedelta(days=d), 0) for d in range(1, BASELINE_DAYS + 1)
                ]
                usual = sum(baseline) / len(baseline)
                if count > factor * max(usual, 1.0):
                    flagged.append((organisation_id, current, count, usual))
            current += timedelta(days=1)
    organisations = {
        o.id: o
        for o in session.exec(
            select(Organisation).where(col(Organisation.id).in_({f[0] for f in flagged}))
        ).all()
    }
    return [
        VolumeAnomaly(
            organisations[o].code if o in organisations else str(o),
            organisations[o].name_en if o in organisations else "",
            d,
            c,
            round(u, 1),
        )
        for o, d, c, u in sorted(flagged, key=lambda f: (f[1], -f[2]), reverse=True)
    ][:LIST_LIMIT]


def _copied(session: Session, max_kmh: int, since: datetime) -> tuple[list[CopiedQr], int]:
    places = positions(session)
    if len(places) < 2:
        longest = 0.0
    else:
        longest = max(distance_km(a, b) for a, b in combinations(places.values(), 2))
    max_gap_seconds = max(longest / max_kmh * 3600, 60.0)
    if session.get_bind().dialect.name == "postgresql":
        gap = "EXTRACT(EPOCH FROM (checked_at - prev_at))"
    else:
        gap = "(julianday(checked_at) - julianday(prev_at)) * 86400.0"
    sql = text(
        f"""
        SELECT cti, permit_id, prev_cp, prev_at, checkpoint, checked_at, {gap} AS seconds
        FROM (
          SELECT cti, permit_id, checkpoint, checked_at,
                 LAG(checkpoint) OVER w AS prev_cp, LAG(checked_at) OVER w AS prev_at
          FROM permit_check
          WHERE checked_at >= :since AND cti IS NOT NULL
          WINDOW w AS (PARTITION BY cti ORDER BY checked_at, id)
        ) pairs
        WHERE prev_cp IS NOT NULL AND prev_cp <> checkpoint AND {gap} < :max_gap
        """  # noqa: S608 - only our own fixed expressions are formatted in
    )
    sql = sql.bindparams(bindparam("since", type_=UTCDateTime), bindparam("max_gap"))
    rows = session.execute(sql, {"since": since, "max_gap": max_gap_seconds}).all()
    found: list[tuple[Any, ...]] = []
    unplaced = 0
    for cti, permit_id, prev_cp, prev_at, checkpoint, checked_at, seconds in rows:
        if prev_cp not in places or checkpoint not in places:
            unplaced += 1
            continue
        km = distance_km(places[prev_cp], places[checkpoint])
        minutes = max(float(seconds), 0.0) / 60
        if minutes == 0 or km / (minutes / 60) > max_kmh:
            found.append((cti, permit_id, prev_cp, prev_at, checkpoint, checked_at, km, minutes))
    serials = _serials(session, {f[1] for f in found if f[1] is not None})
    result = [
        CopiedQr(
            cti=cti,
            permit=PermitRef(_uuid(pid), serials.get(_uuid(pid), "")) if pid else None,
            first_checkpoint=a_cp,
            first_at=_aware(a_at),
            second_checkpoint=b_cp,
            second_at=_aware(b_at),
            km=round(km, 1),
            minutes=round(minutes, 1),
        )
        for cti, pid, a_cp, a_at, b_cp, b_at, km, minutes in found
    ]
    result.sort(key=lambda c: c.second_at, reverse=True)
    return result[:LIST_LIMIT], unplaced


def _bad_checks(session: Session, since: datetime) -> tuple[list[BadCheck], int]:
    condition = [col(Check.checked_at) >= since, col(Check.result).in_(BAD_VERDICTS)]
    total = session.exec(select(func.count()).select_from(Check).where(*condition)).one()
    rows = session.execute(
        sa_select(
            col(Check.id),
            col(Check.checked_at),
            col(Check.checkpoint),
            col(Check.result),
            col(Check.permit_id),
            col(Check.cti),
        )
        .where(*condition)
        .order_by(col(Check.checked_at).desc())
        .limit(LIST_LIMIT)
    ).all()
    serials = _serials(session, {r[4] for r in rows if r[4] is not None})
    return (
        [
            BadCheck(
                check_id=r[0],
                at=r[1],
                checkpoint=r[2],
                result=r[3],
                permit=PermitRef(r[4], serials.get(r[4], "")) if r[4] else None,
                cti=r[5],
            )
            for r in rows
        ],
        int(total),
    )


def _stale_passes(session: Session, since: datetime) -> list[BadCheck]:
    rows = session.execute(
        sa_select(
            col(Check.id),
            col(Check.checked_at),
            col(Check.checkpoint),
            col(Permit.status),
            col(Permit.id),
            col(Permit.serial),
            col(Check.cti),
        )
        .join(Permit, col(Permit.id) == col(Check.permit_id))
        .where(
            col(Check.checked_at) >= since,
            col(Check.result) == "valid",
            or_(
                col(Permit.revoked_at) < col(Check.checked_at),
                col(Permit.replaced_at) < col(Check.checked_at),
            ),
        )
        .order_by(col(Check.checked_at).desc())
        .limit(LIST_LIMIT)
    ).all()
    return [BadCheck(r[0], r[1], r[2], r[3], PermitRef(r[4], r[5]), r[6], stale=True) for r in rows]


def _serials(session: Session, ids: set[Any]) -> dict[Any, str]:
    if not ids:
        return {}
    return {
        pid: serial
        for pid, serial in session.execute(
            select(col(Permit.id), col(Permit.serial)).where(
                col(Permit.id).in_([_uuid(i) for i in ids])
            )
        ).all()
    }


def _uuid(value: Any) -> Any:
    import uuid

    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _aware(value: Any) -> datetime:
    from permits.review.buckets import as_local as _as_local

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        from datetime import UTC

        return value.replace(tzinfo=UTC)
    return _as_local(value)


def scan_anomalies(
    session: Session,
    *,
    caller: Caller | None,
    now: datetime,
    since: datetime | None = None,
) -> AnomalyReport:
    """Run every anomaly check with the limits of the policy in force at `now`.

    Plates and persons look at the permits active now; volume, copied QR codes and bad
    checks look at the period from `since` (default: the last 7 days) to `now`. A caller
    must be a regional administrator (None is the local command line).
    """
    import time

    if caller is not None:
        caller.require_any({REGIONAL_ADMIN})
    began = time.perf_counter()
    since = since or now - timedelta(days=7)
    limits = policy_at(session, now).limits
    plates = _plates(session, limits.plate_active_permits_max, now)
    persons = _persons(session, limits.person_active_permits_max, now)
    volume = _volume(session, limits.issuer_daily_volume_factor, since, now)
    copied, unplaced = _copied(session, limits.checkpoint_max_speed_kmh, since)
    bad, bad_total = _bad_checks(session, since)
    stale = _stale_passes(session, since)
    session.rollback()
    return AnomalyReport(
        now=now,
        since=since,
        limits=limits,
        plates=plates,
        persons=persons,
        volume=volume,
        copied=copied,
        copied_unplaced=unplaced,
        bad_checks=bad,
        bad_checks_total=bad_total,
        stale_passes=stale,
        seconds=time.perf_counter() - began,
    )
