"""The regional administration's commands, added to `permits`:

permits audit verify                    check the chain; exit 1 at the first broken link
permits audit list [--last N]           the newest audit events
permits revoke-bulk --user U (--issuer X | --category C) --reason R [--confirm N]
permits anomalies [--days 7]            run the anomaly scan and print each list
permits checkpoints list | load FILE    the checkpoint registry
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from permits.accounts.caller import Caller
from permits.db import write_session
from permits.errors import NotPermitted, PermitsError
from permits.settings import Settings
from permits.timezone import LOCAL, utcnow

Runner = Callable[[argparse.Namespace, Settings], int]


def _engine(settings: Settings) -> Engine:
    from permits.db import make_engine

    return make_engine(settings.database_url)


def caller_for_user(session: Session, username: str) -> Caller:
    """The Caller a command acts as: the named user, who must be a regional administrator."""
    from permits.accounts.models import User
    from permits.accounts.roles import REGIONAL_ADMIN
    from permits.organisations.models import Organisation

    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise PermitsError(f"no active user {username}", code="not_found")
    if REGIONAL_ADMIN not in user.role_set:
        raise NotPermitted(f"{username} is not a regional administrator")
    organisation = session.get(Organisation, user.organisation_id)
    assert organisation is not None and organisation.id is not None and user.id is not None
    return Caller(
        user.id,
        user.username,
        organisation.id,
        organisation.code,
        organisation.kind,
        user.role_set,
    )


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """Verify the audit chain, or list the newest events."""
    from permits.oversight.audit_view import audit_events, check_chain

    engine = _engine(settings)
    try:
        with Session(engine) as session:
            if args.audit_command == "verify":
                report = check_chain(session, caller=None)
                if report.intact:
                    print(f"the audit chain is intact: {report.events} events")
                    return 0
                print(
                    f"the audit chain is BROKEN at event {report.first_broken_seq}: "
                    f"{report.reason} ({report.events} events before it verify)"
                )
                return 1
            page = audit_events(session, caller=None, action=args.action, per_page=args.last)
            for event in page.events:
                print(
                    f"{event.seq:>8}  {event.at.astimezone(LOCAL):%Y-%m-%d %H:%M:%S}  "
                    f"{event.actor:<24} {event.action:<22} {event.subject_type}:{event.subject_id}"
                    f"  {event.details}"
                )
            return 0
    finally:
        engine.dispose()


def cmd_revoke_bulk(args: argparse.Namespace, settings: Settings) -> int:
    """Preview, then (with --confirm N naming the count) revoke every active permit of an
    issuer or a category."""
    from permits.review.revocation import BulkScope, bulk_revoke, preview_bulk_revoke

    engine = _engine(settings)
    try:
        with write_session(engine) as session:
            caller = caller_for_user(session, args.user)
            scope = BulkScope(issuer=args.issuer, category=args.category)
            now = utcnow()
            if args.confirm is None:
                preview = preview_bulk_revoke(session, caller=caller, scope=scope, now=now)
                print(
                    f"{preview.count} active permits ({scope.describe()}) would be revoked. "
                    f"Run again with --confirm {preview.count} to revoke them."
                )
                return 0
            count = bulk_revoke(
                session,
                caller=caller,
                scope=scope,
                reason=args.reason,
                confirmed_count=args.confirm,
                now=now,
            )
            print(f"revoked {count} permits; export the lists so checkpoints learn it")
            return 0
    finally:
        engine.dispose()


def cmd_anomalies(args: argparse.Namespace, settings: Settings) -> int:
    """Run the anomaly scan over the last --days days and print each list."""
    from permits.oversight.anomalies import scan_anomalies

    engine = _engine(settings)
    try:
        with Session(engine) as session:
            now = utcnow()
            report = scan_anomalies(
                session, caller=None, now=now, since=now - timedelta(days=args.days)
            )
    finally:
        engine.dispose()
    limits = report.limits
    print(f"anomaly scan in {report.seconds:.2f} s, {report.total} found")
    print(
        f"plates on more than {limits.plate_active_permits_max} active permits: "
        f"{len(report.plates)}"
    )
    for row in report.plates[: args.show]:
        print(f"  {row.label}: {row.count}  {' '.join(p.serial for p in row.permits[:10])}")
    print(
        f"persons on more than {limits.person_active_permits_max} active permits: "
        f"{len(report.persons)}"
    )
    for row in report.persons[: args.show]:
        print(f"  {row.label}: {row.count}")
    print(f"issuer days above {limits.issuer_daily_volume_factor}x the usual: {len(report.volume)}")
    for spike in report.volume[: args.show]:
        print(f"  {spike.organisation} {spike.day}: {spike.count} (usual {spike.usual})")
    print(
        f"permits checked too far apart (over {limits.checkpoint_max_speed_kmh} km/h): "
        f"{len(report.copied)}"
    )
    for pair in report.copied[: args.show]:
        print(
            f"  {pair.permit.serial if pair.permit else pair.cti}: {pair.first_checkpoint} "
            f"{pair.first_at.astimezone(LOCAL):%m-%d %H:%M} -> {pair.second_checkpoint} "
            f"{pair.second_at.astimezone(LOCAL):%H:%M} ({pair.km} km in {pair.minutes} min)"
        )
    print(f"checks of revoked, replaced or forged permits: {report.bad_checks_total}")
    print(
        f"passes of permits already revoked or replaced (stale lists): {len(report.stale_passes)}"
    )
    return 0


def cmd_checkpoints(args: argparse.Namespace, settings: Settings) -> int:
    """List the checkpoint registry, or load checkpoints from a TOML file."""
    from permits.oversight.checkpoints import all_checkpoints, load_checkpoints

    engine = _engine(settings)
    try:
        with write_session(engine) as session:
            if args.checkpoints_command == "load":
                added = load_checkpoints(session, path=Path(args.file), now=utcnow(), actor=None)
                print(f"added {len(added)} checkpoints: {', '.join(added) or '-'}")
                return 0
            for checkpoint in all_checkpoints(session):
                print(
                    f"{checkpoint.code:<10} {checkpoint.latitude:>9.4f} "
                    f"{checkpoint.longitude:>9.4f}  {checkpoint.name_en}"
                )
            return 0
    finally:
        engine.dispose()


def add_admin_commands(sub: Any) -> None:
    """Add the administration's sub-commands to the `permits` parser's subparsers."""
    audit = sub.add_parser("audit", help=cmd_audit.__doc__)
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="verify the chain; exit status 1 when broken")
    listing = audit_sub.add_parser("list", help="the newest events")
    listing.add_argument("--last", type=int, default=20)
    listing.add_argument("--action", help="only actions starting with this (e.g. permit.)")
    audit.set_defaults(func=cmd_audit)

    bulk = sub.add_parser("revoke-bulk", help=cmd_revoke_bulk.__doc__)
    bulk.add_argument("--user", required=True, help="the regional administrator acting")
    bulk.add_argument("--issuer", help="organisation code")
    bulk.add_argument("--category", help="category slug, e.g. farm_work")
    bulk.add_argument("--reason", default="", help="why (required with --confirm)")
    bulk.add_argument("--confirm", type=int, help="the count shown by the preview")
    bulk.set_defaults(func=cmd_revoke_bulk)

    anomalies = sub.add_parser("anomalies", help=cmd_anomalies.__doc__)
    anomalies.add_argument("--days", type=int, default=7)
    anomalies.add_argument("--show", type=int, default=10, help="rows shown per list")
    anomalies.set_defaults(func=cmd_anomalies)

    checkpoints = sub.add_parser("checkpoints", help=cmd_checkpoints.__doc__)
    checkpoints_sub = checkpoints.add_subparsers(dest="checkpoints_command", required=True)
    checkpoints_sub.add_parser("list")
    load = checkpoints_sub.add_parser("load")
    load.add_argument("file", help="a TOML registry (see permits/oversight/checkpoints.toml)")
    checkpoints.set_defaults(func=cmd_checkpoints)


def load_default_checkpoints(engine: Engine) -> list[str]:
    """Fill an empty checkpoint registry from the region's default file (for `permits init`)."""
    from permits.oversight.checkpoints import ensure_default_checkpoints

    with write_session(engine) as session:
        return ensure_default_checkpoints(session, now=utcnow())
