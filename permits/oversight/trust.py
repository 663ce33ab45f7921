"""Organisations and keys, as the regional administration manages them: register issuers and
the categories each may issue, approve a new key, rotate, revoke a compromised key (saying how
many permits that touches), and publish the signed lists as static files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.roles import REGIONAL_ADMIN
from permits.audit.service import record
from permits.errors import Conflict, FieldError, NotFound, ValidationFailed
from permits.issuance.models import Permit
from permits.issuance.validation import allowed_categories
from permits.organisations.models import Organisation
from permits.organisations.service import create_organisation
from permits.policy.service import policy_at
from permits.trust import keys
from permits.trust.keystore import KeyStore
from permits.trust.lists import FILE_NAMES, export_lists
from permits.trust.models import IssuerKey, PublishedList

ADMIN = frozenset({REGIONAL_ADMIN})


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A key and how many permits signed with it still count (active and not expired)."""

    key: IssuerKey
    live_permits: int


@dataclass(frozen=True, slots=True)
class OrganisationRow:
    """An organisation, the categories it may issue now, and its keys (newest first)."""

    organisation: Organisation
    categories: list[str]
    keys: list[KeyRow]


def live_permits_of_key(session: Session, *, kid: str, now: datetime) -> int:
    """How many active, unexpired permits were signed with key `kid` (these stop verifying
    when the key is revoked)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Permit)
            .where(
                col(Permit.kid) == kid.lower(),
                col(Permit.status) == "active",
                col(Permit.valid_until) > now,
            )
        ).one()
    )


def _live_by_kid(session: Session, now: datetime) -> dict[str, int]:
    return {
        kid: int(n)
        for kid, n in session.execute(
            select(col(Permit.kid), func.count())
            .where(col(Permit.status) == "active", col(Permit.valid_until) > now)
            .group_by(col(Permit.kid))
        ).all()
    }


def organisations_overview(
    session: Session, *, caller: Caller, now: datetime
) -> list[OrganisationRow]:
    """Every organisation with the categories it may issue under the policy in force and its
    keys with their live permit counts. Regional administrators only."""
    caller.require_any(ADMIN)
    policy = policy_at(session, now)
    live = _live_by_kid(session, now)
    all_keys: dict[int, list[KeyRow]] = {}
    for key in session.exec(select(IssuerKey).order_by(col(IssuerKey.created_at).desc())).all():
        all_keys.setdefault(key.organisation_id, []).append(KeyRow(key, live.get(key.kid, 0)))
    rows = []
    for organisation in session.exec(select(Organisation).order_by(col(Organisation.code))).all():
        assert organisation.id is not None
        rows.append(
            OrganisationRow(
                organisation,
                [c.slug for c in allowed_categories(organisation, policy)],
                all_keys.get(organisation.id, []),
            )
        )
    return rows


def _check_categories(
    session: Session, kind: str, categories: list[str] | None, now: datetime
) -> list[str] | None:
    if categories is None:
        return None
    policy = policy_at(session, now)
    errors = []
    for slug in categories:
        rules = policy.category(slug)
        if rules is None:
            errors.append(FieldError("categories", "category_unknown", f"no category {slug}"))
        elif kind not in rules.issuer_kinds:
            errors.append(
                FieldError(
                    "categories",
                    "category_not_for_kind",
                    f"a {kind} may not issue {slug} under the policy in force",
                )
            )
    if errors:
        raise ValidationFailed(errors)
    return sorted(set(categories))


def register_issuer(
    session: Session,
    *,
    caller: Caller,
    code: str,
    kind: str,
    names: dict[str, str],
    municipality: int,
    address: str,
    categories: list[str] | None,
    keystore: KeyStore,
    now: datetime,
    head_name: str | None = None,
) -> Organisation:
    """Register an organisation of `kind`, limited to `categories` (None: every category its
    kind may issue), and give it its first signing key. Commits; the trust list changes."""
    caller.require_any(ADMIN)
    if policy_at(session, now).municipality(municipality) is None:
        raise ValidationFailed(
            [FieldError("municipality", "municipality_unknown", f"no municipality {municipality}")]
        )
    checked = _check_categories(session, kind, categories, now)
    organisation = create_organisation(
        session,
        code=code.strip().upper(),
        kind=kind,
        names=names,
        municipality=municipality,
        address=address,
        now=now,
        actor=caller,
        head_name=head_name,
        categories=checked,
    )
    keys.create_key(session, organisation=organisation, keystore=keystore, now=now, actor=caller)
    return organisation


def _organisation(session: Session, code: str) -> Organisation:
    organisation = session.exec(
        select(Organisation).where(Organisation.code == code.strip().upper())
    ).first()
    if organisation is None:
        raise NotFound(f"no organisation {code}")
    return organisation


def set_categories(
    session: Session,
    *,
    caller: Caller,
    code: str,
    categories: list[str] | None,
    now: datetime,
) -> Organisation:
    """Set which categories an organisation may issue (None: all its kind may), and commit.

    Permits already issued are not touched; the next trust list carries the new set."""
    caller.require_any(ADMIN)
    organisation = _organisation(session, code)
    checked = _check_categories(session, organisation.kind, categories, now)
    before = organisation.categories
    organisation.categories = checked
    session.add(organisation)
    keys.bump_list_state(session, "trust")
    record(
        session,
        actor=caller,
        action="organisation.categories",
        subject_type="organisation",
        subject_id=organisation.code,
        at=now,
        details={"before": before, "after": checked},
    )
    session.commit()
    return organisation


def request_key(
    session: Session, *, caller: Caller, code: str, keystore: KeyStore, now: datetime
) -> IssuerKey:
    """Create a new key for an organisation that waits, pending, for approval."""
    caller.require_any(ADMIN)
    return keys.create_key(
        session,
        organisation=_organisation(session, code),
        keystore=keystore,
        now=now,
        actor=caller,
    )


def approve_key(session: Session, *, caller: Caller, kid: str, now: datetime) -> IssuerKey:
    """Approve an issuer's pending key: it signs from now on; the old one is retired and keeps
    verifying the permits it signed."""
    caller.require_any(ADMIN)
    return keys.approve_key(session, kid=kid, now=now, actor=caller)


def rotate_key(
    session: Session, *, caller: Caller, code: str, keystore: KeyStore, now: datetime
) -> IssuerKey:
    """Give an organisation a new active key at once; the previous one is retired."""
    caller.require_any(ADMIN)
    return keys.rotate_key(
        session,
        organisation=_organisation(session, code),
        keystore=keystore,
        now=now,
        actor=caller,
    )


def revoke_key(
    session: Session,
    *,
    caller: Caller,
    kid: str,
    reason: str,
    confirmed_count: int,
    keystore: KeyStore,
    now: datetime,
) -> tuple[IssuerKey, int]:
    """Revoke a compromised key after the person confirmed how many live permits it signed.

    When that number changed since the preview, nothing happens and Conflict says the new
    number. The key leaves the next trust list, so its permits stop verifying at the
    checkpoints' next sync; its private file is destroyed. Returns the key and the count.
    """
    caller.require_any(ADMIN)
    if len((reason or "").strip()) < 3:
        raise ValidationFailed(
            [FieldError("reason", "reason_required", "give the reason for the revocation")]
        )
    touched = live_permits_of_key(session, kid=kid, now=now)
    if touched != confirmed_count:
        session.rollback()
        raise Conflict(
            f"{touched} live permits were signed with this key, not {confirmed_count}",
            code="key_count_changed",
        )
    key = keys.revoke_key(
        session, kid=kid, keystore=keystore, now=now, actor=caller, reason=reason.strip()
    )
    return key, touched


@dataclass(frozen=True, slots=True)
class PublishedFile:
    """A list file as written: name, size, version and when it was signed."""

    path: Path
    size: int
    version: int | None
    issued_at: datetime | None


def publish_lists(
    session: Session,
    *,
    caller: Caller | None,
    keystore: KeyStore,
    out_dir: Path,
    now: datetime,
) -> list[PublishedFile]:
    """Sign the current trust and revocation lists (a new version when anything changed) and
    write them, with the root public key, as static files into `out_dir`."""
    if caller is not None:
        caller.require_any(ADMIN)
    paths = export_lists(
        session,
        out_dir=out_dir,
        keystore=keystore,
        policy=policy_at(session, now),
        now=now,
        refresh_after=timedelta(seconds=0),
    )
    record(
        session,
        actor=caller,
        action="lists.publish",
        subject_type="lists",
        subject_id=str(out_dir)[-64:],
        at=now,
        details={"files": [p.name for p in paths]},
    )
    session.commit()
    return describe_published(session, out_dir=out_dir, paths=paths)


def describe_published(
    session: Session, *, out_dir: Path, paths: list[Path] | None = None
) -> list[PublishedFile]:
    """Describe the list files in `out_dir` (size, and version from the published table)."""
    names = {v: k for k, v in FILE_NAMES.items()}
    latest: dict[str, PublishedList] = {}
    for kind in FILE_NAMES:
        row = session.exec(
            select(PublishedList)
            .where(PublishedList.kind == kind)
            .order_by(col(PublishedList.version).desc())
            .limit(1)
        ).first()
        if row is not None:
            latest[kind] = row
    files = []
    for path in paths or sorted(out_dir.glob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        row = latest.get(names.get(path.name, ""))
        files.append(
            PublishedFile(
                path,
                path.stat().st_size,
                row.version if row else None,
                row.issued_at if row else None,
            )
        )
    return files
