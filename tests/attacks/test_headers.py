"""Security headers on every page: every GET route of the application (whoever added it),
every mount, and every error page answers with the headers, whatever its status."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount, Route

from permits.app import create_app
from permits.settings import Settings
from permits.trust.keystore import KeyStore
from tests.conftest import Clock
from tests.factories import World

REQUIRED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, BaseRoute]]:
    """Every route with its full path, through included routers (whatever FastAPI's version
    keeps in app.routes: plain routes, or included routers holding their own)."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context = getattr(route, "include_context", None)
            yield from _routes(original.routes, prefix + getattr(context, "prefix", ""))
        else:
            yield prefix + getattr(route, "path", ""), route


def _get_paths(app: FastAPI) -> list[str]:
    """A concrete path for every GET route and mount of the app (path parameters filled)."""
    paths: list[str] = []
    for full_path, route in _routes(list(app.routes)):
        if isinstance(route, Route) and "GET" in (route.methods or set()):
            path = full_path
            for name in route.param_convertors:
                value = str(uuid.uuid4()) if "id" in name else "x"
                path = path.replace(f"{{{name}}}", value).replace(f"{{{name}:path}}", value)
            paths.append(path)
        elif isinstance(route, Mount):
            paths.append(full_path.rstrip("/") + "/no-such-file")
    return sorted(set(paths))


def assert_secure(response: object, where: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in REQUIRED.items():
        assert headers.get(name) == value, f"{where}: {name} is {headers.get(name)!r}"
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, f"{where}: no frame-ancestors in {csp!r}"
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if " " in part.strip())
    script = directives.get("script-src", directives.get("default-src", ""))
    assert "'unsafe-eval'" not in script.split() and "*" not in script.split(), where
    assert "http:" not in script and "https:" not in script, f"{where}: remote scripts"
    if "json" in headers.get("content-type", "") or "html" in headers.get("content-type", ""):
        assert "no-store" in headers.get("cache-control", "") or "max-age" in headers.get(
            "cache-control", ""
        ), where


@pytest.fixture
def all_paths(client: TestClient) -> list[str]:
    paths = _get_paths(client.app)  # type: ignore[arg-type]
    assert len(paths) > 10
    return paths


@pytest.mark.parametrize("who", ["anonymous", "doctor", "admin", "police"])
def test_every_get_route_sends_the_security_headers(
    client: TestClient, world: World, all_paths: list[str], who: str
) -> None:
    headers = {} if who == "anonymous" else world.auth(who)
    statuses = set()
    for path in all_paths:
        response = client.get(path, headers=headers, follow_redirects=False)
        statuses.add(response.status_code)
        assert_secure(response, f"GET {path} as {who} -> {response.status_code}")
    assert statuses & {200} and statuses & {401, 403, 404, 303, 302, 422}


def test_error_pages_send_the_security_headers(client: TestClient, world: World) -> None:
    cases = [
        client.get("/no/such/page"),
        client.post("/api/v1/permits", json={}),  # 401
        client.post("/api/v1/permits", json={}, headers=world.auth("doctor")),  # 422
        client.delete("/api/v1/permits"),  # 405
        client.post("/api/v1/verify", content=b"{", headers=world.auth("police")),
    ]
    for response in cases:
        assert response.status_code >= 400
        assert_secure(response, f"{response.request.method} {response.request.url.path}")


@pytest.fixture
def https_client(
    settings: Settings, engine: object, keystore: KeyStore, clock: Clock, world: World
) -> Iterator[TestClient]:
    del world
    secure = settings.model_copy(update={"public_base_url": "https://permits.example.ge"})
    app = create_app(secure, engine=engine, keystore=keystore, clock=clock)  # type: ignore[arg-type]
    with TestClient(app) as test_client:
        yield test_client


def test_hsts_only_over_https(client: TestClient, https_client: TestClient) -> None:
    assert "strict-transport-security" not in client.get("/healthz").headers
    hsts = https_client.get("/healthz").headers["strict-transport-security"]
    assert "max-age=63072000" in hsts
    over_tls = TestClient(client.app, base_url="https://testserver")  # type: ignore[arg-type]
    assert "strict-transport-security" in over_tls.get("/healthz").headers


def test_a_route_that_sets_its_own_policy_keeps_it(client: TestClient) -> None:
    from permits.ops.headers import with_security_headers

    own = [(b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")]
    merged = dict(with_security_headers(own, https=False))
    assert merged[b"content-security-policy"] == own[0][1]
    assert merged[b"x-content-type-options"] == b"nosniff"
    assert client.get("/healthz").headers["cache-control"] == "no-store"
