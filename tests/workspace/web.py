"""Helpers for page tests: passwords for the world's users, logging in through the form,
reading the CSRF token of a page."""

from __future__ import annotations

import re
from functools import lru_cache

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from permits.accounts.models import User
from permits.accounts.passwords import hash_password
from permits.db import write_session
from tests.factories import World

PASSWORD = "Kvemo-Kartli-2026 permits"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@lru_cache(maxsize=4)
def _hash(password: str) -> str:
    return hash_password(password)


def set_password(engine: Engine, world: World, username: str, password: str = PASSWORD) -> None:
    """Give a world user a password (argon2id) they need not change."""
    with write_session(engine) as session:
        user = session.get(User, world.users[username].id)
        assert user is not None
        user.password_hash = _hash(password)
        user.must_change_password = False
        session.add(user)
        session.commit()


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/"):
    """Log in through the login form; return the final response (redirects followed)."""
    page = client.get("/login")
    assert page.status_code == 200, page.text
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "next": next_path,
            "csrf_token": csrf_of(page.text),
        },
    )


def logged_in(client: TestClient, engine: Engine, world: World, username: str) -> TestClient:
    """Set a password for `username`, log in, and return the client (now holding a session)."""
    set_password(engine, world, username)
    response = login(client, username)
    assert response.status_code == 200, response.text
    return client


def user_row(engine: Engine, username: str) -> User:
    """Read a user fresh from the database."""
    from sqlmodel import select

    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return user
