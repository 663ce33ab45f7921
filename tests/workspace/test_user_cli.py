"""`permits user create` prints a one-time password that logs in and must be changed."""

from __future__ import annotations

import re

import pytest

from permits.cli import main
from permits.timezone import utcnow
from tests.workspace.web import login


def _password(out: str) -> str:
    match = re.search(r"\(shown once\): (\S+)", out)
    assert match, out
    return match.group(1)


def test_user_create_and_reset_from_the_command_line(
    client, settings, engine, world, clock, capsys, monkeypatch
):
    monkeypatch.setattr("permits.cli.get_settings", lambda: settings)
    clock.set(utcnow())  # the command stamps the one-time password with the real time
    create = ["user", "create", "--org", "MRN-CLINIC", "--username", "Nurse.Eka"]
    assert main([*create, "--full-name", "ეკა ლომიძე", "--roles", "issuer"]) == 0
    password = _password(capsys.readouterr().out)
    assert login(client, "nurse.eka", password).url.path == "/account/password"
    assert main(["user", "reset-password", "--username", "nurse.eka"]) == 0
    second = _password(capsys.readouterr().out)
    assert second != password
    client.cookies.clear()
    assert login(client, "nurse.eka", password).status_code == 401
    assert login(client, "nurse.eka", second).url.path == "/account/password"
    bad_org = ["user", "create", "--org", "NOPE", "--username", "x.y", "--full-name", "X Y"]
    assert main([*bad_org, "--roles", "issuer"]) == 1


@pytest.mark.parametrize("roles", ["police", "nonsense"])
def test_roles_are_checked(settings, engine, world, monkeypatch, roles):
    monkeypatch.setattr("permits.cli.get_settings", lambda: settings)
    # the operator may give any existing role, never an unknown one
    command = ["user", "create", "--org", "KK-ADMIN", "--username", f"u.{roles}"]
    code = main([*command, "--full-name", "Ulvi Aliyev", "--roles", roles])
    assert code == (0 if roles == "police" else 1)
