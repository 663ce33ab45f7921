"""The Verifier: ordered checks, never an exception, schedules in Tbilisi time, warnings, speed."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import verifier.verify as verify_module
from tests.vectors.generate import (
    BOLNISI,
    CLINIC,
    FARM,
    MON,
    WED,
    Keys,
    at,
    claims,
    epoch,
    revocation_list,
    signed,
    trust_list,
)
from verifier import keys, text
from verifier.errors import ListError
from verifier.model import IssuerKey, Status, Window
from verifier.verify import Verifier, in_schedule, verify_permit

K = Keys.fresh()
TRUST = trust_list(K, 3)
REVOCATION = revocation_list()
VERIFIER = Verifier(TRUST, REVOCATION)
STAFF = claims("verify-staff")
QR = signed(STAFF, K.clinic)
TUESDAY = at(1, 10)
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def test_a_valid_permit_carries_claims_issuer_control_code_and_no_warning() -> None:
    result = VERIFIER.verify(QR, at=TUESDAY)
    assert result.valid
    assert result.status is Status.VALID
    assert result.claims == STAFF
    assert result.issuer is not None
    assert result.issuer.code == CLINIC
    assert result.control_code is not None
    assert len(result.control_code) == 11
    assert result.at == TUESDAY
    assert result.warnings == ()
    assert result.reason == "valid until 2026-11-16 00:00"


def test_the_moment_may_be_given_in_any_zone() -> None:
    farm = signed(claims("verify-farm", **FARM), K.bolnisi)
    inside = at(1, 6, 30)  # 06:30 in Tbilisi is 02:30 UTC
    assert VERIFIER.verify(farm, at=inside.astimezone(UTC)).valid
    assert not VERIFIER.verify(farm, at=inside.replace(tzinfo=UTC)).valid  # 06:30 UTC = 10:30


def test_a_naive_moment_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        VERIFIER.verify(QR, at=datetime(2026, 11, 3, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        VERIFIER.verify(QR, at="2026-11-03T10:00:00+04:00")  # type: ignore[arg-type]


def test_claims_and_issuer_only_after_the_signature_verified() -> None:
    stranger = VERIFIER.verify(signed(STAFF, K.stranger), at=TUESDAY)
    assert stranger.status is Status.UNKNOWN_ISSUER
    assert stranger.claims is None
    assert stranger.issuer is None
    tampered = QR[:60] + ("A" if QR[60] != "A" else "B") + QR[61:]
    bad = VERIFIER.verify(tampered, at=TUESDAY)
    assert bad.status in (Status.BAD_SIGNATURE, Status.MALFORMED)
    assert bad.claims is None
    expired = VERIFIER.verify(QR, at=at(30, 0))
    assert expired.status is Status.EXPIRED
    assert expired.claims == STAFF
    assert expired.control_code is not None


def test_checks_run_in_order() -> None:
    # revoked AND outside its category AND expired: the category check comes first
    wrong_category = signed(claims("revoked-1", category=8), K.clinic)
    assert VERIFIER.verify(wrong_category, at=at(30, 0)).status is Status.CATEGORY_NOT_ALLOWED
    # revoked AND not yet valid: revocation comes before time
    revoked = signed(claims("revoked-1", not_before=epoch(at(5, 0))), K.clinic)
    assert VERIFIER.verify(revoked, at=TUESDAY).status is Status.REVOKED
    # a Bolnisi permit id listed under the clinic's partition is not revoked
    bolnisi = signed(claims("revoked-1", category=7), K.bolnisi)
    assert VERIFIER.verify(bolnisi, at=TUESDAY).status is Status.VALID


def test_warnings() -> None:
    assert VERIFIER.warnings(TUESDAY) == ()
    assert Verifier(TRUST).verify(QR, at=TUESDAY).warnings == ("no_revocation_list",)
    issued = datetime.fromtimestamp(TRUST.issued, UTC)
    edge = issued + timedelta(seconds=TRUST.stale_after)
    assert VERIFIER.warnings(edge) == ()  # stale only once older than stale_after
    later = edge + timedelta(seconds=1)
    assert VERIFIER.warnings(later) == ("trust_list_stale", "revocation_list_stale")
    stale_rl = replace(REVOCATION, stale_after=60)
    assert Verifier(TRUST, stale_rl).warnings(TUESDAY) == ("revocation_list_stale",)
    malformed = VERIFIER.verify("nonsense", at=later)
    assert malformed.warnings == ("trust_list_stale", "revocation_list_stale")


def test_keys_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    original = verify_module.load_public_key_der

    def counting(der: bytes) -> ec.EllipticCurvePublicKey:
        calls.append(der)
        return original(der)

    monkeypatch.setattr(verify_module, "load_public_key_der", counting)
    verifier = Verifier(TRUST, REVOCATION)
    assert len(calls) == 3  # clinic active + retired, Bolnisi
    for _ in range(20):
        assert verifier.verify(QR, at=TUESDAY).valid
    assert len(calls) == 3


def test_a_bad_key_on_an_in_memory_trust_list_is_refused() -> None:
    der = keys.public_key_der(K.clinic.public_key())
    for key in (IssuerKey(bytes(8), der), IssuerKey(bytes(8), b"junk")):
        issuer = replace(TRUST.issuers[0], keys=(key,))
        with pytest.raises(ListError) as caught:
            Verifier(replace(TRUST, issuers=(issuer,)))
        assert caught.value.reason == "malformed"


def test_verify_permit_function() -> None:
    result = verify_permit(QR, trust_list=TRUST, revocation_list=None, at=TUESDAY)
    assert result.valid
    assert result.warnings == ("no_revocation_list",)


# -- never raises -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        1.5,
        b"MP1:",
        bytearray(b"x"),
        ["MP1:"],
        {"qr": QR},
        object(),
        "",
        " ",
        "MP1:",
        "\x00",
    ],
)
def test_anything_that_is_not_a_permit_text_is_malformed(value: object) -> None:
    result = VERIFIER.verify(value, at=TUESDAY)
    assert result.status is Status.MALFORMED
    assert result.reason


def test_huge_input_is_malformed_quickly() -> None:
    started = time.perf_counter()
    assert VERIFIER.verify("MP1:" + "A" * 10_000_000, at=TUESDAY).status is Status.MALFORMED
    assert time.perf_counter() - started < 1.0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_never_raises_on_any_text(value: str) -> None:
    assert VERIFIER.verify(value, at=TUESDAY).status is not Status.VALID


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_never_raises_on_any_bytes_in_base45(data: bytes) -> None:
    result = VERIFIER.verify(text.encode_qr_text(data), at=TUESDAY)
    assert result.status is not Status.VALID


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_never_raises_on_mutations_of_a_valid_permit(data: st.DataObject) -> None:
    mutated = QR
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(mutated)))
        action = data.draw(st.sampled_from(["replace", "insert", "delete"]))
        ch = data.draw(st.sampled_from(BASE45 + "a\n\x00ə"))
        tail = mutated[position + 1 :] if action != "insert" else mutated[position:]
        mutated = mutated[:position] + ("" if action == "delete" else ch) + tail
    result = VERIFIER.verify(mutated, at=TUESDAY)
    if result.valid:  # only when the mutation left the COSE bytes as they were
        assert text.decode_qr_text(mutated) == text.decode_qr_text(QR)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 200), st.integers(0, 255))
def test_never_raises_on_changed_cose_bytes(offset: int, value: int) -> None:
    cose_bytes = bytearray(text.decode_qr_text(QR))
    offset %= len(cose_bytes)
    changed = cose_bytes[offset] != value
    cose_bytes[offset] = value
    result = VERIFIER.verify(text.encode_qr_text(bytes(cose_bytes)), at=TUESDAY)
    assert result.valid is not changed or offset == 15  # byte 15: the unprotected map header
    if changed and offset == 15:
        assert result.status in (Status.MALFORMED, Status.BAD_SIGNATURE, Status.VALID)


def test_an_internal_error_becomes_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(payload: bytes) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(verify_module.codec, "decode_claims", broken)
    result = VERIFIER.verify(QR, at=TUESDAY)
    assert result.status is Status.MALFORMED
    assert result.claims is None


# -- schedules ------------------------------------------------------------------------------------

FARM_WINDOWS = (Window(360, 480), Window(1080, 1140))
NIGHT = (Window(1320, 360),)


@pytest.mark.parametrize(
    ("windows", "weekdays", "day", "hour", "minute", "inside"),
    [
        ((), None, 0, 0, 0, True),
        ((), MON | WED, 0, 12, 0, True),  # Monday
        ((), MON | WED, 1, 12, 0, False),  # Tuesday
        ((), MON | WED, 2, 23, 59, True),  # Wednesday
        (FARM_WINDOWS, None, 1, 5, 59, False),
        (FARM_WINDOWS, None, 1, 6, 0, True),
        (FARM_WINDOWS, None, 1, 7, 59, True),
        (FARM_WINDOWS, None, 1, 8, 0, False),
        (FARM_WINDOWS, None, 1, 18, 30, True),
        (FARM_WINDOWS, None, 1, 19, 0, False),
        (NIGHT, None, 1, 21, 59, False),
        (NIGHT, None, 1, 22, 0, True),
        (NIGHT, None, 1, 0, 0, True),
        (NIGHT, None, 1, 5, 59, True),
        (NIGHT, None, 1, 6, 0, False),
        (NIGHT, MON, 0, 23, 0, True),  # Monday night
        (NIGHT, MON, 1, 3, 0, True),  # Tuesday 03:00 belongs to Monday night
        (NIGHT, MON, 0, 3, 0, False),  # Monday 03:00 belongs to Sunday night
        (NIGHT, MON, 1, 23, 0, False),
        (NIGHT, 64, 0, 3, 0, True),  # Sunday night (bit 6) reaches Monday morning
        ((Window(1439, 0),), None, 1, 23, 59, True),  # the last minute of the day
        ((Window(1439, 0),), None, 1, 0, 0, False),
    ],
)
def test_in_schedule(
    windows: tuple[Window, ...],
    weekdays: int | None,
    day: int,
    hour: int,
    minute: int,
    inside: bool,
) -> None:
    assert in_schedule(windows, weekdays, local=at(day, hour, minute)) is inside


def test_outside_window_reasons_say_when_it_is_valid() -> None:
    dialysis = signed(claims("verify-dialysis", category=1, weekdays=MON | WED), K.clinic)
    result = VERIFIER.verify(dialysis, at=TUESDAY)
    assert result.status is Status.OUTSIDE_WINDOW
    assert result.reason == "outside its schedule: Tue 10:00, valid only on Mon, Wed"
    farm = signed(claims("verify-farm", **FARM), K.bolnisi)
    result = VERIFIER.verify(farm, at=at(1, 12))
    assert result.reason == "outside its schedule: Tue 12:00, valid only 06:00-08:00, 18:00-19:00"
    assert result.issuer.code == BOLNISI  # type: ignore[union-attr]


# -- speed ---------------------------------------------------------------------------------------


def test_verification_is_fast() -> None:
    """The hot path: well over 1,000 verifications a second even on a slow CI machine
    (benchmarks/bench_verifier.py measures the real figure; the target is 5,000/s)."""
    count = 1000
    started = time.perf_counter()
    for _ in range(count):
        VERIFIER.verify(QR, at=TUESDAY)
    assert count / (time.perf_counter() - started) > 1000
