"""The regional administration at scale, on PostgreSQL: with 1 million permits and 5 million
checks stored, the dashboard renders in under 1 s and the anomaly scan runs in under 30 s.

    .venv/bin/python benchmarks/bench_admin.py            # build the data once, then time
    .venv/bin/python benchmarks/bench_admin.py --rebuild  # drop and build the data again

The data lives in its own database (`bench_admin` on the local server, or the URL in
PERMITS_BENCH_ADMIN_URL) and is kept between runs: building it takes a few minutes, so the
timing runs reuse it. Rows are generated inside PostgreSQL (INSERT ... SELECT over
generate_series), not sent row by row.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from permits.timezone import LOCAL  # noqa: E402

SERVER = os.environ.get("PERMITS_BENCH_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
URL = os.environ.get("PERMITS_BENCH_ADMIN_URL", f"{SERVER}/bench_admin")
NOW = datetime(2026, 12, 30, 12, 0, tzinfo=LOCAL)
PERMITS = int(os.environ.get("PERMITS_BENCH_PERMITS", "1000000"))
CHECKS = int(os.environ.get("PERMITS_BENCH_CHECKS", "5000000"))
ORGANISATIONS = 200
DAYS = 55
CATEGORIES = [
    # slug, issuer kind, share of permits
    ("medical_staff", "clinic", 0.30),
    ("doctor_visit", "clinic", 0.20),
    ("patient_delivery", "clinic", 0.08),
    ("pharmacy_trip", "village_doctor", 0.07),
    ("special_needs", "clinic", 0.03),
    ("funeral", "municipality", 0.05),
    ("farm_work", "municipality", 0.17),
    ("shop_supply", "municipality", 0.06),
    ("veterinary", "ministry", 0.03),
    ("customs", "regional_administration", 0.01),
]
CHECKPOINTS = ["RUS-N", "GRD-C", "MRN-N", "MRN-S", "BOL-E", "DMN-C", "TTR-C", "TSK-C"]


def machine() -> str:
    """One line naming the machine the figures come from."""
    return f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}"


def ensure_database() -> None:
    """Create the benchmark's own database when it does not exist."""
    name = URL.rsplit("/", 1)[1]
    admin = create_engine(URL.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if not exists:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def has_data(engine: Engine) -> bool:
    """True when the benchmark data is complete (the build writes a marker last)."""
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT to_regclass('public.bench_marker') IS NOT NULL")
        ).scalar()
        if not found:
            return False
        return bool(connection.execute(text("SELECT count(*) FROM bench_marker")).scalar())


