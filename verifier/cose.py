"""COSE_Sign1 (RFC 9052) with ES256, and the strict CBOR reader every layer uses.

Generic: it signs and verifies any single-signer COSE message with ES256, e.g. an EU Digital
COVID Certificate, not only permits. Only what format v1 needs is supported: ES256, attached
payload, empty external AAD.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from verifier.errors import BadSignatureError, MalformedError

COSE_SIGN1_TAG = 18
HEADER_ALG = 1
HEADER_KID = 4
ALG_ES256 = -7
SIGNATURE_LENGTH = 64  # r || s, 32 bytes each, big-endian
MAX_DEPTH = 16  # deepest nesting of CBOR containers accepted

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())

# Tags that cbor2 would otherwise turn into Python objects (datetime, bignum int, Decimal,
# shared references...). We keep every tag as a plain CBORTag, so that a bignum cannot pass
# for an integer and shared references cannot build cycles.
_CBOR2_SEMANTIC_TAGS = (
    0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100,
    256, 258, 260, 261, 1004, 43000, 55799,
)  # fmt: skip


def _keep_tag(tag: int) -> Callable[[Any, bool], Any]:
    return lambda value, _immutable: cbor2.CBORTag(tag, value)


_RAW_TAGS = {tag: _keep_tag(tag) for tag in _CBOR2_SEMANTIC_TAGS}


def decode_cbor(data: bytes) -> Any:
    """Decode exactly one CBOR data item from `data`; raise MalformedError otherwise.

    Strict: definite lengths only, no duplicate map keys, no trailing bytes, valid UTF-8 in
    text strings, at most MAX_DEPTH levels of nesting. Tags stay `cbor2.CBORTag` objects
    (never converted to dates, bignums or shared references). Contents of a tag are decoded
    as immutable containers (tuple, frozendict).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedError("CBOR input must be bytes")
    data = bytes(data)
    stream = io.BytesIO(data)
    try:
        # On a seekable stream cbor2 reads ahead in blocks and seeks back to the end of the
        # item when done, so tell() below is where the item ended (tests/vectors'
        # trailing-bytes case holds it to that).
        decoder = cbor2.CBORDecoder(
            stream,
            semantic_decoders=_RAW_TAGS,
            allow_indefinite=False,
            allow_duplicate_keys=False,
            max_depth=MAX_DEPTH,
        )
        value = decoder.decode()
    except Exception as exc:  # cbor2 raises CBORDecodeError, but also ValueError, MemoryError...
        raise MalformedError("not well-formed CBOR") from exc
    if stream.tell() != len(data):
        raise MalformedError("trailing bytes after the CBOR data item")
    return value


def int_keyed(value: Mapping[Any, Any]) -> dict[int, Any]:
    """Return the entries of a decoded CBOR map whose keys are integers (not bools, not floats).

    In Python True == 1 and 1.0 == 1, so a CBOR `true` or `1.0` key would otherwise be read
    as label 1; other implementations would not, and neither do we.
    """
    return {k: v for k, v in value.items() if type(k) is int}


@dataclass(frozen=True, slots=True)
class Sign1Message:
    """A parsed COSE_Sign1 message whose structure, algorithm (ES256) and kid were checked.

    The signature is NOT verified yet: call `verify_sign1`.
    """

    protected: dict[Any, Any]  # the decoded protected header
    protected_bytes: bytes  # exactly as received: the signature covers these bytes
    unprotected: dict[Any, Any]
    payload: bytes
    signature: bytes  # r || s, 64 bytes
    alg: int
    kid: bytes


def protected_header(kid: bytes) -> bytes:
    """Return the protected header bstr content format v1 writes: CBOR {1: -7, 4: kid}."""
    return cbor2.dumps({HEADER_ALG: ALG_ES256, HEADER_KID: bytes(kid)})


def sig_structure(protected_bytes: bytes, payload: bytes) -> bytes:
    """Return the bytes ES256 signs: CBOR ["Signature1", protected_bytes, h'', payload]."""
    return b"".join(
        (_SIG_STRUCTURE_HEAD, _bstr_head(len(protected_bytes)), protected_bytes, b"\x40",
         _bstr_head(len(payload)), payload)
    )  # fmt: skip


