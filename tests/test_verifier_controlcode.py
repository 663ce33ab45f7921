"""The control code: Crockford Base32 of the permit id plus a check character over GF(32)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier.controlcode import (
    ALPHABET,
    check_digit,
    control_code,
    fold,
    mul2,
    parse_control_code,
)
from verifier.errors import MalformedError


def test_worked_example() -> None:
    # 0x0102030405 in 5-bit groups: 00000 00100 00001 00000 00110 00001 00000 00101
    digits = [0, 4, 1, 0, 6, 1, 0, 5]
    assert fold(digits) == 28
    assert check_digit(digits) == mul2(28) == 29  # 56 XOR 0b100101 = 29 = "X"
    assert control_code(bytes.fromhex("0102030405")) == "041-061-05X"
    assert control_code(bytes(5)) == "000-000-000"
    assert control_code(b"\xff" * 5) == "ZZZ-ZZZ-ZZ" + ALPHABET[check_digit([31] * 8)]


def test_mul2_is_multiplication_by_x_in_gf32() -> None:
    assert [mul2(a) for a in (0, 1, 2, 16, 31)] == [0, 2, 4, 0b00101, 0b11011]
    assert sorted(mul2(a) for a in range(32)) == list(range(32))  # a permutation


@given(st.binary(min_size=5, max_size=5))
def test_round_trip(permit_id: bytes) -> None:
    code = control_code(permit_id)
    assert len(code) == 11
    assert code[3] == code[7] == "-"
    assert parse_control_code(code) == permit_id
    digits = [ALPHABET.index(ch) for ch in code.replace("-", "")]
    assert fold(digits) == 0


def test_typing_variants_are_accepted() -> None:
    permit_id = bytes.fromhex("0102030405")
    for typed in ["041-061-05X", "04106105x", "o4l 06i-o5x", " 041 061 05X ", "O41-O61-O5X"]:
        assert parse_control_code(typed) == permit_id, typed


@pytest.mark.parametrize(
    "typed",
    ["", "041-061-05", "041-061-05XX", "041-061-05U", "041-061-05Y", "041_061_05X", "0410610 5!"],
)
def test_bad_codes_are_malformed(typed: str) -> None:
    with pytest.raises(MalformedError):
        parse_control_code(typed)


def test_not_text_is_malformed() -> None:
    with pytest.raises(MalformedError):
        parse_control_code(None)  # type: ignore[arg-type]


def test_control_code_needs_five_bytes() -> None:
    with pytest.raises(ValueError, match="5 bytes"):
        control_code(b"1234")


def test_every_single_error_and_adjacent_transposition_is_detected() -> None:
    """Exhaustive over 400 random codes: all 9 x 31 substitutions and all 8 transpositions."""
    rng = random.Random(20261102)
    for _ in range(400):
        code = control_code(rng.randbytes(5)).replace("-", "")
        for position in range(9):
            for ch in ALPHABET:
                if ch != code[position]:
                    wrong = code[:position] + ch + code[position + 1 :]
                    with pytest.raises(MalformedError):
                        parse_control_code(wrong)
        for position in range(8):
            a, b = code[position], code[position + 1]
            if a != b:
                swapped = code[:position] + b + a + code[position + 2 :]
                with pytest.raises(MalformedError):
                    parse_control_code(swapped)


def test_the_check_is_linear_so_detection_holds_for_every_code() -> None:
    """Why the search above generalises: the fold is a GF(32)-linear map, so a change of one
    digit by d at weight x^k shifts it by x^k * d, and a swap of neighbours a, b shifts it by
    x^k * (x + 1) * (a XOR b); both are non-zero for every k, d != 0 and a != b."""

    def times_x_power(value: int, k: int) -> int:
        for _ in range(k):
            value = mul2(value)
        return value

    for k in range(9):
        for d in range(1, 32):
            assert times_x_power(d, k) != 0
            assert times_x_power(mul2(d) ^ d, k) != 0  # (x + 1) * d
