"""Small helpers for API tests: issue a sample permit, load the published lists, verify."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from permits.trust.keystore import KeyStore
from tests.factories import SAMPLES, World
from verifier.lists import load_revocation_list, load_trust_list
from verifier.model import VerificationResult
from verifier.verify import Verifier


def issue(
    client: TestClient, world: World, body: dict[str, Any], *, user: str = "doctor"
) -> dict[str, Any]:
    """Issue `body` as `user`; assert it was created and return the permit."""
    response = client.post("/api/v1/permits", json=body, headers=world.auth(user))
    assert response.status_code == 201, response.text
    permit: dict[str, Any] = response.json()
    return permit


def replace(
    client: TestClient, world: World, permit: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    """Replace `permit` with `body` as its issuer ("doctor"); assert it worked and return the
    new permit."""
    response = client.post(
        f"/api/v1/permits/{permit['id']}/replace", json=body, headers=world.auth("doctor")
    )
    assert response.status_code == 201, response.text
    new: dict[str, Any] = response.json()
    return new


def issue_sample(client: TestClient, world: World, category: str, now: datetime) -> dict[str, Any]:
    """Issue the sample permit of `category` as the user who may issue it."""
    user, make = SAMPLES[category]
    return issue(client, world, make(now), user=user)


def device_verifier(client: TestClient, keystore: KeyStore) -> Verifier:
    """A verifier as a checkpoint device builds it: from the published lists and the pinned root."""
    root = keystore.root_public_key()
    trust = load_trust_list(
        client.get("/api/v1/lists/trust-list.cose").content, root_public_key=root
    )
    revocation = load_revocation_list(
        client.get("/api/v1/lists/revocation-list.cose").content, root_public_key=root
    )
    return Verifier(trust, revocation)


def verify_now(
    client: TestClient, keystore: KeyStore, qr_text: str, at: datetime
) -> VerificationResult:
    """Verify `qr_text` at `at` with freshly downloaded lists."""
    return device_verifier(client, keystore).verify(qr_text, at=at)
