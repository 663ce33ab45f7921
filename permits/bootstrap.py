"""First start: migrate the database, create the root key, load the policy, seed demo data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from permits.db import write_session
from permits.demo import DemoLogin, seed_demo
from permits.migrations import upgrade
from permits.policy.models import PolicyVersion
from permits.policy.service import DEFAULT_POLICY_FILE, add_version, read_policy_file
from permits.trust.keystore import KeyStore


@dataclass
class InitReport:
    """What `initialise` did."""

    created_root: bool = False
    loaded_policy: bool = False
    demo_logins: list[DemoLogin] = field(default_factory=list)


def initialise(
    engine: Engine,
    *,
    keystore: KeyStore,
    now: datetime,
    demo: bool,
    policy_file: Path = DEFAULT_POLICY_FILE,
) -> InitReport:
    """Bring everything to a usable state; safe on every start (it only adds what is missing)."""
    report = InitReport()
    upgrade(engine)
    if not keystore.has_root():
        keystore.ensure_root()
        report.created_root = True
    with write_session(engine) as session:
        if session.exec(select(PolicyVersion)).first() is None:
            add_version(session, document=read_policy_file(policy_file), now=now, actor=None)
            report.loaded_policy = True
        if demo:
            report.demo_logins = seed_demo(session, keystore=keystore, now=now)
    return report
