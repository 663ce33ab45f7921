"""Run every benchmark script in this folder (bench_*.py), one after another, and print their
figures. `make bench` runs it; each script can also run alone (see its docstring).

    .venv/bin/python benchmarks/run_all.py [--only issue_api,verifier] [--quick]

--quick passes `--seconds 5` to the scripts that take it, for a fast look.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run the benchmarks; return 1 when any script failed to run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="comma-separated names, e.g. issue_api,verifier")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else None
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if wanted is not None and name not in wanted:
            continue
        command = [sys.executable, str(script)]
        if args.quick and "--seconds" in script.read_text(encoding="utf-8"):
            command += ["--seconds", "5"]
        print(f"== {name} ==", flush=True)
        started = time.monotonic()
        if subprocess.run(command, cwd=HERE.parent, check=False).returncode != 0:
            failed.append(name)
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
    if failed:
        print(f"failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
