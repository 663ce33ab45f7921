"""An attacker's toolbox: fresh keys, a trust list, and COSE messages built by hand with any
header, payload and signature (what a forger can put in a QR code or a list file)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from verifier import codec, cose, keys, lists, text
from verifier.model import (
    Category,
    Issuer,
    IssuerKey,
    PermitClaims,
    Person,
    RevocationList,
    Role,
    TrustList,
)

CLINIC, BOLNISI = "MRN-CLINIC", "BOL-MUNI"
DOCTOR_VISIT, MEDICAL_STAFF, FARM_WORK = 1, 2, 8
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 12:00 in Tbilisi


@dataclass(frozen=True)
class Keys:
    """The root, two issuers and a stranger (a key on no list)."""

    root: ec.EllipticCurvePrivateKey
    clinic: ec.EllipticCurvePrivateKey
    bolnisi: ec.EllipticCurvePrivateKey
    stranger: ec.EllipticCurvePrivateKey

    @staticmethod
    def fresh() -> Keys:
        """Four new P-256 keys."""
        return Keys(*(keys.generate_private_key() for _ in range(4)))


def kid(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The kid of a private key's public half."""
    return keys.kid_for(key.public_key())


def der(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The SubjectPublicKeyInfo DER of a private key's public half."""
    return keys.public_key_der(key.public_key())


def trust_list(
    k: Keys, version: int = 3, *, clinic_keys: tuple[Any, ...] | None = None
) -> TrustList:
    """The clinic (doctor visits, medical staff) and Bolnisi (farm work)."""
    clinic = clinic_keys if clinic_keys is not None else (k.clinic,)
    return TrustList(
        version=version,
        issued=int(NOW.timestamp()) - 3600,
        stale_after=86400,
        issuers=(
            Issuer(
                code=CLINIC,
                names={"en": "Marneuli Medical Centre"},
                municipality=5,
                categories=(DOCTOR_VISIT, MEDICAL_STAFF),
                keys=tuple(IssuerKey(kid(key), der(key)) for key in clinic),
            ),
            Issuer(
                code=BOLNISI,
                names={"en": "Bolnisi"},
                municipality=1,
                categories=(FARM_WORK,),
                keys=(IssuerKey(kid(k.bolnisi), der(k.bolnisi)),),
            ),
        ),
        categories=(
            Category(DOCTOR_VISIT, "doctor_visit", {"en": "Doctor visit"}),
            Category(MEDICAL_STAFF, "medical_staff", {"en": "Medical staff"}),
            Category(FARM_WORK, "farm_work", {"en": "Farm work"}),
        ),
    )


def empty_revocations(version: int = 1) -> RevocationList:
    """A revocation list with nothing on it."""
    return RevocationList(
        version=version, issued=int(NOW.timestamp()) - 3600, stale_after=86400, partitions={}
    )


def claims(number: int = 1, **changes: Any) -> PermitClaims:
    """A medical-staff permit valid around NOW."""
    base = PermitClaims(
        permit_id=hashlib.sha256(f"permit-{number}".encode()).digest()[:5],
        category=MEDICAL_STAFF,
        not_before=int((NOW - timedelta(days=1)).timestamp()),
        expires=int((NOW + timedelta(days=6)).timestamp()),
        persons=(Person(Role.STAFF_MEMBER, "ნინო ბერიძე", f"0102405432{number % 10}"),),
        plate="AA123BB",
        route_from=5,
        route_to=7,
    )
    return replace(base, **changes)


def es256(key: ec.EllipticCurvePrivateKey, to_be_signed: bytes) -> bytes:
    """A raw 64-byte r || s ES256 signature."""
    r, s = decode_dss_signature(key.sign(to_be_signed, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def message(
    payload: bytes,
    *,
    protected: dict[Any, Any] | bytes | None,
    signer: ec.EllipticCurvePrivateKey | None = None,
    unprotected: dict[Any, Any] | None = None,
    signature: bytes | None = None,
) -> bytes:
    """COSE_Sign1 bytes with exactly these headers; signed by `signer` over the real
    Sig_structure unless a `signature` is given."""
    if isinstance(protected, bytes):
        protected_bytes = protected
    else:
        protected_bytes = cbor2.dumps(protected) if protected else b""
    if signature is None:
        assert signer is not None
        signature = es256(signer, cose.sig_structure(protected_bytes, payload))
    return cbor2.dumps([protected_bytes, unprotected or {}, payload, signature])


def qr(cose_bytes: bytes) -> str:
    """The QR text of COSE bytes."""
    return text.encode_qr_text(cose_bytes)


def signed_permit(
    c: PermitClaims, key: ec.EllipticCurvePrivateKey, *, as_kid: bytes | None = None
) -> str:
    """A permit signed by `key`, naming `as_kid` (default: the key's own kid)."""
    payload = codec.encode_claims(c)
    header = {cose.HEADER_ALG: cose.ALG_ES256, cose.HEADER_KID: as_kid or kid(key)}
    return qr(message(payload, protected=header, signer=key))


def hmac_permit(c: PermitClaims, secret: bytes, *, as_kid: bytes, alg: int = 5) -> str:
    """The classic algorithm-confusion forgery: HMAC-SHA256 (COSE alg 5) keyed with a public
    value the attacker knows (e.g. the issuer's public key), under the issuer's kid."""
    payload = codec.encode_claims(c)
    protected = cbor2.dumps({cose.HEADER_ALG: alg, cose.HEADER_KID: as_kid})
    tag = hmac.new(secret, cose.sig_structure(protected, payload), hashlib.sha256).digest()
    return qr(message(payload, protected=protected, signature=tag + tag))


def split(qr_text: str) -> list[Any]:
    """The four parts of a permit's COSE_Sign1: [protected, unprotected, payload, signature]."""
    parts: list[Any] = cbor2.loads(text.decode_qr_text(qr_text))
    return parts


def join(parts: list[Any]) -> str:
    """A QR text from four COSE_Sign1 parts."""
    return qr(cbor2.dumps(parts))


def signed_list(
    payload: dict[str, Any], key: ec.EllipticCurvePrivateKey, *, as_kid: bytes | None = None
) -> bytes:
    """A list payload signed by any key under any kid."""
    header = {cose.HEADER_ALG: cose.ALG_ES256, cose.HEADER_KID: as_kid or kid(key)}
    return message(cbor2.dumps(payload), protected=header, signer=key)


def sign_trust_list(tl: TrustList, root: ec.EllipticCurvePrivateKey) -> bytes:
    """The genuine way: signed by the root."""
    return lists.sign_trust_list(tl, root_private_key=root, root_kid=kid(root))


def signed_permit_bytes(payload: bytes, key: ec.EllipticCurvePrivateKey) -> str:
    """A permit QR text whose payload is any bytes, properly signed by `key`."""
    header = {cose.HEADER_ALG: cose.ALG_ES256, cose.HEADER_KID: kid(key)}
    return qr(message(payload, protected=header, signer=key))


def signed_list_bytes(payload: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    """A list file whose payload is any bytes, properly signed by `key`."""
    header = {cose.HEADER_ALG: cose.ALG_ES256, cose.HEADER_KID: kid(key)}
    return message(payload, protected=header, signer=key)
