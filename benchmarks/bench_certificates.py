"""Certificates: how fast QR codes, single PDFs, phone images and a 1,000-permit batch PDF are
made, in one process, against the issue's targets.

    .venv/bin/python benchmarks/bench_certificates.py [--permits 1000]

Sets up a fresh SQLite database with the demo world in a temporary folder, issues the
permits through the issuance service (Georgian and Azerbaijani names, distinct plates), then
measures. Single renders include loading the permit from the database; each permit's QR
code is built from scratch (the QR cache is cleared), so no figure leans on the cache. The
batch runs in a fresh child process so that its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSPHRASE = "benchmark-passphrase-not-secret"
FIRST = ["ნინო", "თამარ", "გიორგი", "Rəşad", "Əli", "Gülşən", "ლევან", "Şəhla", "İlqar", "მარიამ"]
LAST = ["ბერიძე", "Məmmədov", "კაპანაძე", "Əliyeva", "გელაშვილი", "Hüseynov", "ლომიძე", "Çələbi"]


def machine() -> str:
    """One line naming the machine the figures come from."""
    return f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}"


def _request(index: int, now: datetime) -> dict[str, object]:
    rng = random.Random(index)
    local = now.astimezone()
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    letters = "ABCDEFGHIJKLMNOPRSTUVXYZ"
    plate = (
        f"{letters[index % 24]}{letters[(index // 24) % 24]}-{index % 1000:03d}-"
        f"{letters[(index // 7) % 24]}{letters[(index // 3) % 24]}"
    )
    return {
        "category": "medical_staff",
        "persons": [
            {
                "role": "staff_member",
                "first_name": rng.choice(FIRST),
                "last_name": rng.choice(LAST),
                "personal_number": f"{10_000_000_000 + index * 7919:011d}",
                "position": rng.choice(["ექთანი", "ექიმი", "Tibb bacısı", "სანიტარი"]),
            }
        ],
        "vehicle": {"kind": "car", "plate": plate, "make_model": "Toyota Prius"},
        "route": {"from_municipality": 5, "to_municipality": 7, "to_address": "Rustavi, Clinic 3"},
        "schedule": {
            "valid_from": day.isoformat(),
            "valid_until": (day + timedelta(days=14)).isoformat(),
            "weekdays": ["mon", "tue", "wed", "thu", "fri"],
        },
    }


def setup(folder: Path, count: int, now: datetime) -> list[str]:
    """Create the database and issue `count` permits; return their ids."""
    from sqlmodel import Session

    from permits.db import make_engine, writer
    from permits.issuance.schemas import PermitCreate
    from permits.issuance.service import issue_permit
    from permits.migrations import upgrade
    from permits.trust.keystore import KeyStore
    from tests.factories import build_world

    engine = make_engine(f"sqlite:///{folder / 'permits.db'}")
    upgrade(engine)
    keystore = KeyStore(folder / "keys", PASSPHRASE, kdf_rounds=1000)
    keystore.ensure_root()
    ids = []
    with Session(writer(engine), expire_on_commit=False) as session:
        world = build_world(session, keystore=keystore, now=now - timedelta(days=30))
        caller = world.callers["doctor"]
        for index in range(count):
            issued = issue_permit(
                session,
                caller=caller,
                request=PermitCreate.model_validate(_request(index, now)),
                keystore=keystore,
                now=now,
            )
            ids.append(str(issued.permit.id))
    engine.dispose()
    return ids


def bench_qr(texts: list[str]) -> dict[str, float]:
    """Milliseconds per QR code: segno's own mask search, segno with a fixed mask, ours."""
    import segno

    from permits.certificates.qrcode import qr_matrix

    def per_code(make: object) -> float:
        start = time.perf_counter()
        for text in texts:
            make(text)  # type: ignore[operator]
        return (time.perf_counter() - start) * 1000 / len(texts)

    segno_search = per_code(
        lambda t: segno.make_qr(t, error="q", boost_error=False, mode="alphanumeric")
    )
    segno_fixed = per_code(
        lambda t: segno.make_qr(t, error="q", boost_error=False, mode="alphanumeric", mask=0)
    )
    qr_matrix.cache_clear()
    ours = per_code(qr_matrix)
    qr_matrix.cache_clear()
    return {
        "segno_mask_search_ms": segno_search,
        "segno_fixed_mask_ms": segno_fixed,
        "ours_ms": ours,
    }


