"""Plates and personal documents: normalisation and the formats that are accepted."""

from __future__ import annotations

import pytest

from permits.issuance.people import clean_foreign_document, clean_name, clean_personal_number
from permits.issuance.plates import PlateError, format_plate, normalise_plate


@pytest.mark.parametrize(
    "typed",
    ["AB-123-CD", "ab 123 cd", "ab123cd", " AB–123–CD ", "AB.123.CD", "АВ-123-СD", "აბ-123-ცდ"],
)
def test_standard_plate_is_normalised_from_any_typing(typed: str) -> None:
    plate = normalise_plate(typed)
    assert plate.value == "AB123CD"
    assert plate.freeform is False
    assert plate.display == "AB-123-CD"


def test_cyrillic_lookalikes_map_to_latin() -> None:
    # Cyrillic А, Е, К, М, Н, О, Р, С, Т, Х typed where Latin letters were meant
    assert normalise_plate("ТК-001-МН").value == "TK001MH"
    assert normalise_plate("ох-999-ра").value == "OX999PA"


def test_georgian_keyboard_letters_map_to_latin_keys() -> None:
    # the Georgian layout puts ღ on R and შ on S (shifted keys)
    assert normalise_plate("ღშ-321-თზ").value == "RS321TZ"


@pytest.mark.parametrize("typed", ["ABC-123", "TBS 1234", "12345", "D1234AB"])
def test_other_plates_are_free_form_and_flagged(typed: str) -> None:
    plate = normalise_plate(typed)
    assert plate.freeform is True
    assert plate.display == plate.value


@pytest.mark.parametrize(
    "typed", ["", "   ", "A", "AB-123-CD-EF-GH-IJ", "AB<123>", "ნომერი?", "Ω-123"]
)
def test_impossible_plates_are_refused(typed: str) -> None:
    with pytest.raises(PlateError):
        normalise_plate(typed)


def test_format_plate_only_dashes_standard_plates() -> None:
    assert format_plate("AB123CD") == "AB-123-CD"
    assert format_plate("ABC123") == "ABC123"


@pytest.mark.parametrize(
    ("typed", "expected"), [("01024054321", "01024054321"), ("010 2405 4321", "01024054321")]
)
def test_personal_number_has_eleven_digits(typed: str, expected: str) -> None:
    assert clean_personal_number(typed) == expected


@pytest.mark.parametrize("typed", ["0102405432", "010240543210", "0102405432a", "", "០១០២៤០៥៤៣២១"])
def test_bad_personal_numbers_are_refused(typed: str) -> None:
    assert clean_personal_number(typed) is None


def test_foreign_document_is_upper_case_letters_and_digits() -> None:
    assert clean_foreign_document("c 0123-4567") == "C01234567"
    assert clean_foreign_document("ab1") is None
    assert clean_foreign_document("P<123456") is None


def test_names_keep_letters_collapse_spaces_and_refuse_garbage() -> None:
    assert clean_name("  ნინო   ბერიძე ") == "ნინო ბერიძე"
    assert clean_name("Məmmədov") == "Məmmədov"
    assert clean_name("<b>Nino</b>") == "<b>Nino</b>"  # kept as typed; escaped where shown
    assert clean_name("12345") is None
    assert clean_name("Nino\x00") is None
    assert clean_name("x" * 61) is None
