"""The signed trust list and revocation list: built from the database, versioned, published."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import exists, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from permits.db import begin_write
from permits.issuance.models import Permit
from permits.organisations.models import Organisation
from permits.policy.rules import PolicyDocument
from permits.trust.keys import ACTIVE, RETIRED
from permits.trust.keystore import KeyStore
from permits.trust.models import IssuerKey, ListState, PublishedList
from verifier import lists as wire
from verifier.model import Category, Issuer, Municipality, RevocationList, TrustList
from verifier.model import IssuerKey as WireKey

TRUST, REVOCATION = "trust", "revocation"
FILE_NAMES = {TRUST: "trust-list.cose", REVOCATION: "revocation-list.cose"}
KEEP_SIGNED_VERSIONS = 48
"""How many of the newest versions of each list keep their signed bytes. Older versions keep
their row (version, state, time, entries) but not the bytes: in a busy lockdown the
publisher signs a new revocation list every few seconds, each megabytes long, and keeping
them all would fill the disk within days."""


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def build_trust_list(
    session: Session, *, policy: PolicyDocument, now: datetime, version: int
) -> TrustList:
    """Return the trust list as of `now`: every active organisation with an active key, or a
    retired key that still has unexpired permits, and the categories each may issue."""
    from permits.issuance.validation import allowed_categories

    issuers: list[Issuer] = []
    organisations = session.exec(
        select(Organisation).where(col(Organisation.active)).order_by(col(Organisation.code))
    ).all()
    for organisation in organisations:
        keys = session.exec(
            select(IssuerKey)
            .where(IssuerKey.organisation_id == organisation.id)
            .where(col(IssuerKey.status).in_([ACTIVE, RETIRED]))
            .order_by(col(IssuerKey.created_at))
        ).all()
        wire_keys = []
        for key in keys:
            if (
                key.status == RETIRED
                and not session.exec(
                    select(
                        exists().where(col(Permit.kid) == key.kid, col(Permit.valid_until) > now)
                    )
                ).one()
            ):
                continue
            wire_keys.append(
                WireKey(
                    kid=bytes.fromhex(key.kid), public_key_der=key.public_key_der, status=key.status
                )
            )
        categories = tuple(sorted(c.code for c in allowed_categories(organisation, policy)))
        if not wire_keys or not categories:
            continue
        issuers.append(
            Issuer(
                code=organisation.code,
                names={
                    "ka": organisation.name_ka,
                    "az": organisation.name_az,
                    "en": organisation.name_en,
                },
                municipality=organisation.municipality,
                categories=categories,
                keys=tuple(wire_keys),
            )
        )
    return TrustList(
        version=version,
        issued=_epoch(now),
        stale_after=policy.limits.trust_list_stale_hours * 3600,
        issuers=tuple(issuers),
        categories=tuple(
            Category(code=c.code, slug=c.slug, names=c.public_names.as_dict())
            for c in sorted(policy.categories.values(), key=lambda c: c.code)
        ),
        municipalities=tuple(
            Municipality(code=m.code, names=m.names.as_dict()) for m in policy.municipalities
        ),
    )


def build_revocation_list(
    session: Session, *, policy: PolicyDocument, now: datetime, version: int
) -> tuple[RevocationList, int]:
    """Return the revocation list as of `now` and its number of entries.

    Only permits that would otherwise still be valid are listed, so the list stays small.
    """
    rows = session.execute(
        select(Organisation.code, Permit.cti, Permit.status)
        .join(Organisation, col(Organisation.id) == col(Permit.organisation_id))
        .where(col(Permit.status).in_(["revoked", "replaced"]))
        .where(col(Permit.valid_until) > now)
    ).all()
    grouped: dict[str, tuple[list[bytes], list[bytes]]] = {}
    for code, cti, status in rows:
        revoked, replaced = grouped.setdefault(code, ([], []))
        (revoked if status == "revoked" else replaced).append(bytes.fromhex(cti))
    partitions = {
        code: wire.build_partition(revoked, replaced)
        for code, (revoked, replaced) in sorted(grouped.items())
    }
    return (
        RevocationList(
            version=version,
            issued=_epoch(now),
            stale_after=policy.limits.revocation_list_stale_hours * 3600,
            partitions=partitions,
        ),
        len(rows),
    )


def _state(session: Session, kind: str) -> int:
    row = session.exec(select(ListState).where(ListState.kind == kind).with_for_update()).first()
    return row.counter if row else 0


def current_list(
    session: Session,
    *,
    kind: str,
    keystore: KeyStore,
    policy: PolicyDocument,
    now: datetime,
    refresh_after: timedelta,
) -> PublishedList:
    """Return the newest published list of `kind`, first publishing a new version (and
    committing) when something changed since, or when the last one is older than `refresh_after`.

    Publishing also drops the signed bytes of versions older than the newest
    KEEP_SIGNED_VERSIONS (their rows stay).
    """
    state, latest = _state(session, kind), _latest(session, kind)
    if _fresh(latest, state, now, refresh_after):
        session.rollback()
        assert latest is not None
        return latest
    # Publish: under the write lock, and only if no other worker published meanwhile.
    begin_write(session)
    state, latest = _state(session, kind), _latest(session, kind)
    if _fresh(latest, state, now, refresh_after):
        session.rollback()
        assert latest is not None
        return latest
    version = (latest.version if latest is not None else 0) + 1
    root_key, root_kid = keystore.ensure_root()
    if kind == TRUST:
        trust = build_trust_list(session, policy=policy, now=now, version=version)
        data, entries = (
            wire.sign_trust_list(trust, root_private_key=root_key, root_kid=root_kid),
            len(trust.issuers),
        )
    else:
        revocation, entries = build_revocation_list(
            session, policy=policy, now=now, version=version
        )
        data = wire.sign_revocation_list(revocation, root_private_key=root_key, root_kid=root_kid)
    published = PublishedList(
        kind=kind, version=version, state=state, issued_at=now, data=data, entries=entries
    )
    session.add(published)
    session.execute(
        update(PublishedList)
        .where(
            col(PublishedList.kind) == kind,
            col(PublishedList.version) <= version - KEEP_SIGNED_VERSIONS,
            func.length(PublishedList.data) > 0,
        )
        .values(data=b"")
    )
    try:
        session.commit()
    except IntegrityError:  # another worker published this version first (PostgreSQL)
        session.rollback()
        newest = _latest(session, kind)
        if newest is None:
            raise
        return newest
    return published


def _latest(session: Session, kind: str) -> PublishedList | None:
    return session.exec(
        select(PublishedList)
        .where(PublishedList.kind == kind)
        .order_by(col(PublishedList.version).desc())
        .limit(1)
    ).first()


def _fresh(
    latest: PublishedList | None, state: int, now: datetime, refresh_after: timedelta
) -> bool:
    return latest is not None and latest.state == state and now - latest.issued_at < refresh_after


def export_lists(
    session: Session,
    *,
    out_dir: Path,
    keystore: KeyStore,
    policy: PolicyDocument,
    now: datetime,
    refresh_after: timedelta,
) -> list[Path]:
    """Write the current signed lists and the root public key as static files into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in (TRUST, REVOCATION):
        published = current_list(
            session,
            kind=kind,
            keystore=keystore,
            policy=policy,
            now=now,
            refresh_after=refresh_after,
        )
        path = out_dir / FILE_NAMES[kind]
        write_atomically(path, published.data)
        written.append(path)
    keystore.ensure_root()
    root = out_dir / "root-public-key.pem"
    write_atomically(root, (keystore.directory / "root-public-key.pem").read_bytes())
    written.append(root)
    return written


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a reader sees the old file or the new one, whole.

    The bytes go to a temporary file of its own in the same folder (two writers never share
    one), are flushed to disk, and the file is renamed over `path`.
    """
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
