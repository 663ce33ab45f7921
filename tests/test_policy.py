"""The policy: a versioned file the administration can change; every permit records its version."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from permits.errors import Conflict, ValidationFailed
from permits.policy.rules import PolicyDocument
from permits.policy.service import DEFAULT_POLICY_FILE, add_version, policy_at, read_policy_file
from tests.conftest import Clock


def test_the_shipped_policy_covers_every_issuing_category_of_the_decree() -> None:
    policy = read_policy_file(DEFAULT_POLICY_FILE)
    assert set(policy.categories) == {
        "doctor_visit",
        "pharmacy_trip",
        "medical_staff",
        "patient_delivery",
        "special_needs",
        "funeral",
        "farm_work",
        "shop_supply",
        "veterinary",
        "customs",
    }
    farm = policy.categories["farm_work"]
    assert [(w.start_minute, w.end_minute) for w in farm.daily_windows] == [
        (360, 480),
        (1080, 1140),
    ]
    assert farm.regulation_end is not None
    assert policy.categories["shop_supply"].issuer_kinds == ("municipality",)
    assert policy.categories["veterinary"].issuer_kinds == ("ministry",)
    assert "village_doctor" in policy.categories["pharmacy_trip"].issuer_kinds
    for category in policy.categories.values():
        for names in (category.names, category.public_names):
            assert names.ka and names.az and names.en


def test_no_public_category_name_reveals_a_diagnosis() -> None:
    policy = read_policy_file(DEFAULT_POLICY_FILE)
    shown = " ".join(
        " ".join(c.public_names.as_dict().values()) for c in policy.categories.values()
    ).lower()
    for word in ("autism", "აუტიზმ", "autizm", "dialysis", "chemo"):
        assert word not in shown


def test_a_broken_policy_file_names_what_is_wrong(tmp_path: Path) -> None:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8").replace(
        'issuer_kinds = ["ministry"]', 'issuer_kinds = ["bakery"]'
    )
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        read_policy_file(path)
    assert "veterinary" in caught.value.errors[0].field
    path.write_text("version = [", encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        read_policy_file(path)
    assert caught.value.errors[0].code == "policy_syntax"


def test_versions_are_added_never_edited_and_apply_from_their_effective_time(
    session: Session, clock: Clock
) -> None:
    first = read_policy_file(DEFAULT_POLICY_FILE)
    add_version(session, document=first, now=clock(), actor=None)
    with pytest.raises(Conflict):
        add_version(session, document=first, now=clock(), actor=None)
    later = clock() + timedelta(days=3)
    raw = first.model_dump()
    raw["version"] = 2
    raw["effective_from"] = later
    raw["categories"]["farm_work"]["max_persons"] = 2
    second = PolicyDocument.model_validate(raw)
    add_version(session, document=second, now=clock(), actor=None)
    assert policy_at(session, clock()).version == 1
    assert policy_at(session, later).version == 2
    assert policy_at(session, later).categories["farm_work"].max_persons == 2