_SIG_STRUCTURE_HEAD = b"\x84\x6aSignature1"  # an array of 4; the text "Signature1"


def _bstr_head(length: int) -> bytes:
    """The shortest CBOR head of a byte string of `length` bytes (RFC 8949, 3.1)."""
    if length < 24:
        return bytes((0x40 + length,))
    for head, size in ((0x58, 1), (0x59, 2), (0x5A, 4), (0x5B, 8)):
        if length < 1 << (8 * size):
            return bytes((head,)) + length.to_bytes(size, "big")
    raise ValueError("a byte string longer than CBOR can say")


def sign1(
    payload: bytes,
    *,
    private_key: ec.EllipticCurvePrivateKey,
    kid: bytes,
    tagged: bool = False,
) -> bytes:
    """Sign `payload` with ES256 and return the COSE_Sign1 bytes.

    The protected header is {1: -7, 4: kid}, the unprotected header is empty, and the
    signature is the 64-byte r || s. The array is untagged unless `tagged` (tag 18).
    """
    if not isinstance(private_key.curve, ec.SECP256R1):
        raise ValueError("ES256 needs a P-256 private key")
    protected = protected_header(kid)
    der = private_key.sign(sig_structure(protected, bytes(payload)), _ECDSA_SHA256)
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    message: Any = [protected, {}, bytes(payload), signature]
    if tagged:
        message = cbor2.CBORTag(COSE_SIGN1_TAG, message)
    return cbor2.dumps(message)


def parse_sign1(data: bytes) -> Sign1Message:
    """Parse COSE_Sign1 bytes (untagged, or with tag 18); raise MalformedError unless well-formed.

    Checks: one CBOR array [bstr, map, bstr, bstr]; the protected header is a CBOR map
    (or empty) whose alg (label 1) is -7 (ES256) -- an alg only in the unprotected header
    does not count; a kid (label 4, bstr) in the protected header, else in the unprotected
    one; a 64-byte signature. Does not verify the signature.
    """
    common = _common_sign1(data)
    if common is not None:  # the shape every permit has: read without a general decoder
        protected_bytes, payload, signature = common
        return _checked_sign1(protected_bytes, {}, payload, signature)
    item = decode_cbor(data)
    if isinstance(item, cbor2.CBORTag):
        if item.tag != COSE_SIGN1_TAG:
            raise MalformedError(f"not a COSE_Sign1 message (CBOR tag {item.tag})")
        item = item.value
    if not isinstance(item, list | tuple) or len(item) != 4:
        raise MalformedError("not a COSE_Sign1 message: expected a CBOR array of four items")
    protected_bytes, unprotected_raw, payload, signature = item
    if type(protected_bytes) is not bytes:
        raise MalformedError("protected header is not a byte string")
    if type(unprotected_raw) is not dict and not isinstance(unprotected_raw, Mapping):
        raise MalformedError("unprotected header is not a map")
    if type(payload) is not bytes:
        raise MalformedError("payload is not a byte string (detached payloads are not supported)")
    if type(signature) is not bytes:
        raise MalformedError("signature is not a byte string")
    return _checked_sign1(protected_bytes, dict(unprotected_raw), payload, signature)


def _checked_sign1(
    protected_bytes: bytes, unprotected: dict[Any, Any], payload: bytes, signature: bytes
) -> Sign1Message:
    protected: dict[Any, Any] = dict(_protected_header(protected_bytes)) if protected_bytes else {}
    protected_labels, unprotected_labels = int_keyed(protected), int_keyed(unprotected)
    alg = protected_labels.get(HEADER_ALG)
    if type(alg) is not int or alg != ALG_ES256:
        raise MalformedError(
            f"unsupported algorithm {alg!r} (only ES256, -7, in the protected header)"
        )
    if HEADER_KID in protected_labels:
        kid = protected_labels[HEADER_KID]
    else:
        kid = unprotected_labels.get(HEADER_KID)
    if kid is None:
        raise MalformedError("no kid in the header")
    if type(kid) is not bytes or not kid:
        raise MalformedError("kid is not a non-empty byte string")
    if len(signature) != SIGNATURE_LENGTH:
        raise MalformedError(f"signature is {len(signature)} bytes, ES256 needs {SIGNATURE_LENGTH}")
    return Sign1Message(
        protected=protected,
        protected_bytes=protected_bytes,
        unprotected=unprotected,
        payload=payload,
        signature=signature,
        alg=alg,
        kid=kid,
    )


