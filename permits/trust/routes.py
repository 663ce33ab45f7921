"""HTTP routes for the signed lists (public: they are signed and hold no personal data)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response

from permits.api.deps import KeyStoreDep, NowDep, SessionDep, SettingsDep
from permits.policy.service import policy_at
from permits.trust.lists import REVOCATION, TRUST, current_list

router = APIRouter(prefix="/lists", tags=["trust"])
COSE = "application/cose"


def _serve(
    kind: str, session: SessionDep, keystore: KeyStoreDep, now: NowDep, settings: SettingsDep
) -> Response:
    published = current_list(
        session,
        kind=kind,
        keystore=keystore,
        policy=policy_at(session, now),
        now=now,
        refresh_after=timedelta(seconds=settings.list_refresh_seconds),
    )
    return Response(
        published.data,
        media_type=COSE,
        headers={"X-List-Version": str(published.version), "Cache-Control": "public, max-age=60"},
    )


@router.get("/trust-list.cose", response_class=Response, responses={200: {"content": {COSE: {}}}})
def trust_list(
    session: SessionDep, keystore: KeyStoreDep, now: NowDep, settings: SettingsDep
) -> Response:
    """The current trust list: a COSE_Sign1 signed by the regional root key."""
    return _serve(TRUST, session, keystore, now, settings)


@router.get(
    "/revocation-list.cose", response_class=Response, responses={200: {"content": {COSE: {}}}}
)
def revocation_list(
    session: SessionDep, keystore: KeyStoreDep, now: NowDep, settings: SettingsDep
) -> Response:
    """The current revocation list: a COSE_Sign1 signed by the regional root key."""
    return _serve(REVOCATION, session, keystore, now, settings)


@router.get(
    "/root-public-key.pem",
    response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
def root_public_key(keystore: KeyStoreDep) -> Response:
    """The regional root public key that checkpoint devices pin."""
    return Response(
        (keystore.directory / "root-public-key.pem").read_bytes(),
        media_type="application/x-pem-file",
    )
