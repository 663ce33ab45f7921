"""Account commands, added to `permits` (run by the operator, who acts as the system):

permits user create --org CODE --username NAME --full-name "..." --roles issuer,org_head
permits user reset-password --username NAME        a new one-time password
permits user deactivate --username NAME | activate --username NAME
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlmodel import Session, select

from permits.db import make_engine, write_session
from permits.errors import NotFound
from permits.settings import Settings
from permits.timezone import utcnow


def _user_id(session: Session, username: str) -> int:
    from permits.accounts.models import User

    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None or user.id is None:
        raise NotFound(f"no user {username}")
    return user.id


def cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    """Create users with one-time passwords, reset passwords, (de)activate users."""
    from permits.accounts import service
    from permits.organisations.models import Organisation

    engine = make_engine(settings.database_url)
    try:
        with write_session(engine) as session:
            now = utcnow()
            if args.user_command == "create":
                organisation = session.exec(
                    select(Organisation).where(Organisation.code == args.org.upper())
                ).first()
                if organisation is None or organisation.id is None:
                    raise NotFound(f"no organisation {args.org}")
                user, password = service.create_user_with_one_time_password(
                    session,
                    actor=None,
                    organisation_id=organisation.id,
                    username=args.username,
                    full_name=args.full_name,
                    roles=[r.strip() for r in args.roles.split(",") if r.strip()],
                    now=now,
                )
                print(f"created {user.username}; one-time password (shown once): {password}")
            elif args.user_command == "reset-password":
                password = service.reset_password(
                    session, actor=None, user_id=_user_id(session, args.username), now=now
                )
                print(f"one-time password for {args.username} (shown once): {password}")
            else:
                active = args.user_command == "activate"
                service.set_active(
                    session,
                    actor=None,
                    user_id=_user_id(session, args.username),
                    active=active,
                    now=now,
                )
                print(f"{args.username} is {'active' if active else 'inactive'}")
    finally:
        engine.dispose()
    return 0


def add_user_commands(sub: Any) -> None:
    """Add `permits user ...` to the command's subparsers."""
    user = sub.add_parser("user", help=cmd_user.__doc__)
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="a user with a one-time password")
    create.add_argument("--org", required=True, help="organisation code, e.g. MRN-CLINIC")
    create.add_argument("--username", required=True)
    create.add_argument("--full-name", required=True)
    create.add_argument("--roles", required=True, help="comma-separated, e.g. issuer,org_head")
    for name in ("reset-password", "activate", "deactivate"):
        command = user_sub.add_parser(name)
        command.add_argument("--username", required=True)
    user.set_defaults(func=cmd_user)
