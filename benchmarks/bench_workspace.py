"""The workspace's figures: a 10,000-row roster validated and issued (signed and stored), and
register searches over 1,000,000 permits, on SQLite and (when reachable) PostgreSQL.

    .venv/bin/python benchmarks/bench_workspace.py [--rows 10000] [--permits 1000000]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/bench_workspace] [--no-pg]

Each run uses its own databases (a temporary SQLite file; the PostgreSQL database named,
created if missing and emptied first). Targets: roster < 30 s; each search < 200 ms.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from _spine import PASSPHRASE, ROOT, machine

sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from permits.db import make_engine, write_session
from permits.issuance.models import Permit, PermitPerson
from permits.migrations import upgrade
from permits.trust.keystore import KeyStore
from permits.workspace import bulk, register
from permits.workspace.roster import read_roster
from tests.conftest import local
from tests.factories import build_world

NOW = local(2026, 12, 1, 10, 0)
ROSTER_TARGET_S = 30.0
SEARCH_TARGET_MS = 200.0
FIRST = [
    "ნინო",
    "გიორგი",
    "თამარ",
    "ლევან",
    "მარიამ",
    "ზურაბ",
    "ეთერ",
    "Rəşad",
    "Elnur",
    "Aygün",
    "დავით",
    "ნათია",
    "ირაკლი",
    "სალომე",
    "ლაშა",
    "ანა",
    "ლუკა",
    "Nigar",
    "Samir",
    "ქეთევან",
]
LAST = [
    "ბერიძე",
    "კაპანაძე",
    "მაისურაძე",
    "გელაშვილი",
    "ჯაფარიძე",
    "ლომიძე",
    "ხარაიშვილი",
    "Məmmədov",
    "Əliyev",
    "Hüseynova",
    "წიკლაური",
    "ნოზაძე",
    "ჩიქოვანი",
    "Quliyev",
    "ბაქრაძე",
    "დოლიძე",
    "მჭედლიშვილი",
    "სამხარაძე",
    "კვარაცხელია",
    "ხუციშვილი",
]


def fresh_postgres(url: str) -> Engine | None:
    """An emptied PostgreSQL database at `url` (created if missing), or None if unreachable."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0].replace("postgresql+psycopg", "postgresql") + "/postgres"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL not reachable ({exc}); skipped")
        return None
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    return engine


def roster_csv(rows: int) -> bytes:
    lines = ["first_name;last_name;personal_number;position;plate"]
    for index in range(rows):
        lines.append(
            f"{FIRST[index % 20]};{LAST[index // 20 % 20]}{index};{30000000000 + index:011d};"
            f"ექთანი;AA-{index % 1000:03d}-{chr(65 + index // 1000 % 26)}{chr(65 + index % 26)}"
        )
    return ("\ufeff" + "\r\n".join(lines)).encode()


def bench_roster(engine: Engine, keystore: KeyStore, rows: int, label: str) -> float:
    """Validate and issue a roster of `rows` rows; return the seconds it took."""
    with write_session(engine) as session:
        world = build_world(session, keystore=keystore, now=NOW - timedelta(days=30))
    caller = world.callers["doctor"]
    data = roster_csv(rows)
    started = time.perf_counter()
    parsed = read_roster(data, "roster.csv")
    with write_session(engine) as session:
        job = bulk.create_job(
            session,
            caller=caller,
            roster=parsed,
            filename="roster.csv",
            file_sha256="0" * 64,
            category="medical_staff",
            defaults=bulk.RosterDefaults(
                valid_from=NOW.date(),
                valid_until=NOW.date() + timedelta(days=13),
                from_municipality=5,
                to_municipality=5,
                to_address="Marneuli, 26 May Street 1",
            ),
            now=NOW,
        )
        assert job.valid_rows == rows, (job.valid_rows, job.invalid_rows)
        bulk.start_issuing(session, caller=caller, job_id=job.id, now=NOW)
    checked = time.perf_counter() - started
    done = bulk.issue_job(
        engine, caller=caller, job_id=job.id, keystore=keystore, clock=lambda: NOW
    )
    elapsed = time.perf_counter() - started
    assert done.issued_rows == rows and done.status == "done"
    with Session(engine) as session:
        stored = session.execute(text("SELECT count(*) FROM permit")).scalar_one()
    assert stored == rows
    print(
        f"{label}: roster of {rows} rows read and checked in {checked:.1f} s, "
        f"validated + issued (signed, stored) in {elapsed:.1f} s "
        f"({rows / elapsed:.0f}/s) · target < {ROSTER_TARGET_S:.0f} s · "
        f"{'OK' if elapsed < ROSTER_TARGET_S else 'MISSED'}"
    )
    return elapsed