def build(engine: Engine) -> None:
    """Drop everything, migrate, and generate organisations, keys, users, checkpoints, the
    policy, PERMITS permits (1-3 persons each) and CHECKS checks over DAYS days before NOW."""
    from permits.db import write_session
    from permits.migrations import upgrade
    from permits.oversight.checkpoints import ensure_default_checkpoints
    from permits.policy.service import DEFAULT_POLICY_FILE, add_version, read_policy_file

    started = time.perf_counter()
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    upgrade(engine)
    epoch = NOW - timedelta(days=60)
    with write_session(engine) as session:
        add_version(session, document=read_policy_file(DEFAULT_POLICY_FILE), now=epoch, actor=None)
        ensure_default_checkpoints(session, now=epoch)
    kinds = ["clinic"] * 120 + ["village_doctor"] * 40 + ["municipality"] * 30
    kinds += ["ministry"] * 9 + ["regional_administration"]
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO organisation (code, kind, name_ka, name_az, name_en, municipality,"
                " address, languages, next_serial, active, created_at)"
                " SELECT 'ORG-' || i, (CAST(:kinds AS text[]))[i], 'ორგ ' || i, 'Təşkilat ' || i,"
                " 'Organisation ' || i, 1 + i % 7, '', 'ka,az', 0, true, :epoch"
                " FROM generate_series(1, :n) i"
            ),
            {"kinds": kinds, "n": ORGANISATIONS, "epoch": epoch},
        )
        c.execute(
            text(
                "INSERT INTO app_user (username, full_name, organisation_id, roles,"
                " must_change_password, active, created_at)"
                " SELECT 'user' || id, 'User ' || id, id, 'issuer', false, true, :epoch"
                " FROM organisation"
            ),
            {"epoch": epoch},
        )
        c.execute(
            text(
                "INSERT INTO issuer_key (organisation_id, kid, public_key_der, status,"
                " created_at, activated_at)"
                " SELECT id, lpad(to_hex(id), 16, '0'), '\\x00'::bytea, 'active', :epoch, :epoch"
                " FROM organisation"
            ),
            {"epoch": epoch},
        )
        # Each category is issued by organisations of its kind: ids by kind, in order.
        c.exec_driver_sql(
            "CREATE TEMP TABLE kind_orgs AS SELECT kind, array_agg(id ORDER BY id) ids"
            " FROM organisation GROUP BY kind"
        )
        c.exec_driver_sql("CREATE TEMP TABLE cats (slug text, kind text, lo float8, hi float8)")
        low = 0.0
        for slug, kind, share in CATEGORIES:
            c.execute(
                text("INSERT INTO cats VALUES (:s, :k, :lo, :hi)"),
                {"s": slug, "k": kind, "lo": low, "hi": low + share},
            )
            low += share
        c.exec_driver_sql("SELECT setseed(0.42)")
        print(f"  organisations, keys, users: {time.perf_counter() - started:.1f} s", flush=True)
        c.execute(
            text(
                """
                INSERT INTO permit (id, cti, serial, category, policy_version, organisation_id,
                  issued_by_user_id, kid, status, valid_from, valid_until, windows,
                  vehicle_kind, plate, plate_freeform, route_from_municipality,
                  route_to_municipality, route_to_address, qr_text, holder_token, issued_at,
                  revoked_at, revoke_reason, replaced_at)
                SELECT md5('p' || g.i)::uuid, lpad(to_hex(g.i), 10, '0'), 'B-' || g.i,
                  cats.slug, 1, org.id, org.id, lpad(to_hex(org.id), 16, '0'),
                  CASE WHEN g.s < 0.05 THEN 'revoked' WHEN g.s < 0.08 THEN 'replaced'
                       ELSE 'active' END,
                  g.at, g.at + (1 + floor(g.d * 30)) * interval '1 day',
                  '[]', 'car',
                  'PL-' || lpad(((g.i::bigint * 7919) % 400000)::text, 6, '0'),
                  false, 1 + g.i % 7, 1 + (g.i / 7) % 8, 'somewhere', 'MP1:BENCH' || g.i,
                  'h' || g.i, g.at,
                  CASE WHEN g.s < 0.05 THEN g.at + interval '2 hours' END,
                  CASE WHEN g.s < 0.05 THEN 'benchmark' END,
                  CASE WHEN g.s >= 0.05 AND g.s < 0.08 THEN g.at + interval '3 hours' END
                FROM (
                  SELECT i, random() AS s, random() AS d, random() AS c, random() AS o,
                    CAST(:now AS timestamptz) - random() * (:days * interval '1 day') AS at
                  FROM generate_series(1, :n) i
                ) g
                JOIN cats ON g.c >= cats.lo AND g.c < cats.hi
                JOIN kind_orgs k ON k.kind = cats.kind
                CROSS JOIN LATERAL (
                  SELECT k.ids[1 + floor(g.o * array_length(k.ids, 1))::int] AS id
                ) org
                """
            ),
            {"now": NOW, "days": DAYS, "n": PERMITS},
        )
        print(f"  permits: {time.perf_counter() - started:.1f} s", flush=True)
        c.execute(
            text(
                """
                INSERT INTO permit_person (permit_id, position, role, first_name, last_name,
                  document, foreign_document)
                SELECT md5('p' || i)::uuid, n, CASE WHEN n = 0 THEN 'patient' ELSE 'driver' END,
                  'სახელი' || (i % 997), 'გვარი' || (i % 1499),
                  lpad((((i::bigint * 2654435761) % 900000) + n * 7)::text, 11, '0'), false
                FROM generate_series(1, :n) i
                CROSS JOIN LATERAL generate_series(0, (i % 3)) n
                """
            ),
            {"n": PERMITS},
        )
        print(f"  persons: {time.perf_counter() - started:.1f} s", flush=True)
        c.execute(
            text(
                """
                INSERT INTO permit_check (permit_id, cti, checked_at, recorded_at, checkpoint,
                  result, reason, source)
                SELECT md5('p' || g.p)::uuid, lpad(to_hex(g.p), 10, '0'), g.at, g.at,
                  (CAST(:cps AS text[]))[1 + floor(g.k * 8)::int],
                  CASE WHEN g.r < 0.90 THEN 'valid' WHEN g.r < 0.94 THEN 'outside_window'
                       WHEN g.r < 0.96 THEN 'expired' WHEN g.r < 0.975 THEN 'revoked'
                       WHEN g.r < 0.985 THEN 'replaced' WHEN g.r < 0.995 THEN 'not_yet_valid'
                       ELSE 'bad_signature' END,
                  '', 'device'
                FROM (
                  SELECT 1 + floor(random() * :permits)::int AS p, random() AS k,
                    random() AS r,
                    CAST(:now AS timestamptz) - random() * (:days * interval '1 day') AS at
                  FROM generate_series(1, :n)
                ) g
                """
            ),
            {"cps": CHECKPOINTS, "permits": PERMITS, "now": NOW, "days": DAYS, "n": CHECKS},
        )
        print(f"  checks: {time.perf_counter() - started:.1f} s", flush=True)
        c.exec_driver_sql("CREATE TABLE bench_marker (built_at timestamptz)")
        c.exec_driver_sql("INSERT INTO bench_marker VALUES (now())")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE")
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)


