"""Form state for pages: the values typed, and errors by field in the user's language.

    form = FormState.from_pairs(fields)
    try: ...
    except ValidationFailed as exc:
        form.add_errors(exc.errors, gettext, field_name=my_mapping)

Templates show them with the macros of `web/forms.html` (`forms.input(form, "name", ...)`).
Error texts: an error's `code` is looked up in `ERROR_MESSAGES` (English msgids that areas
extend with `add_error_messages`); an unknown code falls back to the error's own message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from permits.errors import FieldError

# code -> English message (a gettext msgid; may use %(name)s from the error's params)
ERROR_MESSAGES: dict[str, str] = {
    "required": "This field is required.",
    "too_long": "This is too long.",
    "invalid": "This value is not valid.",
    "not_a_number": "Enter a number.",
    "not_a_date": "Enter a date as YYYY-MM-DD.",
    "not_a_time": "Enter a time as HH:MM.",
    "csrf_failed": "This form has expired. Reload the page and try again.",
    "login_failed": "Wrong user name or password.",
    "login_locked": "Too many failed attempts. Try again in %(minutes)s minutes.",
    "current_password_wrong": "The current password is wrong.",
    "password_too_short": "At least 10 characters.",
    "password_too_long": "At most 200 characters.",
    "password_needs_letter": "Use at least one letter.",
    "password_common": "This password is too common; choose another.",
    "password_is_username": "The password must not contain your user name.",
    "passwords_differ": "The two new passwords differ.",
    "password_unchanged": "Choose a password different from the current one.",
    "username_invalid": "3-64 lower-case Latin letters, digits, dots, dashes or underscores.",
    "user_exists": "This user name is taken.",
    "full_name_invalid": "Enter the full name.",
    "role_invalid": "Choose at least one of the roles offered.",
    "role_not_held": "The user does not hold this role.",
    "token_name_invalid": "Name the system that will use the token (2-100 characters).",
    "user_inactive": "The user is inactive.",
}


def add_error_messages(messages: dict[str, str]) -> None:
    """Register English messages (gettext msgids) for more error codes."""
    ERROR_MESSAGES.update(messages)


def error_text(error: FieldError, gettext: Callable[[str], str]) -> str:
    """The message for `error` in the language of `gettext`."""
    template = ERROR_MESSAGES.get(error.code)
    if template is None:
        return gettext(error.message)
    text = gettext(template)
    try:
        return text % error.params if error.params else text
    except (KeyError, TypeError, ValueError):
        return text


@dataclass
class FormState:
    """What a form holds: values by field name (several for repeated fields), and errors."""

    values: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, Any]]) -> FormState:
        """A form filled from (name, value) pairs (text values only)."""
        state = cls()
        for name, value in pairs:
            if isinstance(value, str):
                state.values.setdefault(name, []).append(value)
        return state

    def value(self, name: str, default: str = "") -> str:
        """The (first) value of a field."""
        values = self.values.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        """Every value of a repeated field (checkboxes)."""
        return list(self.values.get(name, []))

    def set(self, name: str, value: str | list[str]) -> None:
        """Set a field's value(s)."""
        self.values[name] = list(value) if isinstance(value, list) else [value]

    def setdefault(self, name: str, value: str | list[str]) -> None:
        """Set a field's value unless it has one."""
        if name not in self.values:
            self.set(name, value)

    def error(self, name: str) -> list[str]:
        """The messages for a field."""
        return self.errors.get(name, [])

    def add_error(self, name: str, message: str) -> None:
        """Attach a message to a field ("" for the whole form)."""
        if not name:
            self.general.append(message)
        elif message not in self.errors.setdefault(name, []):
            self.errors[name].append(message)

    def add_errors(
        self,
        errors: Iterable[FieldError],
        gettext: Callable[[str], str],
        *,
        field_name: Callable[[str], str | None] = lambda f: f,
    ) -> None:
        """Attach field errors from the domain, mapping their field paths to form fields
        (`field_name` returns None for a path with no field: the error goes to the top)."""
        for error in errors:
            name = field_name(error.field) if error.field else None
            self.add_error(name or "", error_text(error, gettext))

    @property
    def has_errors(self) -> bool:
        """True when any error is attached."""
        return bool(self.errors or self.general)