def _common_sign1(data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """The protected header, payload and signature of `data` when it is exactly an untagged
    CBOR array of four items [bstr, {}, bstr, bstr] with definite lengths and nothing after
    it; None for any other bytes, which the general decoder then reads (or refuses).

    Everything this accepts the general decoder reads the same way (tests hold it to that).
    """
    if type(data) is not bytes or len(data) < 5 or data[0] != _ARRAY_OF_FOUR:
        return None
    protected = _bstr_at(data, 1)
    if protected is None or protected[1] >= len(data) or data[protected[1]] != _EMPTY_MAP:
        return None
    payload = _bstr_at(data, protected[1] + 1)
    if payload is None:
        return None
    signature = _bstr_at(data, payload[1])
    if signature is None or signature[1] != len(data):
        return None
    return protected[0], payload[0], signature[0]


_ARRAY_OF_FOUR = 0x84
_EMPTY_MAP = 0xA0
_BSTR, _BSTR_1, _BSTR_2 = 0x40, 0x58, 0x59  # length in the head; in 1 byte; in 2 bytes


def _bstr_at(data: bytes, at: int) -> tuple[bytes, int] | None:
    """The definite-length byte string whose head is at `data[at]` and the index after it;
    None when there is none (another type, a longer length field, past the end)."""
    size = len(data)
    if at >= size:
        return None
    head = data[at]
    if _BSTR <= head < _BSTR_1:
        start = at + 1
        length = head - _BSTR
    elif head == _BSTR_1 and at + 2 <= size:
        start = at + 2
        length = data[at + 1]
    elif head == _BSTR_2 and at + 3 <= size:
        start = at + 3
        length = data[at + 1] << 8 | data[at + 2]
    else:
        return None
    end = start + length
    return None if end > size else (data[start:end], end)


@lru_cache(maxsize=256)
def _protected_header(protected_bytes: bytes) -> Mapping[Any, Any]:
    """The decoded protected header, read-only; MalformedError unless it is a CBOR map.

    Cached: every permit of one issuer key carries the same few bytes here, and a failure
    is not cached (it raises again each time).
    """
    decoded = decode_cbor(protected_bytes)
    if not isinstance(decoded, Mapping):
        raise MalformedError("protected header is not a map")
    return MappingProxyType(dict(decoded))


def verify_sign1(message: Sign1Message, public_key: ec.EllipticCurvePublicKey) -> None:
    """Return None when `message` carries a valid ES256 signature by `public_key`.

    Raises BadSignatureError otherwise (including a key that is not P-256).
    """
    if message.alg != ALG_ES256 or len(message.signature) != SIGNATURE_LENGTH:
        raise BadSignatureError("not an ES256 signature")
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise BadSignatureError("ES256 needs a P-256 public key")
    r = int.from_bytes(message.signature[:32], "big")
    s = int.from_bytes(message.signature[32:], "big")
    try:
        der = encode_dss_signature(r, s)
        public_key.verify(
            der, sig_structure(message.protected_bytes, message.payload), _ECDSA_SHA256
        )
    except (InvalidSignature, ValueError) as exc:
        raise BadSignatureError("the signature does not verify with this key") from exc


def verify(data: bytes, public_key: ec.EllipticCurvePublicKey) -> bytes:
    """Parse and verify any ES256 COSE_Sign1 message; return its payload bytes.

    Raises MalformedError when the bytes are not a well-formed ES256 COSE_Sign1, and
    BadSignatureError when the signature does not verify with `public_key`.
    """
    message = parse_sign1(data)
    verify_sign1(message, public_key)
    return message.payload