PLANTED = 500


def plant(engine: Engine) -> None:
    """Add a known set of anomalies (once): 100 plates and 100 persons on 5 active permits
    each, all issued by one clinic in the two hours before NOW (a jump far above its usual)."""
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE IF NOT EXISTS bench_planted (planted_at timestamptz)")
        if c.execute(text("SELECT count(*) FROM bench_planted")).scalar():
            return
        c.execute(
            text(
                """
                INSERT INTO permit (id, cti, serial, category, policy_version, organisation_id,
                  issued_by_user_id, kid, status, valid_from, valid_until, windows,
                  vehicle_kind, plate, plate_freeform, route_from_municipality,
                  route_to_municipality, route_to_address, qr_text, holder_token, issued_at)
                SELECT md5('anomaly' || i)::uuid, lpad(to_hex(:base + i), 10, '0'),
                  'ANOM-' || i, 'medical_staff', 1, 1, 1, lpad(to_hex(1), 16, '0'), 'active',
                  CAST(:now AS timestamptz) - interval '2 hours' + i * interval '10 seconds',
                  CAST(:now AS timestamptz) + interval '10 days', '[]', 'car',
                  'ANOM-' || lpad((i % 100)::text, 3, '0'), false, 5, 7, 'somewhere',
                  'MP1:ANOM' || i, 'anom' || i,
                  CAST(:now AS timestamptz) - interval '2 hours' + i * interval '10 seconds'
                FROM generate_series(1, :n) i
                """
            ),
            {"base": PERMITS + 1000, "now": NOW, "n": PLANTED},
        )
        c.execute(
            text(
                "INSERT INTO permit_person (permit_id, position, role, first_name, last_name,"
                " document, foreign_document)"
                " SELECT md5('anomaly' || i)::uuid, 0, 'staff_member', 'ანომალია', 'ტესტი',"
                " '99999' || lpad((i % 100)::text, 6, '0'), false"
                " FROM generate_series(1, :n) i"
            ),
            {"n": PLANTED},
        )
        c.exec_driver_sql("INSERT INTO bench_planted VALUES (now())")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE permit")
        c.exec_driver_sql("VACUUM ANALYZE permit_person")


