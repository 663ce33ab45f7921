"""The dashboard's figures: permits issued in a period by category, municipality, issuer and
day, with what became of them; and checks per checkpoint and hour with the share that failed
and why.

Each grouping is one query over the period's rows (the covering index of migration 0002_admin
answers the permit groupings from the index alone), so the page stays fast with millions of
rows stored.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.roles import REGIONAL_ADMIN
from permits.checks.models import Check
from permits.errors import FieldError, ValidationFailed
from permits.issuance.models import Permit
from permits.organisations.models import Organisation
from permits.oversight.models import Checkpoint
from permits.policy.service import policy_at
from permits.review.buckets import as_local, from_utc, local_day, utc_hour
from permits.timezone import local_midnight

STATUSES = ("active", "expired", "revoked", "replaced")
MAX_PERIOD_DAYS = 92
TOP_ISSUERS = 15


@dataclass
class StatusCounts:
    """How many permits were issued, and how many of them are now in each status."""

    issued: int = 0
    active: int = 0
    expired: int = 0
    revoked: int = 0
    replaced: int = 0

    def add(self, status: str, count: int) -> None:
        """Add `count` permits now in `status`."""
        self.issued += count
        setattr(self, status, getattr(self, status) + count)

    def merge(self, other: StatusCounts) -> None:
        """Add another row's counts to this one."""
        for name in ("issued", *STATUSES):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class GroupRow:
    """One row of a grouping: its key (for links and filters), its label and counts."""

    key: str
    label: str
    counts: StatusCounts


@dataclass
class CheckpointRow:
    """Checks at one checkpoint in the period: how many, how many failed, and why."""

    code: str
    label: str
    total: int = 0
    failed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    # checks and failed checks by local hour of the day (0-23), over the whole period
    hours: list[list[int]] = field(default_factory=lambda: [[0, 0] for _ in range(24)])

    @property
    def failed_share(self) -> float:
        """The share of checks that did not pass (0..1)."""
        return self.failed / self.total if self.total else 0.0


@dataclass
class HourRow:
    """Checks in one local hour: how many, and how many failed."""

    hour: datetime
    total: int = 0
    failed: int = 0


@dataclass
class Dashboard:
    """Everything the dashboard page shows for one period."""

    since: datetime
    until: datetime
    now: datetime
    active_now: int
    totals: StatusCounts
    by_category: list[GroupRow]
    by_municipality: list[GroupRow]
    by_issuer: list[GroupRow]
    by_day: list[GroupRow]
    checks_total: int
    checks_failed: int
    failure_reasons: dict[str, int]
    by_checkpoint: list[CheckpointRow]
    by_hour: list[HourRow]
    checkpoint: str | None = None

    @property
    def busiest_hour(self) -> int:
        """The most checks any checkpoint had in one hour of the day (for shading)."""
        return max((h[0] for row in self.by_checkpoint for h in row.hours), default=0)

    @property
    def checks_failed_share(self) -> float:
        """The share of all checks in the period that did not pass (0..1)."""
        return self.checks_failed / self.checks_total if self.checks_total else 0.0


def default_period(now: datetime, days: int = 7) -> tuple[datetime, datetime]:
    """The last `days` local days up to the end of today: (start, end)."""
    end = local_midnight(now) + timedelta(days=1)
    return end - timedelta(days=days), end


def _check_period(since: datetime, until: datetime) -> None:
    if until <= since:
        raise ValidationFailed(
            [FieldError("until", "period_empty", "the period must end after it starts")]
        )
    if until - since > timedelta(days=MAX_PERIOD_DAYS):
        raise ValidationFailed(
            [FieldError("since", "period_too_long", f"a period is at most {MAX_PERIOD_DAYS} days")]
        )


def _status_bucket(now: datetime) -> Any:
    return case(
        (and_(col(Permit.status) == "active", col(Permit.valid_until) <= now), "expired"),
        else_=col(Permit.status),
    )


def _grouped(
    session: Session, key: Any, since: datetime, until: datetime, now: datetime
) -> dict[Any, StatusCounts]:
    bucket = _status_bucket(now)
    rows = session.execute(
        select(key, bucket, func.count())
        .where(col(Permit.issued_at) >= since, col(Permit.issued_at) < until)
        .group_by(key, bucket)
    ).all()
    grouped: dict[Any, StatusCounts] = defaultdict(StatusCounts)
    for value, status, count in rows:
        grouped[value].add(status if status in STATUSES else "active", int(count))
    return grouped


