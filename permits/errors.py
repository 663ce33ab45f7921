"""One error hierarchy for the whole service; each error knows its HTTP status and code."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field: where, a machine code and a readable message."""

    field: str
    code: str
    message: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


class PermitsError(Exception):
    """Base of every error the service raises on purpose."""

    status_code: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field

    def as_field_errors(self) -> list[FieldError]:
        """Return this error as a list of field errors (one entry, field may be empty)."""
        return [FieldError(field=self.field or "", code=self.code, message=self.message)]


class NotAuthenticated(PermitsError):
    """The caller did not prove who they are."""

    status_code = 401
    default_code = "not_authenticated"


class NotPermitted(PermitsError):
    """The caller is known but may not do this, or not for this organisation."""

    status_code = 403
    default_code = "not_permitted"


class NotFound(PermitsError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    status_code = 404
    default_code = "not_found"


class Conflict(PermitsError):
    """The request contradicts the current state (revoking twice, replacing a replaced permit)."""

    status_code = 409
    default_code = "conflict"


class ServiceUnavailable(PermitsError):
    """A part the service depends on (the database, a key) is not available right now."""

    status_code = 503
    default_code = "unavailable"


class ValidationFailed(PermitsError):
    """Input was rejected; every problem is listed with the field it concerns."""

    status_code = 422
    default_code = "invalid"

    def __init__(self, errors: list[FieldError]) -> None:
        first = errors[0] if errors else FieldError("", "invalid", "invalid input")
        super().__init__(first.message, code=first.code, field=first.field)
        self.errors = errors

    def as_field_errors(self) -> list[FieldError]:
        """Return every field error."""
        return list(self.errors)


class KeyUnavailable(ServiceUnavailable):
    """A private key is missing or cannot be decrypted with the configured passphrase."""

    default_code = "key_unavailable"
