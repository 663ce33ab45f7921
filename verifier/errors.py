"""The one error hierarchy of the verifier.

Callers never see cbor2, base45 or cryptography exceptions, only these:

    VerifierError
    ├── MalformedError      the bytes or text are not a well-formed v1 object
    ├── BadSignatureError   well-formed, but the signature does not verify with the given key
    └── ListError           a trust or revocation list was refused (see `ListError.reason`)
"""

from __future__ import annotations


class VerifierError(Exception):
    """Base class of every error the verifier library raises on purpose."""


class MalformedError(VerifierError):
    """The input is not a well-formed object of format v1 (text, COSE, claims or control code)."""


class BadSignatureError(VerifierError):
    """The object is well-formed but its signature does not verify with the key given."""


class ListError(VerifierError):
    """A trust or revocation list was refused; `reason` says why in one machine-readable word.

    Reasons: "malformed" (not a well-formed list), "wrong_type" (a list of the other kind),
    "bad_signature" (not signed by the pinned root key).
    """

    MALFORMED = "malformed"
    WRONG_TYPE = "wrong_type"
    BAD_SIGNATURE = "bad_signature"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"
