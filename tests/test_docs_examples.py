"""The README's "Try it" requests: each example file, moved to today by
docs/examples/today.py as the README says, is issued by the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Clock
from tests.factories import World

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_each_example_moved_to_today_is_issued(
    client: TestClient, world: World, clock: Clock, name: str
) -> None:
    today = clock().date().isoformat()
    tomorrow = (clock().date() + timedelta(days=1)).isoformat()
    printed = subprocess.run(
        [sys.executable, str(EXAMPLES / "today.py"), name],
        env={**os.environ, "PERMITS_EXAMPLE_TODAY": today},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    request = json.loads(printed)
    starts = request["schedule"]["valid_from"][:10]
    assert starts == (tomorrow if name == "doctor-visit" else today)
    response = client.post("/api/v1/permits", json=request, headers=world.auth("doctor"))
    assert response.status_code == 201, response.text


def test_the_unmoved_files_are_refused_once_their_dates_are_past(
    client: TestClient, world: World, clock: Clock
) -> None:
    # What today.py is for: the files' own dates lie in the past on the test clock's day.
    request = json.loads((EXAMPLES / "doctor-visit.json").read_text(encoding="utf-8"))
    response = client.post("/api/v1/permits", json=request, headers=world.auth("doctor"))
    assert response.status_code == 422
    assert "schedule.valid_from" in response.text
