"""HTTP routes for checkpoint devices: online verification (records a check), offline checks
uploaded, the checkpoint registry to choose from."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from permits.accounts.caller import Caller
from permits.api.deps import (
    BearerTokenDep,
    CallerDep,
    CheckWritesDep,
    NowDep,
    ReadFirstSessionDep,
    SessionDep,
    VerifierCacheDep,
    as_caller,
)
from permits.checks.schemas import (
    CheckpointOut,
    CheckpointsOut,
    DeviceChecksIn,
    DeviceChecksOut,
    PersonView,
    VerifyIn,
    VerifyOut,
)
from permits.checks.service import (
    OnlineCheck,
    VerifierCache,
    upload_device_checks,
    verify_online,
    verify_scanned,
)
from permits.issuance.plates import format_plate
from permits.oversight.checkpoints import device_checkpoints
from verifier.verify import Verifier

router = APIRouter(tags=["checks"])


@router.post("/verify", response_model=VerifyOut)
async def verify(
    body: VerifyIn,
    request: Request,
    token: BearerTokenDep,
    cache: VerifierCacheDep,
    now: NowDep,
    group_commit: CheckWritesDep,
) -> VerifyOut:
    """Verify a permit online and record the check (checkpoint, officer, time, result)."""
    if body.qr_text and not body.control_code:  # a scanned code: the busy path
        return await scanned_answer(
            request.app.state, token=token, qr_text=body.qr_text, checkpoint=body.checkpoint
        )

    def work(session: Session, caller: Caller) -> VerifyOut:
        outcome = verify_online(
            session,
            caller=caller,
            cache=cache,
            qr_text=body.qr_text,
            control_code=body.control_code,
            checkpoint=body.checkpoint,
            now=now,
            group_commit=group_commit,
        )
        return _verify_out(outcome)

    return await as_caller(request, token, work)


async def scanned_answer(state: State, *, token: str, qr_text: str, checkpoint: str) -> VerifyOut:
    """The answer to a scanned code checked online at `checkpoint` by the caller `token`
    stands for, with the app's clock, verifier and check lane (`state`); the check is stored.
    Raises what `verify_scanned` raises. Both the route and `ScanPathMiddleware` answer so.
    """
    now: datetime = state.clock()
    cache: VerifierCache = state.verifier_cache
    scanned = await verify_scanned(
        token=token,
        verifier=cache.current() or await _refreshed(state, cache, now),
        qr_text=qr_text,
        checkpoint=checkpoint,
        now=now,
        group_commit=state.check_writes,
    )
    return _verify_out(scanned)


async def _refreshed(state: State, cache: VerifierCache, now: datetime) -> Verifier:
    """The verifier of the newest trust list, read (or published) in a worker thread."""

    def load() -> Verifier:
        with Session(state.read_engine) as session:
            return cache.get(session, now)

    return await run_in_threadpool(load)


def _verify_out(outcome: OnlineCheck) -> VerifyOut:
    result, claims = outcome.result, outcome.result.claims
    out = VerifyOut(
        status=result.status.value,
        reason=result.reason,
        valid=result.valid,
        control_code=result.control_code,
        warnings=list(result.warnings),
        check_id=outcome.check_id,
        issuer=result.issuer.code if result.issuer else None,
    )
    if claims is not None:
        out.category = claims.category
        out.persons = [
            PersonView(
                role=p.role.name.lower(),
                name=p.name,
                document=p.document,
                foreign_document=p.foreign_document,
            )
            for p in claims.persons
        ]
        out.plate = format_plate(claims.plate) if claims.plate else None
        out.plate_freeform = claims.plate_freeform
        out.vehicle_kind = claims.vehicle_kind.name.lower() if claims.vehicle_kind else None
        out.make_model = claims.make_model
        out.route_from, out.route_to, out.route_note = (
            claims.route_from,
            claims.route_to,
            claims.route_note,
        )
        out.not_before, out.expires = claims.not_before, claims.expires
        out.windows = [[w.start, w.end] for w in claims.windows]
        out.weekdays = claims.weekdays
    return out


@router.post("/checks/device", response_model=DeviceChecksOut)
def upload_device_checks_route(
    body: DeviceChecksIn, session: SessionDep, caller: CallerDep, now: NowDep
) -> DeviceChecksOut:
    """Upload the checks a checkpoint device recorded offline (officer's token; idempotent
    per device_check_id: records already stored come back as duplicates)."""
    outcome = upload_device_checks(session, caller=caller, checks=body.checks, now=now)
    return DeviceChecksOut(stored=outcome.stored, duplicates=outcome.duplicates)


@router.get("/checkpoints", response_model=CheckpointsOut)
def checkpoints_route(session: ReadFirstSessionDep, caller: CallerDep) -> CheckpointsOut:
    """The registry's active checkpoints, for a checkpoint device to offer its officer (so
    that checks carry the registry's codes, which the administration's maps and anomaly
    checks rely on)."""
    return CheckpointsOut(
        checkpoints=[
            CheckpointOut(
                code=c.code,
                names={"ka": c.name_ka, "az": c.name_az, "en": c.name_en},
                municipality=c.municipality,
            )
            for c in device_checkpoints(session, caller=caller)
        ]
    )
