"""The `permits` command: init, serve, issue, keys, export, policy, token."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from permits.db import write_session
from permits.errors import PermitsError
from permits.organisations.models import Organisation
from permits.settings import Settings, get_settings
from permits.timezone import utcnow
from permits.trust.keystore import KeyStore

DEMO_LOGINS_FILE = Path("var/demo-logins.txt")


@contextmanager
def _engine_and_keys(settings: Settings) -> Iterator[tuple[Engine, KeyStore]]:
    """Yield an engine and the key store for one command; the engine is closed afterwards."""
    from permits.db import make_engine
    from permits.trust.keystore import keystore_for

    engine = make_engine(settings.database_url)
    try:
        yield engine, keystore_for(settings)
    finally:
        engine.dispose()


def _init(settings: Settings, *, demo: bool) -> None:
    from permits.bootstrap import initialise

    with _engine_and_keys(settings) as (engine, keystore):
        report = initialise(engine, keystore=keystore, now=utcnow(), demo=demo)
        from permits.oversight.cli import load_default_checkpoints

        load_default_checkpoints(engine)
        if report.created_root:
            print(f"created the regional root key under {settings.keys_dir}/root/")
        if report.loaded_policy:
            print("loaded policy version 1")
        if report.demo_logins:
            lines = ["Demo logins (demo mode only; also in var/demo-logins.txt):"]
            for login in report.demo_logins:
                lines.append(
                    f"  {login.username:<9} password {login.password:<20} {login.organisation:<11} "
                    f"{','.join(login.roles):<28} API token {login.token}"
                )
            DEMO_LOGINS_FILE.parent.mkdir(parents=True, exist_ok=True)
            DEMO_LOGINS_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
            DEMO_LOGINS_FILE.chmod(0o600)


def _print_demo_logins(settings: Settings) -> None:
    if settings.env == "demo" and DEMO_LOGINS_FILE.exists():
        print(DEMO_LOGINS_FILE.read_text(encoding="utf-8"))


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    """Create the database, the root key, policy version 1 and (in demo mode) demo data."""
    _init(settings, demo=settings.env == "demo" and not args.no_demo)
    _print_demo_logins(settings)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Initialise what is missing, then serve the API."""
    from permits.ops.workers import serve_workers

    if args.production:
        from permits.ops.serve import production_workers, serve_production

        serve_production(
            settings,
            host=args.host,
            port=args.port,
            workers=production_workers() if args.workers is None else args.workers,
            publish_every=args.publish_every,
        )
        return 0

    _init(settings, demo=settings.env == "demo")
    _print_demo_logins(settings)
    print(f"serving on http://{args.host}:{args.port}  (API docs at /docs)")
    serve_workers(
        "permits.asgi:app",
        host=args.host,
        port=args.port,
        workers=1 if args.workers is None else args.workers,
        log_level="info",
        proxy_headers=False,
    )
    return 0


def cmd_issue(args: argparse.Namespace, settings: Settings) -> int:
    """Issue a permit from a JSON file, acting as a user."""
    from permits.accounts.caller import Caller
    from permits.accounts.models import User
    from permits.issuance.present import permit_public
    from permits.issuance.schemas import PermitCreate
    from permits.issuance.service import issue_permit
    from permits.organisations.models import Organisation

    with _engine_and_keys(settings) as (engine, keystore):
        request = PermitCreate.model_validate_json(Path(args.file).read_text(encoding="utf-8"))
        with write_session(engine) as session:
            user = session.exec(select(User).where(User.username == args.user)).first()
            if user is None:
                raise PermitsError(f"no user {args.user}", code="not_found")
            organisation = session.get(Organisation, user.organisation_id)
            assert organisation is not None and user.id is not None and organisation.id is not None
            caller = Caller(
                user.id,
                user.username,
                organisation.id,
                organisation.code,
                organisation.kind,
                user.role_set,
            )
            now = utcnow()
            issued = issue_permit(
                session, caller=caller, request=request, keystore=keystore, now=now
            )
            print(permit_public(issued, now=now).model_dump_json(indent=2))
        return 0


