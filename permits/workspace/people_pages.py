"""The organisation's users and API tokens, managed by its head: accounts with one-time
passwords, password resets, deactivation; tokens shown once and revocable."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import Response

from permits.accounts import service as accounts
from permits.accounts.caller import Caller
from permits.accounts.models import ApiToken, User
from permits.accounts.roles import USER_MANAGING_ROLES, assignable_roles
from permits.api.deps import NowDep, SessionDep
from permits.db import write_session
from permits.errors import FieldError, NotFound, PermitsError
from permits.web.deps import page_caller_with
from permits.web.flash import flash, redirect
from permits.web.forms import FormState, error_text
from permits.web.routing import page_router
from permits.web.templating import Pages
from permits.workspace.context import end_read, organisation_of

router = page_router(prefix="/workspace")
pages = Pages("workspace")
ManagerDep = Annotated[Caller, Depends(page_caller_with(USER_MANAGING_ROLES))]
Text = Annotated[str, Form(max_length=200)]
ROLE_NAMES = {
    "issuer": "Issuer (doctor, clinic staff)",
    "org_head": "Head of the institution",
    "municipality_officer": "Municipality officer",
    "ministry_officer": "Ministry officer",
    "regional_admin": "Regional administrator",
    "police": "Police officer",
}


def _own_user(session: Any, caller: Caller, user_id: int) -> User:
    """A user of the caller's own organisation (these pages manage nobody else)."""
    user = session.get(User, user_id)
    if user is None or user.organisation_id != caller.organisation_id:
        raise NotFound("no such user")
    return user


