"""Fixtures for the fault tests: the real clock, a real server process on the test database,
and checks that the database holds nothing half-written."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from permits.audit.models import AuditEvent
from permits.audit.service import verify_chain
from permits.issuance.models import Permit, PermitPerson
from permits.organisations.models import Organisation
from permits.timezone import LOCAL, utcnow
from permits.trust.keystore import KeyStore
from permits.trust.models import IssuerKey, PublishedList
from tests.conftest import PG_URL, TEST_PASSPHRASE, Clock
from tests.factories import World
from tests.resilience.processes import ServerProcess, server_env
from verifier import codec, cose, text
from verifier.keys import load_public_key_der
from verifier.lists import load_revocation_list, load_trust_list
from verifier.model import Status
from verifier.verify import Verifier


@pytest.fixture
def clock() -> Clock:
    """The real time: these tests talk to server processes that read the real clock."""
    return Clock(utcnow())


def permit_request(number: int, now: datetime) -> dict[str, Any]:
    """A medical-staff request valid all day for a week, with a person of its own."""
    start = now.astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "category": "medical_staff",
        "persons": [
            {
                "role": "staff_member",
                "first_name": "ნინო",
                "last_name": "ბერიძე",
                "personal_number": f"{10_000_000_000 + number:011d}",
                "position": "ექთანი",
            }
        ],
        "vehicle": {"kind": "car", "plate": f"AA-{number % 1000:03d}-BB"},
        "route": {"from_municipality": 5, "to_municipality": 7, "to_address": "Rustavi, Clinic 3"},
        "schedule": {
            "valid_from": start.isoformat(),
            "valid_until": (start + timedelta(days=7)).isoformat(),
        },
    }


def idempotency_key() -> str:
    """A fresh Idempotency-Key."""
    return f"fault-{uuid.uuid4()}"


@dataclass
class Deployment:
    """A server process on the test database, its folder and its key store."""

    server: ServerProcess
    engine: Engine
    keystore: KeyStore
    world: World
    lists_dir: Path


def database_url(engine: Engine) -> str:
    """The test engine's URL with its password (for a server process)."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def deployment(
    engine: Engine, keystore: KeyStore, world: World, tmp_path: Path
) -> Iterator[Deployment]:
    """A server on the test database: one process on SQLite, `--production` with two workers
    on PostgreSQL. Not started: the test starts, kills and restarts it."""
    lists_dir = tmp_path / "lists"
    env = server_env(
        database_url=database_url(engine),
        keys_dir=keystore.directory,
        lists_dir=lists_dir,
        passphrase=TEST_PASSPHRASE,
    )
    server = ServerProcess(tmp_path / "server", env, workers=2 if PG_URL else 1)
    server.production = bool(PG_URL)
    yield Deployment(server, engine, keystore, world, lists_dir)
    server.stop()


def stored_permits(engine: Engine) -> dict[str, Permit]:
    """Every permit row by id (hex string)."""
    with Session(engine) as session:
        return {str(p.id): p for p in session.exec(select(Permit)).all()}


def assert_nothing_half_written(engine: Engine, keystore: KeyStore) -> None:
    """Every permit row carries a signed QR that verifies with its issuer's key and matches
    the row (id, persons); every permit has its audit record and every issue or revoke
    record its permit in that state; the audit chain is intact; every revocation list ever
    published lists only permits recorded as revoked or replaced."""
    with Session(engine) as session:
        permits = {str(p.id): p for p in session.exec(select(Permit)).all()}
        keys = {k.kid: k for k in session.exec(select(IssuerKey)).all()}
        persons: dict[str, list[PermitPerson]] = {}
        for person in session.exec(select(PermitPerson)).all():
            persons.setdefault(str(person.permit_id), []).append(person)
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all()
        organisations = {o.id: o for o in session.exec(select(Organisation)).all()}
        chain = verify_chain(session)
        published = session.exec(
            select(PublishedList).where(PublishedList.kind == "revocation")
        ).all()
    assert chain.intact, chain
    issued = {e.subject_id for e in events if e.action in ("permit.issue", "permit.replace")}
    revoked_events = {e.subject_id for e in events if e.action == "permit.revoke"}
    assert set(permits) == issued, "a permit without its audit record, or the other way round"
    for permit_id, permit in permits.items():
        # The signature in the row verifies with the key the row names, for this very row.
        message = cose.parse_sign1(text.decode_qr_text(permit.qr_text))
        assert message.kid.hex() == permit.kid
        cose.verify_sign1(message, load_public_key_der(keys[permit.kid].public_key_der))
        claims = codec.decode_claims(message.payload)
        assert claims.permit_id.hex() == permit.cti
        assert len(claims.persons) == len(persons.get(permit_id, [])) > 0
        if permit.status == "revoked":
            assert permit.revoked_at is not None and permit_id in revoked_events
        else:
            assert permit_id not in revoked_events
        number = int(permit.serial.rpartition("-")[2])
        assert number <= organisations[permit.organisation_id].next_serial
    by_cti = {p.cti: p for p in permits.values()}
    for row in published:
        if not row.data:  # an old version whose signed bytes were dropped (its row stays)
            continue
        listed = load_revocation_list(row.data, root_public_key=keystore.root_public_key())
        for code, partition in listed.partitions.items():
            for run, status in ((partition.revoked, "revoked"), (partition.replaced, "replaced")):
                for start in range(0, len(run), 5):
                    permit = by_cti.get(run[start : start + 5].hex())
                    assert permit is not None, f"version {row.version} lists an unknown permit"
                    assert permit.status == status, "listed without its record"
                    assert organisations[permit.organisation_id].code == code


def device_verifier(lists_dir: Path, keystore: KeyStore) -> Verifier:
    """A verifier built as a device builds it, from the static list files."""
    root = keystore.root_public_key()
    trust = load_trust_list((lists_dir / "trust-list.cose").read_bytes(), root_public_key=root)
    revocation = load_revocation_list(
        (lists_dir / "revocation-list.cose").read_bytes(), root_public_key=root
    )
    return Verifier(trust, revocation)


def assert_valid(verifier: Verifier, qr_texts: list[str], at: datetime) -> None:
    """Every QR text is VALID at `at`."""
    for qr in qr_texts:
        result = verifier.verify(qr, at=at)
        assert result.status is Status.VALID, result.reason


def random_reason() -> str:
    """A revocation reason."""
    return f"lost phone {secrets.token_hex(3)}"


def as_json(response: Any) -> dict[str, Any]:
    """The JSON body of a response."""
    body: dict[str, Any] = json.loads(response.content)
    return body