def bench_single(
    folder: Path, ids: list[str], now: datetime, kind: str, passes: int = 3
) -> tuple[list[float], int]:
    """Certificates per second, one at a time, each loaded from the database; one figure per
    pass over `ids`, the QR cache cleared before each pass; and the median file size."""
    from sqlmodel import Session

    from permits.certificates import service
    from permits.certificates.qrcode import qr_matrix
    from permits.db import make_engine

    engine = make_engine(f"sqlite:///{folder / 'permits.db'}")
    render = service.render_pdf if kind == "pdf" else service.render_png
    qr_matrix.cache_clear()
    with Session(engine) as session:
        service.certificate_view(session, caller=None, ref=ids[-1], now=now)  # warm fonts
        render(service.certificate_view(session, caller=None, ref=ids[-1], now=now))
        rates = []
        sizes: list[int] = []
        for _ in range(passes):
            qr_matrix.cache_clear()
            sizes.clear()
            start = time.perf_counter()
            for ref in ids:
                rendered = render(service.certificate_view(session, caller=None, ref=ref, now=now))
                sizes.append(len(rendered.content))
            rates.append(len(ids) / (time.perf_counter() - start))
    engine.dispose()
    return rates, int(statistics.median(sizes))


def batch_child(folder: str, ids_file: str, now_text: str) -> None:
    """Run in a fresh process: load every permit and render one batch PDF; print figures."""
    from sqlmodel import Session

    from permits.certificates import service
    from permits.db import make_engine

    ids = json.loads(Path(ids_file).read_text())
    now = datetime.fromisoformat(now_text)
    engine = make_engine(f"sqlite:///{Path(folder) / 'permits.db'}")
    start = time.perf_counter()
    with Session(engine) as session:
        views = service.certificate_views(session, caller=None, refs=ids, now=now)
    loaded = time.perf_counter()
    rendered = service.render_batch_pdf(views)
    done = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": done - start,
                "load_seconds": loaded - start,
                "pages": len(views),
                "bytes": len(rendered.content),
                "peak_mb": peak_mb,
            }
        )
    )


def main() -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--permits", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=200)
    parser.add_argument("--batch-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.batch_child:
        batch_child(*args.batch_child)
        return 0
    from permits.timezone import LOCAL

    now = datetime(2026, 12, 1, 10, 0, tzinfo=LOCAL)
    print(f"certificates benchmark · {machine()}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.perf_counter()
        ids = setup(folder, args.permits, now)
        print(f"set-up: {len(ids)} permits issued in {time.perf_counter() - started:.1f} s")
        from sqlmodel import Session, col, select

        from permits.db import make_engine
        from permits.issuance.models import Permit

        engine = make_engine(f"sqlite:///{folder / 'permits.db'}")
        with Session(engine) as session:
            texts = list(
                session.exec(select(Permit.qr_text).where(col(Permit.id).is_not(None))).all()
            )[: args.singles]
        engine.dispose()
        qr = bench_qr(texts)
        print(
            f"QR code (ECC Q, {len(texts)} distinct permits): segno with its mask search "
            f"{qr['segno_mask_search_ms']:.2f} ms · segno, fixed mask "
            f"{qr['segno_fixed_mask_ms']:.2f} ms · ours (same matrix as segno's search) "
            f"{qr['ours_ms']:.2f} ms"
        )
        singles = ids[: args.singles]
        for kind, label, target in (
            ("pdf", "single-permit PDFs", 50),
            ("png", "phone images", 100),
        ):
            rates, size = bench_single(folder, singles, now, kind)
            print(
                f"{label + ':':<20} {statistics.median(rates):7.1f} /s median of "
                f"{len(rates)} passes (each pass: "
                + ", ".join(f"{r:.0f}" for r in rates)
                + f" /s; target ≥ {target}/s), files {size / 1000:.0f} kB (median)"
            )
        ids_file = folder / "ids.json"
        ids_file.write_text(json.dumps(ids))
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--batch-child",
                str(folder),
                str(ids_file),
                now.isoformat(),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        batch = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"batch PDF of {batch['pages']} permits: {batch['seconds']:.1f} s "
            f"(target < 20 s; of which loading {batch['load_seconds']:.1f} s), "
            f"peak memory {batch['peak_mb']:.0f} MB (target < 300 MB), "
            f"{batch['bytes'] / 1e6:.1f} MB file"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
