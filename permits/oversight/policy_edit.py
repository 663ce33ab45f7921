"""Editing the category rules as a new policy version with an effective time.

History is never edited: a change is the newest document with one category's rules changed,
stored as the next version. Before it is stored, the change is measured against the permits
already issued: those it would shorten (or no longer allow) are counted by reason, they keep
the rules they were issued under, and the change needs a confirmation naming that number.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.roles import REGIONAL_ADMIN
from permits.errors import Conflict, FieldError, ValidationFailed
from permits.issuance.models import Permit, PermitPerson
from permits.policy.models import PolicyVersion
from permits.policy.rules import CategoryRules, DailyWindow, PolicyDocument
from permits.policy.service import add_version
from permits.timezone import hhmm_to_minutes

REASONS = ("regulation_end", "validity", "windows", "persons")


@dataclass(frozen=True, slots=True)
class CategoryEdit:
    """The editable rules of one category."""

    daily_windows: tuple[tuple[str, str], ...]
    regulation_end: datetime | None
    max_persons: int
    max_validity_days: int

    @classmethod
    def of(cls, rules: CategoryRules) -> CategoryEdit:
        """The current rules of a category, as an edit that changes nothing."""
        return cls(
            tuple((f"{w.start:%H:%M}", f"{w.end:%H:%M}") for w in rules.daily_windows),
            rules.regulation_end,
            rules.max_persons,
            rules.max_validity_days,
        )


@dataclass
class PolicyProposal:
    """A new version ready to store, what it changes, and the permits it would touch."""

    document: PolicyDocument
    based_on: int
    category: str
    changes: list[str]
    touched: dict[str, int] = field(default_factory=dict)

    @property
    def touched_total(self) -> int:
        """How many distinct issued permits the change would shorten or no longer allow."""
        return self.touched.get("total", 0)


def latest_version(session: Session) -> tuple[PolicyVersion, PolicyDocument]:
    """The newest stored version (it may not be in force yet) and its document."""
    row = session.exec(
        select(PolicyVersion).order_by(col(PolicyVersion.version).desc()).limit(1)
    ).first()
    if row is None:
        raise Conflict("no policy is loaded", code="no_policy")
    return row, PolicyDocument.model_validate(json.loads(row.document))


def _windows(edit: CategoryEdit) -> list[DailyWindow]:
    windows = []
    errors = []
    for index, (start, end) in enumerate(edit.daily_windows):
        try:
            low, high = hhmm_to_minutes(start), hhmm_to_minutes(end)
        except ValueError:
            errors.append(FieldError(f"daily_windows[{index}]", "time_invalid", "times are HH:MM"))
            continue
        if low >= high or high > 24 * 60 - 1:
            errors.append(
                FieldError(
                    f"daily_windows[{index}]", "window_invalid", "a window starts before it ends"
                )
            )
            continue
        windows.append(
            DailyWindow(start=time(low // 60, low % 60), end=time(high // 60, high % 60))
        )
    ordered = sorted(windows, key=lambda w: w.start_minute)
    for a, b in itertools.pairwise(ordered):
        if b.start_minute < a.end_minute:
            errors.append(FieldError("daily_windows", "windows_overlap", "windows overlap"))
            break
    if errors:
        raise ValidationFailed(errors)
    return ordered


def propose_category_change(
    session: Session,
    *,
    caller: Caller,
    category: str,
    edit: CategoryEdit,
    effective_from: datetime,
    note: str,
    now: datetime,
) -> PolicyProposal:
    """Build the next policy version with `category`'s rules replaced by `edit`, and count the
    issued permits it would shorten. Stores nothing.

    The effective time may not be in the past (history is not rewritten) nor before the
    newest version's.
    """
    caller.require_any({REGIONAL_ADMIN})
    row, current = latest_version(session)
    rules = current.category(category)
    errors = []
    if rules is None:
        raise ValidationFailed([FieldError("category", "category_unknown", f"no {category}")])
    if effective_from.tzinfo is None:
        errors.append(FieldError("effective_from", "time_zone", "give the time with its zone"))
    elif effective_from < now.replace(second=0, microsecond=0):
        errors.append(
            FieldError(
                "effective_from", "in_past", "a new version takes effect now or later, never before"
            )
        )
    elif effective_from < row.effective_from:
        errors.append(
            FieldError(
                "effective_from",
                "before_latest",
                f"version {row.version} takes effect {row.effective_from.isoformat()}; "
                "a newer version cannot take effect before it",
            )
        )
    if not 1 <= edit.max_persons <= 50:
        errors.append(FieldError("max_persons", "out_of_range", "most persons is 1 to 50"))
    if not 1 <= edit.max_validity_days <= 366:
        errors.append(
            FieldError("max_validity_days", "out_of_range", "longest validity is 1 to 366 days")
        )
    if edit.regulation_end is not None and edit.regulation_end.tzinfo is None:
        errors.append(FieldError("regulation_end", "time_zone", "give the time with its zone"))
    if not note.strip():
        errors.append(FieldError("note", "required", "say why the rules change"))
    windows = _windows(edit)
    if errors:
        raise ValidationFailed(errors)
    changes = []
    old = CategoryEdit.of(rules)
    new_windows = tuple((f"{w.start:%H:%M}", f"{w.end:%H:%M}") for w in windows)
    if new_windows != old.daily_windows:
        changes.append("daily_windows")
    if edit.regulation_end != old.regulation_end:
        changes.append("regulation_end")
    if edit.max_persons != old.max_persons:
        changes.append("max_persons")
    if edit.max_validity_days != old.max_validity_days:
        changes.append("max_validity_days")
    if not changes:
        raise ValidationFailed([FieldError("category", "no_change", "nothing would change")])
    updated = rules.model_copy(
        update={
            "daily_windows": tuple(windows),
            "regulation_end": edit.regulation_end,
            "max_persons": edit.max_persons,
            "max_validity_days": edit.max_validity_days,
        }
    )
    raw: dict[str, Any] = json.loads(current.model_dump_json())
    raw["version"] = row.version + 1
    raw["effective_from"] = effective_from.isoformat()
    raw["note"] = note.strip()
    raw["categories"][category] = json.loads(updated.model_dump_json(exclude={"slug"}))
    document = PolicyDocument.model_validate(raw)
    proposal = PolicyProposal(document, row.version, category, changes)
    proposal.touched = _touched(session, category, document.categories[category], effective_from)
    session.rollback()
    return proposal


def _touched(
    session: Session, category: str, rules: CategoryRules, effective_from: datetime
) -> dict[str, int]:
    """Count the permits of `category` still running at `effective_from` that the new rules
    would shorten (regulation end, longest validity, daily windows) or not allow (persons)."""
    live = [
        col(Permit.category) == category,
        col(Permit.status) == "active",
        col(Permit.valid_until) > effective_from,
    ]
    touched: dict[str, set[Any]] = {reason: set() for reason in REASONS}
    allowed = [(w.start_minute, w.end_minute) for w in rules.daily_windows]
    for permit_id, valid_from, valid_until, windows in session.execute(
        select(col(Permit.id), col(Permit.valid_from), col(Permit.valid_until), col(Permit.windows))
        .where(*live)
        .execution_options(yield_per=5000)
    ):
        if rules.regulation_end is not None and valid_until > rules.regulation_end:
            touched["regulation_end"].add(permit_id)
        if (valid_until - valid_from).total_seconds() > rules.max_validity_days * 86400:
            touched["validity"].add(permit_id)
        if allowed:
            spans = [tuple(w) for w in (windows or [])] or [(0, 24 * 60)]
            if any(not any(lo <= a and b <= hi for lo, hi in allowed) for a, b in spans):
                touched["windows"].add(permit_id)
    persons = func.count(col(PermitPerson.id))
    for (permit_id,) in session.execute(
        select(col(PermitPerson.permit_id))
        .join(Permit, col(Permit.id) == col(PermitPerson.permit_id))
        .where(*live)
        .group_by(col(PermitPerson.permit_id))
        .having(persons > rules.max_persons)
    ):
        touched["persons"].add(permit_id)
    result = {reason: len(ids) for reason, ids in touched.items()}
    result["total"] = len(set().union(*touched.values()))
    return result


def apply_category_change(
    session: Session,
    *,
    caller: Caller,
    category: str,
    edit: CategoryEdit,
    effective_from: datetime,
    note: str,
    confirmed_count: int | None,
    now: datetime,
) -> tuple[PolicyVersion, PolicyProposal]:
    """Store the change as the next policy version and commit.

    When issued permits would be shortened, `confirmed_count` must name their number (as
    shown in the preview); otherwise nothing is stored and Conflict says the number. The
    permits themselves are not changed: each keeps the version it was issued under.
    """
    proposal = propose_category_change(
        session,
        caller=caller,
        category=category,
        edit=edit,
        effective_from=effective_from,
        note=note,
        now=now,
    )
    if proposal.touched_total and confirmed_count != proposal.touched_total:
        raise Conflict(
            f"this change would shorten {proposal.touched_total} permits already issued; "
            "confirm that number to go on",
            code="policy_confirm_count",
        )
    row = add_version(session, document=proposal.document, now=now, actor=caller)
    return row, proposal


def permits_by_version(session: Session) -> dict[int, int]:
    """How many permits were issued under each policy version."""
    return {
        int(v): int(n)
        for v, n in session.execute(
            select(col(Permit.policy_version), func.count()).group_by(col(Permit.policy_version))
        ).all()
    }


LIMIT_FIELDS = (
    "plate_active_permits_max",
    "person_active_permits_max",
    "issuer_daily_volume_factor",
    "checkpoint_max_speed_kmh",
    "trust_list_stale_hours",
    "revocation_list_stale_hours",
)


def apply_limits_change(
    session: Session,
    *,
    caller: Caller,
    values: dict[str, str],
    effective_from: datetime,
    note: str,
    now: datetime,
) -> PolicyVersion:
    """Store the newest document with new [limits] (anomaly thresholds, list staleness) as the
    next version and commit. Limits shorten no permit, so no confirmation is needed."""
    caller.require_any({REGIONAL_ADMIN})
    row, current = latest_version(session)
    errors = []
    if effective_from < now.replace(second=0, microsecond=0):
        errors.append(
            FieldError(
                "effective_from", "in_past", "a new version takes effect now or later, never before"
            )
        )
    elif effective_from < row.effective_from:
        errors.append(
            FieldError("effective_from", "before_latest", "cannot take effect before the latest")
        )
    if not note.strip():
        errors.append(FieldError("note", "required", "say why the rules change"))
    raw: dict[str, Any] = json.loads(current.model_dump_json())
    for name in LIMIT_FIELDS:
        text = (values.get(name) or "").strip()
        try:
            raw["limits"][name] = float(text) if name == "issuer_daily_volume_factor" else int(text)
        except ValueError:
            errors.append(FieldError(name, "not_a_number", "a number"))
    raw["version"] = row.version + 1
    raw["effective_from"] = effective_from.isoformat()
    raw["note"] = note.strip()
    if not errors:
        try:
            document = PolicyDocument.model_validate(raw)
        except ValidationError as exc:
            errors.extend(
                FieldError(str(e["loc"][-1]), "out_of_range", e["msg"]) for e in exc.errors()
            )
    if errors:
        raise ValidationFailed(errors)
    if document.limits == current.limits:
        raise ValidationFailed([FieldError("limits", "no_change", "nothing would change")])
    return add_version(session, document=document, now=now, actor=caller)
