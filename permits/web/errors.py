"""Errors of the web layer (part of the one hierarchy in permits.errors)."""

from __future__ import annotations

from permits.errors import NotAuthenticated, NotPermitted, PermitsError


class LoginRequired(NotAuthenticated):
    """A page needs a logged-in user: the browser is sent to the login page."""

    default_code = "login_required"


class PasswordChangeRequired(NotPermitted):
    """The user logged in with a one-time password and must choose their own first."""

    default_code = "password_change_required"


class CsrfFailed(NotPermitted):
    """A form came without this browser's CSRF token, or from another site."""

    default_code = "csrf_failed"


class PayloadTooLarge(PermitsError):
    """The request body is larger than the page accepts."""

    status_code = 413
    default_code = "too_large"