def _own_token(session: Any, caller: Caller, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.organisation_id != caller.organisation_id:
        raise NotFound("no such token")
    return token


def _users_page(
    request: Request,
    session: Any,
    caller: Caller,
    form: FormState,
    *,
    shown_password: tuple[str, str] | None = None,
    status: int = 200,
) -> Response:
    organisation = organisation_of(session, caller)
    _ = pages.gettext(request)
    users = accounts.organisation_users(
        session, actor=caller, organisation_id=caller.organisation_id
    )
    roles = [(r, _(ROLE_NAMES[r])) for r in assignable_roles(organisation.kind)]
    return pages.render(
        request,
        "workspace/users.html",
        {
            "form": form,
            "users": users,
            "roles": roles,
            "role_names": {k: _(v) for k, v in ROLE_NAMES.items()},
            "shown_password": shown_password,
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/users")
def users_page(request: Request, caller: ManagerDep, session: SessionDep) -> Response:
    """The organisation's users, and a form to add one."""
    return _users_page(request, session, caller, FormState())


@router.post("/users")
def create_user(
    request: Request,
    caller: ManagerDep,
    session: SessionDep,
    now: NowDep,
    username: Text = "",
    full_name: Text = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Add a user; their one-time password is shown once, on this page only."""
    _ = pages.gettext(request)
    form = FormState.from_pairs(getattr(request.state, "form_snapshot", []))
    end_read(session)
    try:
        with write_session(request.app.state.engine) as writer:
            user, password = accounts.create_user_with_one_time_password(
                writer,
                actor=caller,
                organisation_id=caller.organisation_id,
                username=username,
                full_name=full_name,
                roles=list(roles or []),
                now=now,
            )
    except PermitsError as exc:
        form.add_errors(exc.as_field_errors(), _)
        return _users_page(request, session, caller, form, status=exc.status_code)
    return _users_page(
        request, session, caller, FormState(), shown_password=(user.username, password)
    )


@router.post("/users/{user_id}/reset")
def reset_password(
    request: Request, user_id: int, caller: ManagerDep, session: SessionDep, now: NowDep
) -> Response:
    """Give a user a new one-time password (shown once); their sessions end."""
    _own_user(session, caller, user_id)
    end_read(session)
    with write_session(request.app.state.engine) as writer:
        password = accounts.reset_password(writer, actor=caller, user_id=user_id, now=now)
        user = writer.get(User, user_id)
        assert user is not None
        name = user.username
    return _users_page(request, session, caller, FormState(), shown_password=(name, password))


@router.post("/users/{user_id}/active")
def set_active(
    request: Request,
    user_id: int,
    caller: ManagerDep,
    session: SessionDep,
    now: NowDep,
    active: Annotated[str, Form(max_length=1)] = "0",
) -> Response:
    """Activate or deactivate a user."""
    _ = pages.gettext(request)
    _own_user(session, caller, user_id)
    end_read(session)
    try:
        with write_session(request.app.state.engine) as writer:
            accounts.set_active(
                writer, actor=caller, user_id=user_id, active=active == "1", now=now
            )
    except PermitsError as exc:
        if exc.status_code == 404:
            raise
        flash(request, error_text(exc.as_field_errors()[0], _), "error")
        return redirect(request, "/workspace/users")
    flash(request, _("Saved."), "success")
    return redirect(request, "/workspace/users")


def _tokens_page(
    request: Request,
    session: Any,
    caller: Caller,
    form: FormState,
    *,
    shown_token: str | None = None,
    status: int = 200,
) -> Response:
    _ = pages.gettext(request)
    users = [
        u
        for u in accounts.organisation_users(
            session, actor=caller, organisation_id=caller.organisation_id
        )
        if u.active
    ]
    roles = sorted({r for u in users for r in u.role_set})
    return pages.render(
        request,
        "workspace/tokens.html",
        {
            "form": form,
            "tokens": accounts.organisation_tokens(
                session, actor=caller, organisation_id=caller.organisation_id
            ),
            "users": users,
            "roles": [(r, _(ROLE_NAMES.get(r, r))) for r in roles],
            "role_names": {k: _(v) for k, v in ROLE_NAMES.items()},
            "shown_token": shown_token,
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/tokens")
def tokens_page(request: Request, caller: ManagerDep, session: SessionDep) -> Response:
    """The organisation's API tokens for clinic systems."""
    return _tokens_page(request, session, caller, FormState())


@router.post("/tokens")
def create_token(
    request: Request,
    caller: ManagerDep,
    session: SessionDep,
    now: NowDep,
    user_id: Annotated[str, Form(max_length=12)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    name: Text = "",
) -> Response:
    """Create a token for one user and one role; it is shown once, on this page only."""
    _ = pages.gettext(request)
    form = FormState.from_pairs(getattr(request.state, "form_snapshot", []))
    if not user_id.isdigit():
        form.add_error("user_id", error_text(FieldError("user_id", "required", ""), _))
        return _tokens_page(request, session, caller, form, status=422)
    _own_user(session, caller, int(user_id))
    end_read(session)
    try:
        with write_session(request.app.state.engine) as writer:
            token = accounts.create_api_token(
                writer,
                actor=caller,
                user_id=int(user_id),
                role=role,
                name=name,
                now=now,
            )
    except PermitsError as exc:
        form.add_errors(exc.as_field_errors(), _)
        return _tokens_page(request, session, caller, form, status=exc.status_code)
    return _tokens_page(request, session, caller, FormState(), shown_token=token)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: int, caller: ManagerDep, session: SessionDep, now: NowDep
) -> Response:
    """Revoke a token from now on."""
    _ = pages.gettext(request)
    _own_token(session, caller, token_id)
    end_read(session)
    try:
        with write_session(request.app.state.engine) as writer:
            accounts.revoke_api_token(writer, actor=caller, token_id=token_id, now=now)
    except PermitsError as exc:
        if exc.status_code == 404:
            raise
        flash(request, error_text(exc.as_field_errors()[0], _), "error")
        return redirect(request, "/workspace/tokens")
    flash(request, _("The token is revoked."), "success")
    return redirect(request, "/workspace/tokens")
