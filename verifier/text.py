"""The text form of a permit: "MP1:" followed by the Base45 (RFC 9285) of the COSE_Sign1 bytes.

Base45 keeps the text inside the QR alphanumeric character set, so the code is encoded in
alphanumeric mode (5.5 bits a character) instead of byte mode (8 bits).
"""

from __future__ import annotations

import base45

from verifier.errors import MalformedError

PREFIX = "MP1:"
"""Format version 1. Another prefix is another format and is refused."""

MAX_TEXT_LENGTH = 4096
"""Longest QR text accepted (after trimming surrounding whitespace)."""


def base45_encode(data: bytes) -> str:
    """Return the RFC 9285 Base45 text of `data` (always succeeds)."""
    return base45.b45encode(bytes(data)).decode("ascii")


ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
"""The 45 characters of RFC 9285, in value order."""

# Each byte of text becomes its value (0..44), or 255 when it is not in the alphabet.
_VALUES = bytes(ALPHABET.index(chr(c)) if chr(c) in ALPHABET else 255 for c in range(256))
_TAIL_MAX = 0xFF  # a final group of two characters carries one byte


def base45_decode(text: str) -> bytes:
    """Return the bytes of the Base45 `text`; raise MalformedError when it is not valid Base45.

    Only the 45 upper-case characters of RFC 9285 are accepted, in groups of three (a final
    group of two), and no group may exceed its byte range. Written for speed (a checkpoint
    decodes every scan): one translate() to values, then the groups' sums c + 45d + 2025e
    computed all at once, each group in a 32-bit lane of one big integer (no sum reaches
    2**17, so no lane carries into the next).
    """
    if not isinstance(text, str):
        raise MalformedError("Base45 input must be text")
    try:
        values = text.encode("ascii").translate(_VALUES)
    except UnicodeEncodeError as exc:
        raise MalformedError("not valid Base45: a character outside its alphabet") from exc
    if 255 in values:
        raise MalformedError("not valid Base45: a character outside its alphabet")
    full, rest = divmod(len(values), 3)
    if rest == 1:
        raise MalformedError("not valid Base45: a lone character at the end")
    end = 3 * full
    total = 0
    for offset, weight in ((0, 1), (1, 45), (2, 2025)):
        lanes = bytearray(4 * full)
        lanes[0::4] = values[offset:end:3]
        total += weight * int.from_bytes(lanes, "little")
    sums = total.to_bytes(4 * full, "little")  # lane k: group k's value, little-endian
    if sums[2::4].count(0) != full:  # a third byte in some lane: a group over 0xFFFF
        raise MalformedError("not valid Base45: a group exceeds two bytes")
    data = bytearray(2 * full)
    data[0::2], data[1::2] = sums[1::4], sums[0::4]  # each group as two bytes, big-endian
    if rest:
        tail = values[end] + 45 * values[end + 1]
        if tail > _TAIL_MAX:
            raise MalformedError("not valid Base45: the final group exceeds one byte")
        data.append(tail)
    return bytes(data)


def encode_qr_text(cose_bytes: bytes) -> str:
    """Return the QR text of a COSE_Sign1 message: "MP1:" + Base45(cose_bytes)."""
    return PREFIX + base45_encode(cose_bytes)


def decode_qr_text(text: object) -> bytes:
    """Return the COSE bytes carried by a QR text; raise MalformedError for anything else.

    Surrounding whitespace is trimmed. The text must be a str of at most MAX_TEXT_LENGTH
    characters that starts with exactly "MP1:" followed by valid Base45.
    """
    if not isinstance(text, str):
        raise MalformedError(f"a QR text must be a string, not {type(text).__name__}")
    if len(text) > MAX_TEXT_LENGTH * 4:  # bound the work of strip() on absurd input
        raise MalformedError(f"text longer than {MAX_TEXT_LENGTH} characters")
    text = text.strip()
    if not text:
        raise MalformedError("empty text")
    if len(text) > MAX_TEXT_LENGTH:
        raise MalformedError(f"text longer than {MAX_TEXT_LENGTH} characters")
    if not text.startswith(PREFIX):
        raise MalformedError(f"not a permit: the text does not start with {PREFIX}")
    body = text[len(PREFIX) :]
    if not body:
        raise MalformedError("nothing after the prefix")
    return base45_decode(body)