def timed(label: str, runs: int, action: object) -> list[float]:
    """Run `action` `runs` times and return the seconds each took."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return times


def main() -> int:
    """Build the data when needed, then print the dashboard and anomaly-scan figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data")
    parser.add_argument("--build-only", action="store_true", help="build the data, time nothing")
    parser.add_argument("--runs", type=int, default=5, help="dashboard renders to time")
    args = parser.parse_args()
    ensure_database()
    engine = create_engine(URL, pool_size=4)
    if args.rebuild or not has_data(engine):
        print(f"building {PERMITS:,} permits and {CHECKS:,} checks in {URL} ...", flush=True)
        build(engine)
    plant(engine)
    if args.build_only:
        return 0
    from permits.migrations import upgrade

    upgrade(engine)  # migrations added since the data was built (cheap on existing rows)
    print(f"machine: {machine()}  (measured while other work ran)")
    with engine.connect() as c:
        counts = c.execute(
            text("SELECT (SELECT count(*) FROM permit), (SELECT count(*) FROM permit_check)")
        ).one()
    print(f"stored: {counts[0]:,} permits, {counts[1]:,} checks")
    client = admin_client(engine)
    client.get("/admin")  # warm: connections, templates, the chart library
    renders = timed("dashboard", args.runs, lambda: _ok(client.get("/admin")))
    median = statistics.median(renders)
    print(
        f"dashboard (GET /admin, last 7 days, rendered): median {median * 1000:.0f} ms, "
        f"max {max(renders) * 1000:.0f} ms over {args.runs} renders  target < 1000 ms  "
        f"{'OK' if median < 1.0 else 'MISSED'}"
    )
    from sqlmodel import Session

    from permits.oversight.anomalies import scan_anomalies

    with Session(engine) as session:
        began = time.perf_counter()
        report = scan_anomalies(session, caller=None, now=NOW)
        scan = time.perf_counter() - began
    print(
        f"anomaly scan (7 days of checks, all active permits): {scan:.1f} s  target < 30 s  "
        f"{'OK' if scan < 30 else 'MISSED'}  ({len(report.plates)} plates, "
        f"{len(report.persons)} persons, {len(report.volume)} issuer days, "
        f"{len(report.copied)} copied QR, {report.bad_checks_total} bad checks, "
        f"{len(report.stale_passes)} stale passes)"
    )
    return 0 if median < 1.0 and scan < 30 else 1


def _ok(response: object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    if status != 200:
        raise SystemExit(f"the page answered {status}")


def admin_client(engine: Engine) -> object:
    """A TestClient on the app over the benchmark database, logged in as an administrator."""
    import re

    from fastapi.testclient import TestClient
    from sqlmodel import select

    from permits.accounts.models import User
    from permits.accounts.passwords import hash_password
    from permits.app import create_app
    from permits.db import write_session
    from permits.organisations.models import Organisation
    from permits.settings import Settings
    from permits.trust.keystore import KeyStore

    password = "bench-admin-password-2026"
    with write_session(engine) as session:
        user = session.exec(select(User).where(User.username == "benchadmin")).first()
        if user is None:
            region = session.exec(
                select(Organisation).where(Organisation.kind == "regional_administration")
            ).first()
            assert region is not None and region.id is not None
            session.add(
                User(
                    username="benchadmin",
                    full_name="Bench Admin",
                    organisation_id=region.id,
                    roles="regional_admin",
                    password_hash=hash_password(password),
                    must_change_password=False,
                    created_at=NOW,
                )
            )
            session.commit()
    folder = Path(tempfile.mkdtemp(prefix="bench-admin-"))
    settings = Settings(
        env="test",
        database_url=URL,
        keys_dir=folder / "keys",
        lists_dir=folder / "lists",
        key_passphrase="bench-passphrase-not-secret",  # type: ignore[arg-type]
        key_kdf_rounds=1000,
    )
    keystore = KeyStore(folder / "keys", "bench-passphrase-not-secret", kdf_rounds=1000)
    keystore.ensure_root()
    app = create_app(settings, engine=engine, keystore=keystore, clock=lambda: NOW)
    client = TestClient(app)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        "/login",
        data={
            "username": "benchadmin",
            "password": password,
            "next": "/admin",
            "csrf_token": token.group(1),
        },
    )
    _ok(response)
    return client


if __name__ == "__main__":
    sys.exit(main())
