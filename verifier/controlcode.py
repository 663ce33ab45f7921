"""The control code printed under the QR: the 5-byte permit id as 8 Crockford Base32 characters
plus one check character, shown as "XXX-XXX-XXX".

The check character comes from a Damm-style quasigroup over GF(32): a∘b = mul2(a) XOR b,
where mul2 multiplies by x modulo x^5 + x^2 + 1. Folding ∘ over all nine characters from 0
gives 0 for a correct code. Because the fold is linear, a single changed character changes
the result by x^k·δ ≠ 0, and swapping two different neighbours changes it by
x^k·(x+1)·(a XOR b) ≠ 0: every single-character error and every adjacent transposition is
detected.
"""

from __future__ import annotations

import base64

from verifier.errors import MalformedError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford Base32: no I, L, O or U."""

_VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
_VALUES.update({"O": 0, "I": 1, "L": 1})  # what people mistype for 0 and 1
_REDUCTION = 0b100101  # x^5 + x^2 + 1
PERMIT_ID_LENGTH = 5
DIGITS = 8  # 40 bits / 5


def mul2(a: int) -> int:
    """Multiply the GF(32) element `a` (0..31) by x, modulo x^5 + x^2 + 1."""
    a <<= 1
    return a ^ _REDUCTION if a & 0b100000 else a


def fold(digits: list[int]) -> int:
    """Fold a∘b = mul2(a) XOR b over `digits` (values 0..31), starting from 0."""
    interim = 0
    for digit in digits:
        interim = mul2(interim) ^ digit
    return interim


def check_digit(digits: list[int]) -> int:
    """Return the check value that makes the fold over `digits` + [check] equal 0."""
    return mul2(fold(digits))


def control_code(permit_id: bytes) -> str:
    """Return the control code of a 5-byte permit id, grouped "XXX-XXX-XXX".

    The first 8 characters are the 40 bits of the id in Crockford Base32 (most significant
    first); the ninth is the check character. Raises ValueError for another id length.
    """
    if len(permit_id) != PERMIT_ID_LENGTH:
        raise ValueError(f"a permit id is {PERMIT_ID_LENGTH} bytes")
    # Base32 of RFC 4648 has the same bit order; only its alphabet differs. The fold is
    # linear, so it is the XOR of what each byte contributes (tables built below).
    text = base64.b32encode(permit_id).decode("ascii").translate(_FROM_RFC4648)
    folded = 0
    for table, byte in zip(_BYTE_FOLDS, permit_id, strict=True):
        folded ^= table[byte]
    text += ALPHABET[mul2(folded)]
    return f"{text[0:3]}-{text[3:6]}-{text[6:9]}"


def _digits(value: int) -> list[int]:
    return [(value >> (5 * (DIGITS - 1 - i))) & 31 for i in range(DIGITS)]


_FROM_RFC4648 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)
# _BYTE_FOLDS[i][b]: the fold of the digits of an id whose byte i is b and whose others are 0.
_BYTE_FOLDS = tuple(
    tuple(fold(_digits(byte << 8 * (PERMIT_ID_LENGTH - 1 - i))) for byte in range(256))
    for i in range(PERMIT_ID_LENGTH)
)


def parse_control_code(text: str) -> bytes:
    """Return the 5-byte permit id of a typed control code; raise MalformedError if it is not one.

    Accepts lower case, spaces and dashes anywhere, O for 0, and I or L for 1. Requires
    exactly 9 characters of the Crockford alphabet with a correct check character.
    """
    if not isinstance(text, str):
        raise MalformedError("a control code is text")
    cleaned = text.upper().replace(" ", "").replace("-", "")
    if len(cleaned) != DIGITS + 1:
        raise MalformedError(f"a control code has {DIGITS + 1} characters")
    try:
        digits = [_VALUES[ch] for ch in cleaned]
    except KeyError as exc:
        raise MalformedError("a control code uses 0-9 and A-Z without U") from exc
    if fold(digits) != 0:
        raise MalformedError("the check character does not match: a character is mistyped")
    value = 0
    for digit in digits[:DIGITS]:
        value = (value << 5) | digit
    return value.to_bytes(PERMIT_ID_LENGTH, "big")