def fill_permits(engine: Engine, world: object, total: int) -> dict[str, str]:
    """Insert `total` permits (1-2 persons each) in bulk, spread over the organisations, and
    return values to search for."""
    organisations = world.organisations  # type: ignore[attr-defined]
    users = world.users  # type: ignore[attr-defined]
    shares = [
        ("MRN-CLINIC", "doctor", 0.4),
        ("SHM-DOCTOR", "village", 0.2),
        ("BOL-MUNI", "bolnisi", 0.2),
        ("MEPA", "ministry", 0.1),
        ("KK-ADMIN", "admin", 0.1),
    ]
    plan = []
    for code, user, share in shares:
        plan.extend([(organisations[code].id, users[user].id, code)] * int(total * share))
    random.Random(7).shuffle(plan)
    rng = random.Random(11)
    target = {}
    batch = 20_000
    started = time.perf_counter()
    serials: dict[str, int] = {}
    for start in range(0, len(plan), batch):
        permits, persons = [], []
        for offset, (org_id, user_id, code) in enumerate(plan[start : start + batch]):
            index = start + offset
            serials[code] = serials.get(code, 0) + 1
            permit_id = uuid.uuid4()
            issued = NOW - timedelta(minutes=index)
            status = "active" if index % 10 else rng.choice(["revoked", "replaced"])
            permits.append(
                {
                    "id": permit_id,
                    "cti": f"{index:010x}",
                    "serial": f"{code}-{serials[code]:07d}",
                    "category": "medical_staff",
                    "policy_version": 1,
                    "organisation_id": org_id,
                    "issued_by_user_id": user_id,
                    "kid": "00" * 8,
                    "status": status,
                    "valid_from": issued,
                    "valid_until": issued + timedelta(days=rng.choice([1, 14, 31])),
                    "windows": [],
                    "weekdays": None,
                    "vehicle_kind": "car",
                    "make_model": None,
                    "plate": f"{chr(65 + index % 26)}{chr(65 + index // 26 % 26)}{index % 1000:03d}"
                    f"{chr(65 + index // 676 % 26)}{chr(65 + index // 17576 % 26)}",
                    "plate_freeform": False,
                    "plate_tail": None,  # filled below from the plate, as issuing does
                    "route_from_municipality": 5,
                    "route_to_municipality": 7,
                    "qr_text": "MP1:benchmark",
                    "holder_token": secrets.token_hex(8) + f"{index:x}",
                    "issued_at": issued,
                }
            )
            permits[-1]["plate_tail"] = permits[-1]["plate"][2:]
            for position in range(1 + (index % 2)):
                first = FIRST[rng.randrange(20)]
                last = LAST[rng.randrange(20)] + (str(rng.randrange(1000)) if position else "")
                document = f"{10000000000 + index * 2 + position:011d}"
                persons.append(
                    {
                        "permit_id": permit_id,
                        "position": position,
                        "role": "staff_member" if position == 0 else "driver",
                        "first_name": first,
                        "last_name": f"{last}{index % 5000}",
                        "document": document,
                        "foreign_document": False,
                    }
                )
            if code == "MRN-CLINIC" and not target and index > total // 2:
                target = {
                    "pn": persons[-1]["document"],
                    "plate": permits[-1]["plate"][:5],
                    "plate_middle": permits[-1]["plate"][2:6],
                }
        with engine.begin() as connection:
            connection.execute(insert(Permit.__table__), permits)  # type: ignore[attr-defined]
            connection.execute(insert(PermitPerson.__table__), persons)  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    print(f"  {total:,} permits inserted in {time.perf_counter() - started:.0f} s")
    return target


def bench_search(engine: Engine, keystore: KeyStore, total: int, label: str) -> dict[str, float]:
    """Time register searches over `total` permits; return the median milliseconds of each."""
    with write_session(engine) as session:
        world = build_world(session, keystore=keystore, now=NOW - timedelta(days=30))
    target = fill_permits(engine, world, total)
    caller = world.callers["doctor"]  # type: ignore[attr-defined]
    with Session(engine) as session:
        own = session.execute(
            text("SELECT count(*) FROM permit WHERE organisation_id = :o"),
            {"o": caller.organisation_id},
        ).scalar_one()
    queries = {
        "personal number (exact)": register.RegisterQuery(personal_number=target["pn"]),
        "beginning of a name": register.RegisterQuery(name="გელაშვილი123"),
        "beginning of a plate": register.RegisterQuery(plate=target["plate"]),
        "middle of a plate": register.RegisterQuery(plate=target["plate_middle"]),
        "status revoked, page 1": register.RegisterQuery(status="revoked"),
        "newest first, page 1": register.RegisterQuery(),
        "grouped by status": register.RegisterQuery(group="status"),
    }
    results = {}
    print(f"  searches of one clinic's register ({own:,} of {total:,} permits):")
    for name, query in queries.items():
        times = []
        found = 0
        for _ in range(5):
            with Session(engine) as session:
                started = time.perf_counter()
                page = register.register_page(session, caller=caller, query=query, now=NOW)
                times.append((time.perf_counter() - started) * 1000)
                found = page.total
        median = statistics.median(times)
        results[name] = median
        verdict = "OK" if median < SEARCH_TARGET_MS else "MISSED"
        if name.startswith("grouped"):
            verdict = "(a sort of every match; no target)"
        print(f"    {label} {name:<26} {median:7.1f} ms  ({found:,} found) · {verdict}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--permits", type=int, default=1_000_000)
    parser.add_argument(
        "--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_workspace"
    )
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--only", choices=["roster", "search"], default=None)
    args = parser.parse_args()
    print(f"bench_workspace · {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        keystore = KeyStore(base / "keys", PASSPHRASE, kdf_rounds=1000)
        keystore.ensure_root()
        targets: list[tuple[str, Engine | None]] = [
            ("SQLite", make_engine(f"sqlite:///{base / 'roster.db'}"))
        ]
        if not args.no_pg:
            targets.append(("PostgreSQL", fresh_postgres(args.pg)))
        for label, engine in targets:
            if engine is None:
                continue
            if args.only in (None, "roster"):
                upgrade(engine)
                bench_roster(engine, keystore, args.rows, label)
            if args.only in (None, "search"):
                if label == "SQLite":
                    engine = make_engine(f"sqlite:///{base / 'search.db'}")
                else:
                    engine = fresh_postgres(args.pg)
                    assert engine is not None
                upgrade(engine)
                bench_search(engine, keystore, args.permits, label)
            engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
