"""ES256 (ECDSA P-256) key helpers: kid, loading public keys, JWK export for WebCrypto."""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from verifier.errors import MalformedError

KID_LENGTH = 8
"""A kid is the first 8 bytes of SHA-256 over the public key's DER SubjectPublicKeyInfo."""


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    """Return a new random P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def public_key_der(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """Return the DER SubjectPublicKeyInfo of `public_key`."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_pem(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """Return the PEM SubjectPublicKeyInfo of `public_key` ("-----BEGIN PUBLIC KEY-----")."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def kid_for_der(spki_der: bytes) -> bytes:
    """Return the kid of a DER SubjectPublicKeyInfo: the first 8 bytes of its SHA-256."""
    return hashlib.sha256(spki_der).digest()[:KID_LENGTH]


def kid_for(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """Return the 8-byte kid of `public_key` (SHA-256 of its DER SubjectPublicKeyInfo, cut to 8)."""
    return kid_for_der(public_key_der(public_key))


def _require_p256(key: object) -> ec.EllipticCurvePublicKey:
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise MalformedError("not a P-256 public key")
    return key


def load_public_key_der(spki_der: bytes) -> ec.EllipticCurvePublicKey:
    """Return the P-256 public key of a DER SubjectPublicKeyInfo; else MalformedError."""
    try:
        key = serialization.load_der_public_key(bytes(spki_der))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise MalformedError("not a DER SubjectPublicKeyInfo") from exc
    return _require_p256(key)


def load_public_key_pem(pem: bytes | str) -> ec.EllipticCurvePublicKey:
    """Return the P-256 public key in a PEM "PUBLIC KEY" block; MalformedError for anything else."""
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else bytes(pem)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise MalformedError("not a PEM public key") from exc
    return _require_p256(key)


def public_key_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """Return `public_key` as a JWK (RFC 7517) that WebCrypto's importKey("jwk", ...) accepts.

    The "kid" member is the hex of the 8-byte kid.
    """
    numbers = _require_p256(public_key).public_numbers()

    def b64url(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode("ascii")

    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x),
        "y": b64url(numbers.y),
        "alg": "ES256",
        "use": "sig",
        "kid": kid_for(public_key).hex(),
    }
