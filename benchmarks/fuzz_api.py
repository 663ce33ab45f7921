"""The long schemathesis run: every operation of the OpenAPI schema, many generated cases each
(valid ones and ones that break the schema on purpose), as a caller and as a stranger.
Prints the number of requests and every 5xx answer; exits 1 if there was one.

    .venv/bin/python benchmarks/fuzz_api.py                # 50x the quick run in `make test`
    .venv/bin/python benchmarks/fuzz_api.py --scale 10
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from _spine import in_process, machine


def main() -> int:
    """Fuzz the API in-process on a fresh SQLite database with the demo world."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=50.0, help="examples x the quick run")
    args = parser.parse_args()

    from tests.attacks.test_api_schema_fuzz import EXAMPLES, fuzz_operations

    print(f"fuzz_api: {machine()}")
    per_operation = {mode.value: int(n * args.scale) for mode, n in EXAMPLES.items()}
    print(f"  up to {per_operation} cases per operation, as a caller and as a stranger")
    problems: list[str] = []
    requests = 0
    started = time.monotonic()
    with in_process(datetime.now(UTC)) as setup:
        for stranger in (False, True):
            found, made = fuzz_operations(
                setup.client.app,  # type: ignore[attr-defined]
                setup.world,  # type: ignore[arg-type]
                stranger=stranger,
                scale=args.scale,
            )
            problems += found
            requests += made
    print(
        f"  {requests} requests in {time.monotonic() - started:.0f} s; 5xx answers: {len(problems)}"
    )
    for problem in problems[:20]:
        print(f"    {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
