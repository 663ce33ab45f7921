"""Log in, log out, change the password: the account pages (templates/auth/)."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from permits.accounts.service import change_password
from permits.accounts.sessions import (
    ABSOLUTE_TIMEOUT,
    LoginFailed,
    LoginLocked,
    login,
    logout,
)
from permits.api.deps import NowDep
from permits.db import write_session
from permits.errors import ValidationFailed
from permits.web.deps import PageUserDep, current_session_user
from permits.web.flash import flash, redirect
from permits.web.forms import FormState
from permits.web.routing import LOGIN_PATH, PASSWORD_PATH, page_router, safe_next
from permits.web.security import SESSION_COOKIE, delete_cookie, set_cookie
from permits.web.templating import Pages

router = page_router()
pages = Pages("web")

Text = Annotated[str, Form(max_length=200)]
Secret = Annotated[str, Form(max_length=400)]


def client_address(request: Request) -> str:
    """The address a request came from (the proxy's, unless the server trusts forwarding)."""
    return request.client.host if request.client else "unknown"


@router.get(LOGIN_PATH)
def login_form(request: Request, now: NowDep, next: str = "/") -> Response:
    """The login page (a logged-in user goes straight on)."""
    target = safe_next(next)
    if current_session_user(request, now) is not None:
        return redirect(request, target)
    form = FormState()
    form.set("next", target)
    return pages.render(request, "auth/login.html", {"form": form})


@router.post(LOGIN_PATH)
def login_submit(
    request: Request,
    now: NowDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Secret = "",
    next: Text = "/",
) -> Response:
    """Check the password; on success start a session and go on (to the password page first
    when a one-time password must be changed)."""
    target = safe_next(next)
    _ = pages.gettext(request)
    form = FormState()
    form.set("username", username)
    form.set("next", target)
    try:
        with write_session(request.app.state.engine) as session:
            token, user = login(
                session,
                username=username,
                password=password,
                address=client_address(request),
                user_agent=request.headers.get("user-agent"),
                now=now,
            )
    except LoginLocked as exc:
        minutes = max(1, math.ceil(exc.retry_after.total_seconds() / 60))
        message = _("Too many failed attempts. Try again in %(minutes)s minutes.")
        form.add_error("", message % {"minutes": minutes})
        return pages.render(request, "auth/login.html", {"form": form}, status_code=429)
    except LoginFailed:
        form.add_error("", _("Wrong user name or password."))
        return pages.render(request, "auth/login.html", {"form": form}, status_code=401)
    if user.must_change_password:
        flash(request, _("Welcome. Choose your own password to continue."), "info")
        response = redirect(request, PASSWORD_PATH + "?next=" + target)
    else:
        response = redirect(request, target)
    set_cookie(
        request, response, SESSION_COOKIE, token, max_age=int(ABSOLUTE_TIMEOUT.total_seconds())
    )
    return response


@router.post("/logout")
def logout_submit(request: Request, now: NowDep) -> Response:
    """End the session and return to the login page."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with write_session(request.app.state.engine) as session:
            logout(session, token=token, now=now)
    _ = pages.gettext(request)
    flash(request, _("You have logged out."), "success")
    response = redirect(request, LOGIN_PATH)
    delete_cookie(request, response, SESSION_COOKIE)
    return response


@router.get(PASSWORD_PATH)
def password_form(request: Request, user: PageUserDep, next: str = "/") -> Response:
    """The change-password page: the current password, the new one twice."""
    form = FormState()
    form.set("next", safe_next(next))
    return pages.render(
        request, "auth/password.html", {"form": form, "first_time": user.must_change_password}
    )


@router.post(PASSWORD_PATH)
def password_submit(
    request: Request,
    user: PageUserDep,
    now: NowDep,
    current_password: Secret = "",
    new_password: Secret = "",
    new_password_repeat: Secret = "",
    next: Text = "/",
) -> Response:
    """Change the password; every other session of the user ends."""
    _ = pages.gettext(request)
    form = FormState()
    form.set("next", safe_next(next))
    try:
        with write_session(request.app.state.engine) as session:
            change_password(
                session,
                caller=user.caller,
                current=current_password,
                new=new_password,
                repeat=new_password_repeat,
                now=now,
                keep_session_id=user.session_id,
            )
    except ValidationFailed as exc:
        form.add_errors(exc.errors, _)
        return pages.render(
            request,
            "auth/password.html",
            {"form": form, "first_time": user.must_change_password},
            status_code=422,
        )
    flash(request, _("Your password has been changed."), "success")
    return redirect(request, safe_next(next))
