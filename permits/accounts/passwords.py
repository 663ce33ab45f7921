"""Password hashing with argon2id, the password rules, and one-time passwords.

The rules: at least `MIN_LENGTH` characters, at least one letter, not one of the 30,000
most common passwords of real leaks (the list zxcvbn ships), not such a password with
digits or punctuation tacked on, and not the user name.
"""

from __future__ import annotations

import secrets
import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 200
# argon2id, the library's defaults (RFC 9106 "low memory" profile: t=3, m=64 MiB, p=4)
_hasher = PasswordHasher(type=Type.ID)
_DUMMY_HASH = _hasher.hash("a password nobody has, for timing")
# no 0/O, 1/l/I: read aloud or copied from paper without mistakes
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def hash_password(password: str) -> str:
    """Return an argon2id hash of `password`."""
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches `password_hash` (never raises on a bad or missing hash).

    With no hash, a dummy hash is checked all the same, so that a missing account takes as
    long to refuse as a wrong password.
    """
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords (zxcvbn's list, from real password leaks)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """True when `password` is a common password, maybe with digits or symbols added."""
    lowered = password.lower()
    common = common_passwords()
    if lowered in common:
        return True
    padding = "0123456789!@#$%^&*.?_-+= "
    stem = lowered.rstrip(padding)
    core = stem.lstrip(padding)
    return any(len(part) >= 4 and part in common for part in (stem, core))


def password_problem(password: str, *, username: str = "") -> str | None:
    """Return the code of the first rule `password` breaks, or None when it is acceptable.

    Codes: password_too_short, password_too_long, password_needs_letter,
    password_common, password_is_username.
    """
    if len(password) < MIN_LENGTH:
        return "password_too_short"
    if len(password) > MAX_LENGTH:
        return "password_too_long"
    if not any(unicodedata.category(ch).startswith("L") for ch in password):
        return "password_needs_letter"
    if username and username.lower() in password.lower():
        return "password_is_username"
    if is_common(password):
        return "password_common"
    return None


def one_time_password() -> str:
    """Return a fresh one-time password, e.g. "k7pm-x3wq-9rta" (14 characters, ~74 bits)."""
    groups = ["".join(secrets.choice(_OTP_ALPHABET) for _ in range(4)) for _ in range(3)]
    return "-".join(groups)
