"""Private keys on disk, encrypted with the passphrase from the settings; public keys beside them.

Layout under the keys directory (never committed):
    root/<kid>.p12            the regional root key
    root-public-key.pem       its public key, pinned by checkpoint devices
    issuers/<ORG>/<kid>.p12   each issuer organisation's keys

Private keys are PKCS#12 files encrypted with PBES2 (PBKDF2-SHA256, AES-256-CBC); the
round count is a setting (600,000 by default), so a stolen file resists guessing.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.hazmat.primitives.serialization.pkcs12 import PBES

from permits.errors import KeyUnavailable
from permits.settings import Settings
from verifier.keys import kid_for

ROOT_PUBLIC_FILE = "root-public-key.pem"


class KeyStore:
    """Creates, stores and loads ES256 private keys; decrypted keys are cached in memory."""

    def __init__(self, directory: Path, passphrase: str, *, kdf_rounds: int = 600_000) -> None:
        self.directory = directory
        self._passphrase = passphrase.encode()
        self._kdf_rounds = kdf_rounds
        self._cache: dict[bytes, ec.EllipticCurvePrivateKey] = {}
        self._lock = threading.Lock()

    # -- files -----------------------------------------------------------------------
    def _write_private(self, path: Path, key: ec.EllipticCurvePrivateKey) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(self._kdf_rounds)
            .key_cert_algorithm(PBES.PBESv2SHA256AndAES256CBC)
            .build(self._passphrase)
        )
        data = pkcs12.serialize_key_and_certificates(
            path.stem.encode(), key, None, None, encryption
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)

    def _read_private(self, path: Path) -> ec.EllipticCurvePrivateKey:
        try:
            key, _cert, _others = pkcs12.load_key_and_certificates(
                path.read_bytes(), self._passphrase
            )
        except FileNotFoundError as exc:
            raise KeyUnavailable(f"private key file {path.name} is missing") from exc
        except (ValueError, TypeError) as exc:
            raise KeyUnavailable(
                "a private key cannot be decrypted with the configured passphrase"
            ) from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise KeyUnavailable(f"{path.name} is not a P-256 key")
        return key

    # -- issuer keys -------------------------------------------------------------------
    def create_issuer_key(self, organisation_code: str) -> tuple[bytes, bytes]:
        """Generate a P-256 key for an organisation, store it encrypted; return (kid, SPKI DER)."""
        key = ec.generate_private_key(ec.SECP256R1())
        kid = kid_for(key.public_key())
        self._write_private(
            self.directory / "issuers" / organisation_code / f"{kid.hex()}.p12", key
        )
        with self._lock:
            self._cache[kid] = key
        return kid, public_der(key.public_key())

    def issuer_private_key(self, organisation_code: str, kid: bytes) -> ec.EllipticCurvePrivateKey:
        """Return the decrypted private key `kid` of an organisation (cached after first use)."""
        with self._lock:
            cached = self._cache.get(kid)
        if cached is not None:
            return cached
        key = self._read_private(
            self.directory / "issuers" / organisation_code / f"{kid.hex()}.p12"
        )
        if kid_for(key.public_key()) != kid:
            raise KeyUnavailable("a private key file does not match its kid")
        with self._lock:
            self._cache[kid] = key
        return key

    def destroy_issuer_key(self, organisation_code: str, kid: bytes) -> None:
        """Delete a private key file (after revocation: nothing must sign with it again)."""
        with self._lock:
            self._cache.pop(kid, None)
        (self.directory / "issuers" / organisation_code / f"{kid.hex()}.p12").unlink(
            missing_ok=True
        )

    # -- the root --------------------------------------------------------------------------
    def has_root(self) -> bool:
        """True when a root key exists."""
        return any((self.directory / "root").glob("*.p12"))

    def ensure_root(self) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
        """Return the root key and its kid, creating both (and the public file) on first use."""
        files = sorted((self.directory / "root").glob("*.p12"))
        if len(files) > 1:
            raise KeyUnavailable("more than one root key under keys/root")
        if files:
            kid = bytes.fromhex(files[0].stem)
            with self._lock:
                cached = self._cache.get(kid)
            key = cached or self._read_private(files[0])
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            kid = kid_for(key.public_key())
            self._write_private(self.directory / "root" / f"{kid.hex()}.p12", key)
            (self.directory / ROOT_PUBLIC_FILE).write_bytes(
                key.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
        with self._lock:
            self._cache[kid] = key
        return key, kid

    def root_public_key(self) -> ec.EllipticCurvePublicKey:
        """Return the pinned root public key (no passphrase needed)."""
        path = self.directory / ROOT_PUBLIC_FILE
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except FileNotFoundError as exc:
            raise KeyUnavailable("the root public key is missing: run `permits init`") from exc
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise KeyUnavailable("the root public key is not an EC key")
        return key


def keystore_for(settings: Settings) -> KeyStore:
    """Return the key store the settings describe (directory, passphrase, KDF rounds)."""
    return KeyStore(
        settings.keys_dir,
        settings.key_passphrase.get_secret_value(),
        kdf_rounds=settings.key_kdf_rounds,
    )


def public_der(key: ec.EllipticCurvePublicKey) -> bytes:
    """Return the SubjectPublicKeyInfo DER of a public key."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