def dashboard(
    session: Session,
    *,
    caller: Caller,
    since: datetime,
    until: datetime,
    now: datetime,
    language: str,
    checkpoint: str | None = None,
) -> Dashboard:
    """Return the dashboard's figures for permits issued and checks made in [since, until).

    Only regional administrators may see it (NotPermitted otherwise). `checkpoint` narrows
    the hourly series to one checkpoint.
    """
    caller.require_any({REGIONAL_ADMIN})
    _check_period(since, until)
    policy = policy_at(session, now)

    by_category_raw = _grouped(session, col(Permit.category), since, until, now)
    by_muni_raw = _grouped(session, col(Permit.route_to_municipality), since, until, now)
    by_issuer_raw = _grouped(session, col(Permit.organisation_id), since, until, now)
    by_day_raw = _grouped(session, local_day(session, Permit.issued_at), since, until, now)

    totals = StatusCounts()
    for counts in by_category_raw.values():
        totals.merge(counts)

    def category_label(slug: str) -> str:
        rules = policy.category(slug)
        return rules.names.get(language) if rules else slug

    by_category = sorted(
        (GroupRow(str(k), category_label(str(k)), v) for k, v in by_category_raw.items()),
        key=lambda r: -r.counts.issued,
    )
    by_municipality = []
    for code, counts in sorted(by_muni_raw.items(), key=lambda kv: -kv[1].issued):
        municipality = policy.municipality(int(code)) if code is not None else None
        label = municipality.names.get(language) if municipality else "—"
        by_municipality.append(GroupRow(str(code or ""), label, counts))

    organisations = {
        o.id: o
        for o in session.exec(
            select(Organisation).where(col(Organisation.id).in_(list(by_issuer_raw)))
        ).all()
    }
    issuer_rows = sorted(by_issuer_raw.items(), key=lambda kv: -kv[1].issued)
    by_issuer = []
    for organisation_id, counts in issuer_rows[:TOP_ISSUERS]:
        organisation = organisations.get(organisation_id)
        by_issuer.append(
            GroupRow(
                organisation.code if organisation else str(organisation_id),
                organisation.name(language) if organisation else str(organisation_id),
                counts,
            )
        )
    if len(issuer_rows) > TOP_ISSUERS:
        rest = StatusCounts()
        for _, counts in issuer_rows[TOP_ISSUERS:]:
            rest.merge(counts)
        by_issuer.append(GroupRow("", f"+{len(issuer_rows) - TOP_ISSUERS}", rest))

    days: dict[datetime, StatusCounts] = {as_local(k): v for k, v in by_day_raw.items()}
    by_day = []
    day = local_midnight(since)
    while day < until:
        by_day.append(
            GroupRow(day.date().isoformat(), day.strftime("%d.%m"), days.get(day, StatusCounts()))
        )
        day = local_midnight(day + timedelta(hours=30))

    active_now = session.exec(
        select(func.count())
        .select_from(Permit)
        .where(col(Permit.status) == "active", col(Permit.valid_until) > now)
    ).one()

    checkpoints, failure_reasons, checks_total, checks_failed, by_hour = _checks(
        session, since, until, language, checkpoint
    )
    return Dashboard(
        since=since,
        until=until,
        now=now,
        active_now=int(active_now),
        totals=totals,
        by_category=by_category,
        by_municipality=by_municipality,
        by_issuer=by_issuer,
        by_day=by_day,
        checks_total=checks_total,
        checks_failed=checks_failed,
        failure_reasons=failure_reasons,
        by_checkpoint=checkpoints,
        by_hour=by_hour,
        checkpoint=checkpoint,
    )


def _checks(
    session: Session, since: datetime, until: datetime, language: str, checkpoint: str | None
) -> tuple[list[CheckpointRow], dict[str, int], int, int, list[HourRow]]:
    """One pass over the period's checks, grouped by local hour, checkpoint and result; the
    per-checkpoint table and the hourly series are both summed from it."""
    hour = utc_hour(session, Check.checked_at)
    rows = session.execute(
        select(hour, col(Check.checkpoint), col(Check.result), func.count())
        .where(col(Check.checked_at) >= since, col(Check.checked_at) < until)
        .group_by(hour, col(Check.checkpoint), col(Check.result))
    ).all()
    names = {c.code: c.name(language) for c in session.exec(select(Checkpoint)).all()}
    by_code: dict[str, CheckpointRow] = {}
    reasons: dict[str, int] = defaultdict(int)
    hours: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    total = failed = 0
    for bucket, code, result, count in rows:
        row = by_code.setdefault(code, CheckpointRow(code, names.get(code, code)))
        row.total += count
        total += count
        bad = result != "valid"
        local_bucket = from_utc(bucket)
        row.hours[local_bucket.hour][0] += count
        row.hours[local_bucket.hour][1] += count if bad else 0
        if bad:
            row.failed += count
            failed += count
            row.reasons[result] = row.reasons.get(result, 0) + count
            reasons[result] += count
        if checkpoint is None or code == checkpoint:
            slot = hours[local_bucket]
            slot[0] += count
            slot[1] += count if bad else 0
    series = []
    at = as_local(since).replace(minute=0, second=0, microsecond=0)
    while at < until:
        total_h, bad_h = hours.get(at, [0, 0])
        series.append(HourRow(at, total_h, bad_h))
        at = at + timedelta(hours=1)
    ordered = sorted(by_code.values(), key=lambda r: -r.total)
    reasons_sorted = dict(sorted(reasons.items(), key=lambda kv: -kv[1]))
    return ordered, reasons_sorted, total, failed, series
