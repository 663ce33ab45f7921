"""Verifications per second in the Python library, and the QR size of a typical permit of each
core category (Georgian names) at ECC Q.

Issues one sample permit of each core category through the API (in-process, fresh SQLite
database), downloads the signed lists as a checkpoint would, then verifies the permits in a
loop for a fixed time, cycling through them: in one process, then in two at once.

    .venv/bin/python benchmarks/bench_verifier.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from datetime import datetime
from typing import Any

from _spine import in_process, machine

VERIFY_TARGET = 5000.0
QR_TARGETS = {"medical_staff": 10, "doctor_visit": 13}


def main() -> None:
    """Print verifications per second and each core category's QR version and length."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    from permits.issuance.qr import make_qr
    from permits.timezone import LOCAL
    from tests.factories import SAMPLES
    from tests.helpers import device_verifier, issue_sample
    from verifier.model import Status

    now = datetime(2026, 12, 1, 10, 0, tzinfo=LOCAL)
    with in_process(now) as env:
        permits = {
            category: issue_sample(env.client, env.world, category, now) for category in SAMPLES
        }
        verifier = device_verifier(env.client, env.keystore)
    print(f"machine: {machine()}")
    print("QR of a typical permit at ECC Q (alphanumeric mode):")
    for category, permit in permits.items():
        qr = make_qr(permit["qr_text"])
        target = QR_TARGETS.get(category)
        verdict = "" if target is None else (" OK" if qr.version <= target else " ABOVE TARGET")
        goal = "" if target is None else f" (target <= {target})"
        print(
            f"  {category:<17} {len(permit['persons'])} person(s): version {qr.version:>2} "
            f"({qr.symbol_size(border=0)[0]}x{qr.symbol_size(border=0)[0]} modules), "
            f"{len(permit['qr_text'])} characters{goal}{verdict}"
        )

    at = datetime(2026, 12, 2, 11, 0, tzinfo=LOCAL)
    texts = [permit["qr_text"] for permit in permits.values()]
    for text in texts:  # each must pass the signature and decode, or the figure means nothing
        result = verifier.verify(text, at=at)
        assert result.claims is not None and result.status is not Status.MALFORMED, result
    one = _verify_for(verifier, texts, at, args.seconds)
    _FORKED.extend([verifier, texts, at])  # the pool's processes inherit these (keys do not pickle)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        both = sum(pool.map(_verify_forked, [args.seconds] * 2))
    for label, rate in (("one process", one), ("two processes (both cores)", both)):
        verdict = "OK" if rate >= VERIFY_TARGET else "BELOW TARGET"
        print(
            f"verifications in the library, {label}: {rate:,.0f}/s "
            f"(target >= {VERIFY_TARGET:,.0f}/s) {verdict}"
        )


_FORKED: list[Any] = []


def _verify_forked(seconds: float) -> float:
    verifier, texts, at = _FORKED
    return _verify_for(verifier, texts, at, seconds)


def _verify_for(verifier: Any, texts: list[str], at: datetime, seconds: float) -> float:
    """Verify `texts` in a loop for `seconds`; return verifications per second."""
    count = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        for text in texts:
            verifier.verify(text, at=at)
        count += len(texts)
    return count / (time.perf_counter() - started)


if __name__ == "__main__":
    main()
