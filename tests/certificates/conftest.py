"""Fixtures for the certificate tests: permits of every sample category, issued through the
API, and helpers that read a rendered QR code back with a real decoder (zxing-cpp)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from permits.timezone import LOCAL
from tests.factories import SAMPLES, World
from tests.helpers import issue_sample

DUMP = os.environ.get("PERMITS_CERT_DUMP")


@pytest.fixture
def issued(client: TestClient, world: World, clock: Any) -> dict[str, dict[str, Any]]:
    """One permit of each sample category, issued at the clock's time, by category."""
    return {category: issue_sample(client, world, category, clock()) for category in SAMPLES}


def moment_inside(permit: dict[str, Any]) -> datetime:
    """A moment when `permit` is valid: a minute into its first day and its first window."""
    start = datetime.fromisoformat(permit["schedule"]["valid_from"]).astimezone(LOCAL)
    windows = permit["schedule"]["windows"]
    if windows:
        hour, minute = (int(part) for part in windows[0]["start"].split(":"))
        start = start.replace(hour=hour, minute=minute)
    weekdays = permit["schedule"]["weekdays"]
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    while weekdays and names[start.weekday()] not in weekdays:
        start += timedelta(days=1)
    return start + timedelta(minutes=1)


def dump(name: str, content: bytes) -> None:
    """Keep a rendered file for a person to look at (PERMITS_CERT_DUMP=folder)."""
    if DUMP:
        Path(DUMP).mkdir(parents=True, exist_ok=True)
        (Path(DUMP) / name).write_bytes(content)
