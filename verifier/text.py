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


def base45_decode(text: str) -> bytes:
    """Return the bytes of the Base45 `text`; raise MalformedError when it is not valid Base45.

    Only the 45 upper-case characters of RFC 9285 are accepted, in groups of three (a final
    group of two), and no group may exceed its byte range.
    """
    if not isinstance(text, str):
        raise MalformedError("Base45 input must be text")
    if "\n" in text:  # the base45 package strips trailing newlines; we do not
        raise MalformedError("not valid Base45: line break")
    try:
        return base45.b45decode(text)
    except (ValueError, TypeError, KeyError, UnicodeError) as exc:
        raise MalformedError("not valid Base45") from exc


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
