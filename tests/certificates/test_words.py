"""Schedules in words, labels side by side, the languages a certificate uses."""

from __future__ import annotations

import pytest

from permits.certificates.words import label, resolve_languages, schedule_words, tr
from permits.errors import ValidationFailed
from tests.conftest import local


def test_farm_work_schedule_reads_like_the_decree() -> None:
    words = {
        language: schedule_words(
            valid_from=local(2027, 4, 22),
            valid_until=local(2027, 4, 28),
            windows=[[360, 480], [1080, 1140]],
            weekdays=None,
            language=language,
        )
        for language in ("ka", "az", "en")
    }
    assert words["en"] == "every day 06:00-08:00 and 18:00-19:00, 22-27 April 2027"
    assert words["ka"] == "ყოველდღე 06:00-08:00 და 18:00-19:00, 22-27 აპრილი 2027"
    assert words["az"] == "hər gün 06:00-08:00 və 18:00-19:00, 22-27 aprel 2027"


@pytest.mark.parametrize(
    ("start", "end", "weekdays", "expected"),
    [
        (local(2026, 12, 2, 9), local(2026, 12, 2, 13), None, "2 December 2026, 09:00-13:00"),
        (local(2026, 12, 1), local(2026, 12, 15), 0b11111, "Monday-Friday, 1-14 December 2026"),
        (
            local(2026, 12, 1),
            local(2026, 12, 8),
            0b10101,
            "Monday, Wednesday, Friday, 1-7 December 2026",
        ),
        (local(2026, 12, 28), local(2027, 1, 3), None, "28 December 2026 - 2 January 2027"),
        (local(2027, 4, 28), local(2027, 5, 2), None, "28 April - 1 May 2027"),
        (local(2027, 4, 1), local(2027, 4, 27, 23, 59), None, "1-27 April 2027"),
        (
            local(2026, 12, 1, 10),
            local(2026, 12, 3, 18),
            None,
            "1 December 2026 10:00 - 3 December 2026 18:00",
        ),
    ],
)
def test_schedule_forms(start, end, weekdays, expected) -> None:
    assert (
        schedule_words(
            valid_from=start, valid_until=end, windows=[], weekdays=weekdays, language="en"
        )
        == expected
    )


def test_languages_always_georgian_and_azerbaijani() -> None:
    assert resolve_languages(None, "ka,az") == ("ka", "az")
    assert resolve_languages(None, "ka,az,en") == ("ka", "az", "en")
    assert resolve_languages("en", "ka,az") == ("ka", "az", "en")
    assert resolve_languages("ka,az", "ka,az,en") == ("ka", "az")
    with pytest.raises(ValidationFailed) as raised:
        resolve_languages("ka,de", None)
    assert raised.value.errors[0].field == "languages"


def test_labels_side_by_side_and_translated() -> None:
    assert label(("ka", "az"), "Personal number") == "პირადი ნომერი / Şəxsiyyət nömrəsi"
    assert label(("ka", "az", "en"), "Route") == "მარშრუტი / Marşrut / Route"
    for message in ("Control code", "Time of validity", "Head of the institution"):
        assert tr("ka", message) != message and tr("az", message) != message