def _organisation(session: Session, code: str) -> Organisation:
    from permits.organisations.models import Organisation

    organisation = session.exec(
        select(Organisation).where(Organisation.code == code.upper())
    ).first()
    if organisation is None:
        raise PermitsError(f"no organisation {code}", code="not_found")
    return organisation


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    """Create, rotate, approve, revoke and list issuer keys."""
    from permits.organisations.models import Organisation
    from permits.trust import keys
    from permits.trust.models import IssuerKey

    with _engine_and_keys(settings) as (engine, keystore):
        now = utcnow()
        with write_session(engine) as session:
            if args.keys_command == "create":
                key = keys.create_key(
                    session,
                    organisation=_organisation(session, args.org),
                    keystore=keystore,
                    now=now,
                    actor=None,
                )
                print(f"{key.kid} {key.status}")
            elif args.keys_command == "rotate":
                key = keys.rotate_key(
                    session,
                    organisation=_organisation(session, args.org),
                    keystore=keystore,
                    now=now,
                    actor=None,
                )
                print(
                    f"{key.kid} {key.status} "
                    "(the previous key is retired and verifies until its permits expire)"
                )
            elif args.keys_command == "approve":
                print(f"{keys.approve_key(session, kid=args.kid, now=now, actor=None).kid} active")
            elif args.keys_command == "revoke":
                keys.revoke_key(
                    session,
                    kid=args.kid,
                    keystore=keystore,
                    now=now,
                    actor=None,
                    reason=args.reason,
                )
                print(f"{args.kid} revoked; export the lists so checkpoints learn it")
            else:
                query = select(IssuerKey, Organisation).where(
                    Organisation.id == IssuerKey.organisation_id
                )
                if args.org:
                    query = query.where(Organisation.code == args.org.upper())
                for key, organisation in session.exec(
                    query.order_by(col(Organisation.code), col(IssuerKey.created_at))
                ).all():
                    print(
                        f"{organisation.code:<12} {key.kid} {key.status:<8} "
                        f"created {key.created_at:%Y-%m-%d %H:%M}"
                    )
        return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the signed trust list, revocation list and root public key as static files."""
    from permits.policy.service import policy_at
    from permits.trust.lists import export_lists

    with _engine_and_keys(settings) as (engine, keystore):
        now = utcnow()
        out = Path(args.out) if args.out else settings.lists_dir
        with write_session(engine) as session:
            paths = export_lists(
                session,
                out_dir=out,
                keystore=keystore,
                policy=policy_at(session, now),
                now=now,
                refresh_after=timedelta(seconds=0),
            )
        for path in paths:
            print(path)
        return 0


def cmd_policy(args: argparse.Namespace, settings: Settings) -> int:
    """Load a new policy version from a file, or show the versions."""
    from permits.policy.models import PolicyVersion
    from permits.policy.service import add_version, read_policy_file

    with _engine_and_keys(settings) as (engine, _):
        with write_session(engine) as session:
            if args.policy_command == "load":
                row = add_version(
                    session, document=read_policy_file(Path(args.file)), now=utcnow(), actor=None
                )
                print(
                    f"policy version {row.version} in force from {row.effective_from.isoformat()}"
                )
            else:
                for row in session.exec(
                    select(PolicyVersion).order_by(col(PolicyVersion.version))
                ).all():
                    print(f"{row.version:>3}  from {row.effective_from.isoformat()}  {row.note}")
        return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    """Create an API token for a user and role (printed once)."""
    from permits.accounts.models import User
    from permits.accounts.tokens import create_token

    with _engine_and_keys(settings) as (engine, _):
        with write_session(engine) as session:
            user = session.exec(select(User).where(User.username == args.user)).first()
            if user is None:
                raise PermitsError(f"no user {args.user}", code="not_found")
            token = create_token(session, user=user, role=args.role, name=args.name, now=utcnow())
            session.commit()
        print(token)
        return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `permits` command."""
    parser = argparse.ArgumentParser(prog="permits", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help=cmd_init.__doc__)
    init.add_argument("--no-demo", action="store_true", help="do not create demo data")
    init.set_defaults(func=cmd_init)
    serve = sub.add_parser("serve", help=cmd_serve.__doc__)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: 1; with --production, one for each core)",
    )
    serve.add_argument(
        "--production",
        action="store_true",
        help="PostgreSQL, no demo data, lists as static files, N workers (docs/scaling.md)",
    )
    serve.add_argument(
        "--publish-every",
        type=float,
        default=10.0,
        help="production: seconds between checks for a new list version (default 10; "
        "0: this node does not publish, another one does)",
    )
    serve.set_defaults(func=cmd_serve)
    issue = sub.add_parser("issue", help=cmd_issue.__doc__)
    issue.add_argument("file", help="a JSON permit request (see docs/api.md)")
    issue.add_argument("--user", required=True, help="the issuing user's name")
    issue.set_defaults(func=cmd_issue)
    keys = sub.add_parser("keys", help=cmd_keys.__doc__)
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    for name in ("create", "rotate"):
        k = keys_sub.add_parser(name)
        k.add_argument("--org", required=True, help="organisation code")
    approve = keys_sub.add_parser("approve")
    approve.add_argument("kid")
    revoke = keys_sub.add_parser("revoke")
    revoke.add_argument("kid")
    revoke.add_argument("--reason", required=True)
    listing = keys_sub.add_parser("list")
    listing.add_argument("--org")
    keys.set_defaults(func=cmd_keys)
    export = sub.add_parser("export", help=cmd_export.__doc__)
    export.add_argument("--out", help="directory (default: PERMITS_LISTS_DIR)")
    export.set_defaults(func=cmd_export)
    policy = sub.add_parser("policy", help=cmd_policy.__doc__)
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    load = policy_sub.add_parser("load")
    load.add_argument("file")
    policy_sub.add_parser("list")
    policy.set_defaults(func=cmd_policy)
    token = sub.add_parser("token", help=cmd_token.__doc__)
    token.add_argument("--user", required=True)
    token.add_argument("--role", required=True)
    token.add_argument("--name", default="cli")
    token.set_defaults(func=cmd_token)
    backup = sub.add_parser("backup", help=cmd_backup.__doc__)
    backup.add_argument("--out", default="var/backups", help="folder (default var/backups)")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help=cmd_restore.__doc__)
    restore.add_argument("folder", help="a backup folder written by `permits backup`")
    restore.add_argument(
        "--force", action="store_true", help="replace a database that already holds permits"
    )
    restore.set_defaults(func=cmd_restore)
    from permits.oversight.cli import add_admin_commands

    add_admin_commands(sub)
    from permits.certificates.cli import add_render_command

    add_render_command(sub)
    from permits.accounts.cli import add_user_commands

    add_user_commands(sub)
    return parser


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Back up the database and the key folder while the service runs."""
    from permits.ops.backup import backup

    with _engine_and_keys(settings) as (engine, _):
        report = backup(settings, engine, out_dir=Path(args.out), now=utcnow())
    rows = report.manifest["rows_before"]
    print(
        f"{report.folder}  ({report.manifest['database']}, {rows.get('permit', 0)} permits, "
        f"{rows.get('audit_event', 0)} audit events)"
    )
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Restore a backup folder (stop the service first); checks counts and the audit chain."""
    from permits.ops.backup import restore

    with _engine_and_keys(settings) as (engine, _):
        counts = restore(settings, engine, folder=Path(args.folder), force=args.force)
    print(
        f"restored {counts.get('permit', 0)} permits and {counts.get('audit_event', 0)} audit "
        "events; the audit chain verifies. Run `permits export` so the lists are current."
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `permits` command; errors print one clear line and exit with status 1."""
    args = build_parser().parse_args(argv)
    settings = get_settings()
    try:
        result: int = args.func(args, settings)
        return result
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            print(f"error: {where}: {error['msg']}", file=sys.stderr)
        return 1
    except PermitsError as exc:
        fields = getattr(exc, "errors", None)
        if fields:
            for error in fields:
                print(f"error: {error.field}: {error.message}", file=sys.stderr)
        else:
            print(f"error: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
