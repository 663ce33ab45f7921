"""Logging in and out, sessions, the password rules, throttling and one-time passwords."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from permits.accounts.models import LoginAttempt, WebSession
from permits.accounts.service import create_user_with_one_time_password
from permits.accounts.sessions import ACCOUNT_FAILURES, IDLE_TIMEOUT, LOCK_TIME
from permits.db import write_session
from permits.web.security import SESSION_COOKIE
from tests.workspace.web import PASSWORD, csrf_of, logged_in, login, set_password


def test_login_names_the_institution_and_sets_a_safe_cookie(client, engine, world):
    set_password(engine, world, "doctor")
    response = login(client, "doctor")
    assert response.status_code == 200
    assert "მარნეულის სამედიცინო ცენტრი" in response.text  # Georgian by default
    cookie = next(
        h for h in response.history[0].headers.get_list("set-cookie") if SESSION_COOKIE in h
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    with Session(engine) as session:
        stored = session.exec(select(WebSession)).one()
    token = client.cookies.get(SESSION_COOKIE)
    assert token and stored.token_hash != token  # only the digest is stored


def test_wrong_password_is_refused_without_saying_which(client, engine, world):
    set_password(engine, world, "doctor")
    wrong_user = login(client, "nobody", "whatever-password")
    wrong_password = login(client, "doctor", "not the password")
    assert wrong_user.status_code == wrong_password.status_code == 401
    assert client.cookies.get(SESSION_COOKIE) is None


def test_pages_redirect_to_login_without_a_session(client):
    response = client.get("/?name=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/%3Fname%3Dx"


def test_logout_ends_the_session(client, engine, world):
    logged_in(client, engine, world, "doctor")
    token = client.cookies.get(SESSION_COOKIE)
    home = client.get("/")
    response = client.post("/logout", data={"csrf_token": csrf_of(home.text)})
    assert response.url.path == "/login"
    client.cookies.set(SESSION_COOKIE, token)  # an old cookie replayed
    assert client.get("/", follow_redirects=False).status_code == 303


def test_forms_without_the_csrf_token_are_refused(client, engine, world):
    logged_in(client, engine, world, "doctor")
    response = client.post("/logout", data={})
    assert response.status_code == 403
    other_site = client.post(
        "/logout",
        data={"csrf_token": csrf_of(client.get("/").text)},
        headers={"Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403


def test_idle_session_expires(client, engine, world, clock):
    logged_in(client, engine, world, "doctor")
    assert client.get("/").status_code == 200
    clock.advance(seconds=IDLE_TIMEOUT.total_seconds() + 1)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_failed_logins_lock_the_account_for_a_while(client, engine, world, clock):
    set_password(engine, world, "doctor")
    for _ in range(ACCOUNT_FAILURES):
        assert login(client, "doctor", "wrong password!").status_code == 401
    locked = login(client, "doctor", PASSWORD)  # even the right password
    assert locked.status_code == 429
    assert client.cookies.get(SESSION_COOKIE) is None
    clock.advance(seconds=LOCK_TIME.total_seconds() + 1)
    assert login(client, "doctor", PASSWORD).status_code == 200
    with Session(engine) as session:
        attempts = session.exec(select(LoginAttempt)).all()
    # the refused attempt while locked is not counted again
    assert [a.succeeded for a in attempts].count(False) == ACCOUNT_FAILURES


def test_failed_logins_lock_an_address_across_accounts(client, engine, world):
    set_password(engine, world, "head")
    for index in range(20):
        login(client, f"guess{index}", "wrong password!")
    assert login(client, "head", PASSWORD).status_code == 429


@pytest.mark.parametrize(
    ("new", "repeat", "field_error"),
    [
        ("short1", "short1", "At least 10 characters."),
        ("1234567890123", "1234567890123", "Use at least one letter."),
        ("password123", "password123", "This password is too common"),
        ("qwertyuiop", "qwertyuiop", "This password is too common"),
        ("a fine long password", "another fine password", "The two new passwords differ."),
    ],
)
def test_password_rules(client, engine, world, new, repeat, field_error):
    logged_in(client, engine, world, "doctor")
    client.cookies.set("permits_lang", "en")
    page = client.get("/account/password")
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": new,
            "new_password_repeat": repeat,
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 422
    assert field_error in response.text


def test_change_password_then_log_in_with_it(client, engine, world):
    logged_in(client, engine, world, "doctor")
    page = client.get("/account/password")
    new = "Marneuli clinic night shift"
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": new,
            "new_password_repeat": new,
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 200 and response.url.path == "/"
    client.cookies.clear()
    assert login(client, "doctor", PASSWORD).status_code == 401
    assert login(client, "doctor", new).status_code == 200


def test_one_time_password_must_be_changed_first(client, engine, world, clock):
    with write_session(engine) as session:
        _user, otp = create_user_with_one_time_password(
            session,
            actor=None,
            organisation_id=world.organisations["MRN-CLINIC"].id,
            username="nurse.maka",
            full_name="მაკა ლომიძე",
            roles=["issuer"],
            now=clock(),
        )
    response = login(client, "nurse.maka", otp)
    assert response.url.path == "/account/password"
    assert client.get("/", follow_redirects=False).headers["location"] == "/account/password"
    new = "Maka's own good password"
    page = client.get("/account/password")
    done = client.post(
        "/account/password",
        data={
            "current_password": otp,
            "new_password": new,
            "new_password_repeat": new,
            "csrf_token": csrf_of(page.text),
        },
    )
    assert done.url.path == "/"
    assert "მარნეულის სამედიცინო ცენტრი" in done.text


def test_one_time_password_expires(client, engine, world, clock):
    with write_session(engine) as session:
        _, otp = create_user_with_one_time_password(
            session,
            actor=None,
            organisation_id=world.organisations["MRN-CLINIC"].id,
            username="late.user",
            full_name="Late User",
            roles=["issuer"],
            now=clock(),
        )
    clock.advance(days=8)
    assert login(client, "late.user", otp).status_code == 401


def test_language_switch_is_remembered(client, engine, world):
    logged_in(client, engine, world, "doctor")
    response = client.get("/language/az?next=/")
    assert response.url.path == "/"
    assert "Marneuli Tibb Mərkəzi" in response.text
    assert client.get("/").text.count("Marneuli Tibb Mərkəzi") >= 1
    evil = client.get("/language/en?next=//evil.example/x", follow_redirects=False)
    assert evil.headers["location"] == "/"


def test_idle_timeout_constant_is_sane():
    assert timedelta(minutes=5) < IDLE_TIMEOUT <= timedelta(hours=1)
