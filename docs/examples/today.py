"""Print an example permit request with its dates moved to today (the files hold fixed dates).

    .venv/bin/python docs/examples/today.py medical-staff | curl ... -d @-

Every schedule date moves by the same whole number of days, so that the example starts today
(or tomorrow, for an example that starts on the day after it was written); times of day and
the length of validity stay as written. PERMITS_EXAMPLE_TODAY=YYYY-MM-DD sets "today".
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
WRITTEN_ON = date(2026, 11, 24)  # the day the examples' dates were written for
TBILISI = ZoneInfo("Asia/Tbilisi")


def moved(request: dict[str, object], today: date) -> dict[str, object]:
    """Return `request` with its schedule's valid_from and valid_until moved by the days from
    WRITTEN_ON to `today`."""
    shift = timedelta(days=(today - WRITTEN_ON).days)
    schedule = dict(request["schedule"])  # type: ignore[call-overload]
    for key in ("valid_from", "valid_until"):
        schedule[key] = (datetime.fromisoformat(schedule[key]) + shift).isoformat()
    return {**request, "schedule": schedule}


def main() -> int:
    """Print the named example (a file name in this folder, without .json)."""
    if len(sys.argv) != 2 or not (HERE / f"{sys.argv[1]}.json").is_file():
        names = ", ".join(sorted(p.stem for p in HERE.glob("*.json")))
        print(f"usage: today.py NAME   (one of: {names})", file=sys.stderr)
        return 2
    given = os.environ.get("PERMITS_EXAMPLE_TODAY")
    today = date.fromisoformat(given) if given else datetime.now(TBILISI).date()
    request = json.loads((HERE / f"{sys.argv[1]}.json").read_text(encoding="utf-8"))
    print(json.dumps(moved(request, today), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
