"""Verifying a permit QR text at a checkpoint: ordered checks, one verdict, never an exception.

The checks run in a fixed order and the first that fails decides the status:

    1 text and Base45            -> malformed
    2 COSE structure, alg, kid   -> malformed
    3 kid on the trust list      -> unknown_issuer
    4 signature                  -> bad_signature
    5 payload claims             -> malformed
    6 category allowed for issuer-> category_not_allowed
    7 revocation list            -> revoked / replaced
    8 time: nbf, exp, windows, weekdays (Asia/Tbilisi) -> not_yet_valid / expired / outside_window

Otherwise the permit is valid.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import ec

from verifier import codec, cose, text
from verifier.controlcode import control_code
from verifier.errors import BadSignatureError, ListError, MalformedError
from verifier.keys import kid_for_der, load_public_key_der
from verifier.lists import is_stale, revocation_status
from verifier.model import (
    TIMEZONE,
    Issuer,
    PermitClaims,
    RevocationList,
    Status,
    TrustList,
    VerificationResult,
    Window,
)

LOCAL_ZONE = ZoneInfo(TIMEZONE)
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

TRUST_LIST_STALE = "trust_list_stale"
REVOCATION_LIST_STALE = "revocation_list_stale"
NO_REVOCATION_LIST = "no_revocation_list"


def _local_text(epoch: int) -> str:
    try:
        d = datetime.fromtimestamp(epoch, LOCAL_ZONE)
    except (OverflowError, OSError, ValueError):
        return f"{epoch} (epoch seconds)"
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_allowed(weekdays: int | None, weekday: int) -> bool:
    return weekdays is None or bool(weekdays >> weekday & 1)


def in_schedule(windows: tuple[Window, ...], weekdays: int | None, *, local: datetime) -> bool:
    """True when the local moment `local` falls in the daily windows on an allowed weekday.

    No windows: the whole day counts. A window [start, end) with end < start wraps past
    midnight; its part after midnight belongs to the previous day's weekday. Minutes are
    whole minutes of local time (seconds are ignored), and `end` is exclusive.
    """
    minute = local.hour * 60 + local.minute
    weekday = local.weekday()  # Monday = 0 = bit 0
    if not windows:
        return _day_allowed(weekdays, weekday)
    for window in windows:
        if window.start < window.end:
            if window.start <= minute < window.end and _day_allowed(weekdays, weekday):
                return True
        else:
            if minute >= window.start and _day_allowed(weekdays, weekday):
                return True
            if minute < window.end and _day_allowed(weekdays, (weekday - 1) % 7):
                return True
    return False


def _schedule_reason(claims: PermitClaims, local: datetime) -> str:
    days = ""
    if claims.weekdays is not None:
        days = ", ".join(d for i, d in enumerate(WEEKDAY_NAMES) if claims.weekdays >> i & 1)
    if claims.windows:
        hours = ", ".join(f"{_hhmm(w.start)}-{_hhmm(w.end)}" for w in claims.windows)
        where = f"only {hours}" + (f" on {days}" if days else "")
    else:
        where = f"only on {days}"
    return f"outside its schedule: {WEEKDAY_NAMES[local.weekday()]} {local:%H:%M}, valid {where}"


class Verifier:
    """Verifies permit QR texts against one trust list and, optionally, one revocation list.

    Each issuer public key is parsed once, here, and cached by kid: a verification then costs
    one Base45 decode, two small CBOR decodes and one ECDSA verification.
    """

    def __init__(
        self, trust_list: TrustList, revocation_list: RevocationList | None = None
    ) -> None:
        """Prepare to verify against these lists.

        Raises ListError ("malformed") when a key on the trust list is not a P-256
        SubjectPublicKeyInfo or does not match its kid.
        """
        self.trust_list = trust_list
        self.revocation_list = revocation_list
        self._keys: dict[bytes, tuple[Issuer, ec.EllipticCurvePublicKey]] = {}
        for issuer in trust_list.issuers:
            for key in issuer.keys:
                if key.kid in self._keys:
                    continue  # the first listing wins, as in TrustList.key_for
                try:
                    public_key = load_public_key_der(key.public_key_der)
                except MalformedError as exc:
                    raise ListError(ListError.MALFORMED, f"key {key.kid.hex()}: {exc}") from exc
                if kid_for_der(key.public_key_der) != key.kid:
                    raise ListError(
                        ListError.MALFORMED, f"kid {key.kid.hex()} does not match its key"
                    )
                self._keys[key.kid] = (issuer, public_key)
        self._categories = {
            issuer.code: frozenset(issuer.categories) for issuer in trust_list.issuers
        }
        self._category_slugs = {c.code: c.slug for c in trust_list.categories}

    def warnings(self, at: datetime) -> tuple[str, ...]:
        """Return the list warnings at `at`: "trust_list_stale", "revocation_list_stale" (older
        than their stale_after), "no_revocation_list" (none given)."""
        return self._warnings(_epoch(at))

    def _warnings(self, at_epoch: float) -> tuple[str, ...]:
        found = []
        if is_stale(self.trust_list.issued, self.trust_list.stale_after, at_epoch):
            found.append(TRUST_LIST_STALE)
        if self.revocation_list is None:
            found.append(NO_REVOCATION_LIST)
        elif is_stale(self.revocation_list.issued, self.revocation_list.stale_after, at_epoch):
            found.append(REVOCATION_LIST_STALE)
        return tuple(found)

    def verify(self, qr_text: object, *, at: datetime) -> VerificationResult:
        """Return the verdict on `qr_text` at the moment `at`; never raises on any `qr_text`.

        Anything that is not a well-formed v1 permit (not a str, empty, huge, wrong prefix,
        bad Base45, bad CBOR, another algorithm, no kid, short signature, bad claims) is
        Status.MALFORMED. `claims` and `issuer` are set once the signature has verified and
        the claims decoded. Raises ValueError only when `at` is not timezone-aware.
        """
        at_epoch = _epoch(at)  # validates `at`
        warnings = self._warnings(at_epoch)
        try:
            return self._verify(qr_text, at, at_epoch, warnings)
        except Exception:  # a bug must never become an exception at a checkpoint, nor VALID
            return VerificationResult(
                Status.MALFORMED, "the permit could not be read", at=at, warnings=warnings
            )

    def _verify(
        self, qr_text: object, at: datetime, at_epoch: float, warnings: tuple[str, ...]
    ) -> VerificationResult:
        def fail(status: Status, reason: str) -> VerificationResult:
            return VerificationResult(status, reason, at=at, warnings=warnings)

        # 1. Text and Base45: "MP1:" + Base45, at most 4096 characters.
        try:
            data = text.decode_qr_text(qr_text)
        except MalformedError as exc:
            return fail(Status.MALFORMED, f"not a permit code: {exc}")
        # 2. COSE_Sign1 structure, ES256 in the protected header, a kid, a 64-byte signature.
        try:
            message = cose.parse_sign1(data)
        except MalformedError as exc:
            return fail(Status.MALFORMED, f"not a signed permit: {exc}")
        # 3. The kid must be on the trust list.
        entry = self._keys.get(message.kid)
        if entry is None:
            return fail(
                Status.UNKNOWN_ISSUER,
                f"the signing key {message.kid.hex()} is not on the trust list",
            )
        issuer, public_key = entry
        # 4. The signature must verify with that key.
        try:
            cose.verify_sign1(message, public_key)
        except BadSignatureError:
            return fail(
                Status.BAD_SIGNATURE,
                f"the signature does not match key {message.kid.hex()} of {issuer.code}: "
                "altered or forged",
            )
        # 5. The payload must be valid v1 claims.
        try:
            claims = codec.decode_claims(message.payload)
        except MalformedError as exc:
            return fail(Status.MALFORMED, f"signed by {issuer.code} but unreadable: {exc}")

        def verdict(status: Status, reason: str) -> VerificationResult:
            return VerificationResult(
                status,
                reason,
                claims=claims,
                issuer=issuer,
                control_code=control_code(claims.permit_id),
                at=at,
                warnings=warnings,
            )

        # 6. The issuer must be allowed to issue this category.
        if claims.category not in self._categories.get(issuer.code, frozenset()):
            slug = self._category_slugs.get(claims.category, "unknown")
            return verdict(
                Status.CATEGORY_NOT_ALLOWED,
                f"{issuer.code} may not issue category {claims.category} ({slug})",
            )
        # 7. The issuer's partition of the revocation list.
        if self.revocation_list is not None:
            listed = revocation_status(self.revocation_list, issuer.code, claims.permit_id)
            if listed == "revoked":
                return verdict(Status.REVOKED, "the issuer revoked this permit")
            if listed == "replaced":
                return verdict(Status.REPLACED, "replaced by a newer permit")
        # 8. Time: validity period (exp exclusive), then daily windows and weekdays in Tbilisi.
        if at_epoch < claims.not_before:
            return verdict(
                Status.NOT_YET_VALID, f"not valid before {_local_text(claims.not_before)}"
            )
        if at_epoch >= claims.expires:
            return verdict(Status.EXPIRED, f"expired at {_local_text(claims.expires)}")
        local = at.astimezone(LOCAL_ZONE)
        if not in_schedule(claims.windows, claims.weekdays, local=local):
            return verdict(Status.OUTSIDE_WINDOW, _schedule_reason(claims, local))
        return verdict(Status.VALID, f"valid until {_local_text(claims.expires)}")


def _epoch(at: datetime) -> float:
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise ValueError("`at` must be a timezone-aware datetime")
    return at.timestamp()


def verify_permit(
    qr_text: object,
    *,
    trust_list: TrustList,
    revocation_list: RevocationList | None,
    at: datetime,
) -> VerificationResult:
    """Verify one QR text with these lists (see `Verifier.verify`; never raises on `qr_text`).

    Builds a Verifier each call: keep a Verifier to check many permits.
    """
    return Verifier(trust_list, revocation_list).verify(qr_text, at=at)
