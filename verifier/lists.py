"""The trust list and the revocation list: COSE_Sign1 (ES256) signed by the regional root key,
with a CBOR map payload under text keys.

A device pins the root public key, refuses any list not signed by it, refuses a list of the
other kind, and never goes back to an older version (`accept_update`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec

from verifier import cose
from verifier.errors import BadSignatureError, ListError, MalformedError
from verifier.keys import kid_for, kid_for_der, load_public_key_der
from verifier.model import (
    Category,
    Issuer,
    IssuerKey,
    Municipality,
    RevocationList,
    RevocationPartition,
    TrustList,
)

TRUST_LIST_TYPE = "permits-trust-list"
REVOCATION_LIST_TYPE = "permits-revocation-list"
KEY_STATUSES = ("active", "retired")
ID_LENGTH = 5  # a permit id (cti)
KID_LENGTH = 8

RevocationStatus = Literal["revoked", "replaced"]
_T = TypeVar("_T")


# -- signing (the issuing service) ------------------------------------------------------


def _names(names: Mapping[str, str]) -> dict[str, str]:
    return {str(lang): str(name) for lang, name in names.items()}


def trust_list_payload(tl: TrustList) -> dict[str, Any]:
    """Return the CBOR map (as Python values) of a trust list."""
    return {
        "type": TRUST_LIST_TYPE,
        "version": tl.version,
        "issued": tl.issued,
        "stale_after": tl.stale_after,
        "issuers": [
            {
                "code": issuer.code,
                "names": _names(issuer.names),
                "municipality": issuer.municipality,
                "categories": list(issuer.categories),
                "keys": [
                    {"kid": key.kid, "key": key.public_key_der, "status": key.status}
                    for key in issuer.keys
                ],
            }
            for issuer in tl.issuers
        ],
        "categories": [
            {"code": c.code, "slug": c.slug, "names": _names(c.names)} for c in tl.categories
        ],
        "municipalities": [{"code": m.code, "names": _names(m.names)} for m in tl.municipalities],
    }


def revocation_list_payload(rl: RevocationList) -> dict[str, Any]:
    """Return the CBOR map (as Python values) of a revocation list."""
    return {
        "type": REVOCATION_LIST_TYPE,
        "version": rl.version,
        "issued": rl.issued,
        "stale_after": rl.stale_after,
        "issuers": {
            code: {"revoked": part.revoked, "replaced": part.replaced}
            for code, part in rl.partitions.items()
        },
    }


def sign_trust_list(
    tl: TrustList, *, root_private_key: ec.EllipticCurvePrivateKey, root_kid: bytes
) -> bytes:
    """Return the trust list as COSE_Sign1 bytes signed by the root key.

    The result loads back with `load_trust_list` (which would also refuse a key whose kid
    does not match its SubjectPublicKeyInfo).
    """
    payload = cbor2.dumps(trust_list_payload(tl))
    return cose.sign1(payload, private_key=root_private_key, kid=root_kid)


def sign_revocation_list(
    rl: RevocationList, *, root_private_key: ec.EllipticCurvePrivateKey, root_kid: bytes
) -> bytes:
    """Return the revocation list as COSE_Sign1 bytes signed by the root key.

    Raises ValueError when a partition is not a sorted run of distinct 5-byte ids.
    """
    for code, part in rl.partitions.items():
        for run in (part.revoked, part.replaced):
            _check_run(run, f"issuer {code}", ValueError)
    payload = cbor2.dumps(revocation_list_payload(rl))
    return cose.sign1(payload, private_key=root_private_key, kid=root_kid)


# -- loading (checkpoint devices) ------------------------------------------------------


def _open(
    data: bytes, root_public_key: ec.EllipticCurvePublicKey, expected_type: str
) -> Mapping[Any, Any]:
    """Check structure, signer and signature; return the payload map of the expected type."""
    try:
        message = cose.parse_sign1(data)
    except MalformedError as exc:
        raise ListError(ListError.MALFORMED, f"not a signed list: {exc}") from exc
    if message.kid != kid_for(root_public_key):
        raise ListError(
            ListError.BAD_SIGNATURE, f"signed by key {message.kid.hex()}, not by the root key"
        )
    try:
        cose.verify_sign1(message, root_public_key)
    except BadSignatureError as exc:
        raise ListError(
            ListError.BAD_SIGNATURE, "the root key's signature does not verify"
        ) from exc
    try:
        payload = cose.decode_cbor(message.payload)
    except MalformedError as exc:
        raise ListError(ListError.MALFORMED, f"payload: {exc}") from exc
    if not isinstance(payload, Mapping):
        raise ListError(ListError.MALFORMED, "the payload is not a map")
    kind = payload.get("type")
    if kind != expected_type:
        raise ListError(ListError.WRONG_TYPE, f"expected a {expected_type}, got {kind!r}")
    return payload


def _bad(message: str) -> ListError:
    return ListError(ListError.MALFORMED, message)


def _get(value: Mapping[Any, Any], key: str, check: Callable[[Any], bool], what: str) -> Any:
    if key not in value or not check(value[key]):
        raise _bad(f"{what}: {key!r} is missing or of the wrong type")
    return value[key]


def _is_uint(value: object) -> bool:
    return type(value) is int and value >= 0


def _is_text(value: object) -> bool:
    return type(value) is str and bool(value)


def _is_map(value: object) -> bool:
    return isinstance(value, Mapping)


def _is_array(value: object) -> bool:
    return isinstance(value, list | tuple)


def _items(value: Any, parse: Callable[[Any], _T], what: str) -> tuple[_T, ...]:
    out = []
    for item in value:
        if not isinstance(item, Mapping):
            raise _bad(f"{what}: an entry is not a map")
        out.append(parse(item))
    return tuple(out)


def _names_from(value: Mapping[Any, Any], what: str) -> dict[str, str]:
    names = _get(value, "names", _is_map, what)
    if not all(type(k) is str and type(v) is str for k, v in names.items()):
        raise _bad(f"{what}: names map language codes to text")
    return dict(names)


def _key(value: Mapping[Any, Any]) -> IssuerKey:
    kid = _get(value, "kid", lambda v: type(v) is bytes and len(v) == KID_LENGTH, "a key")
    der = _get(value, "key", lambda v: type(v) is bytes, "a key")
    status = _get(value, "status", lambda v: v in KEY_STATUSES, "a key")
    try:
        load_public_key_der(der)
    except MalformedError as exc:
        raise _bad(f"key {kid.hex()} is not a P-256 SubjectPublicKeyInfo") from exc
    if kid_for_der(der) != kid:
        raise _bad(f"kid {kid.hex()} does not match its key")
    return IssuerKey(kid=kid, public_key_der=der, status=status)


def _issuer(value: Mapping[Any, Any]) -> Issuer:
    code = _get(value, "code", _is_text, "an issuer")
    what = f"issuer {code}"
    categories = _get(value, "categories", _is_array, what)
    if not all(_is_uint(c) for c in categories):
        raise _bad(f"{what}: categories are unsigned integers")
    return Issuer(
        code=code,
        names=_names_from(value, what),
        municipality=_get(value, "municipality", _is_uint, what),
        categories=tuple(categories),
        keys=_items(_get(value, "keys", _is_array, what), _key, what),
    )


def _category(value: Mapping[Any, Any]) -> Category:
    return Category(
        code=_get(value, "code", _is_uint, "a category"),
        slug=_get(value, "slug", _is_text, "a category"),
        names=_names_from(value, "a category"),
    )


def _municipality(value: Mapping[Any, Any]) -> Municipality:
    return Municipality(
        code=_get(value, "code", _is_uint, "a municipality"),
        names=_names_from(value, "a municipality"),
    )


def load_trust_list(data: bytes, *, root_public_key: ec.EllipticCurvePublicKey) -> TrustList:
    """Return the trust list in `data` after checking that the root key signed it.

    Raises ListError: "malformed" (not a well-formed signed trust list, a key that is not
    P-256 or does not match its kid, a kid or issuer code listed twice), "bad_signature"
    (not signed by `root_public_key`), "wrong_type" (e.g. a revocation list).
    Does not check the version: see `accept_update`.
    """
    payload = _open(data, root_public_key, TRUST_LIST_TYPE)
    what = "the trust list"
    issuers = _items(_get(payload, "issuers", _is_array, what), _issuer, what)
    kids = [key.kid for issuer in issuers for key in issuer.keys]
    if len(set(kids)) != len(kids):
        raise _bad("a kid is listed twice")
    if len({issuer.code for issuer in issuers}) != len(issuers):
        raise _bad("an issuer code is listed twice")
    return TrustList(
        version=_get(payload, "version", _is_uint, what),
        issued=_get(payload, "issued", _is_uint, what),
        stale_after=_get(payload, "stale_after", _is_uint, what),
        issuers=issuers,
        categories=_optional_items(payload, "categories", _category),
        municipalities=_optional_items(payload, "municipalities", _municipality),
    )


def _optional_items(
    payload: Mapping[Any, Any], key: str, parse: Callable[[Any], _T]
) -> tuple[_T, ...]:
    value = payload.get(key, ())
    if not _is_array(value):
        raise _bad(f"{key} is not an array")
    return _items(value, parse, key)


def _check_run(run: object, what: str, error: Callable[[str], Exception]) -> None:
    """Raise `error` unless `run` is bytes holding distinct 5-byte ids in ascending order."""
    if type(run) is not bytes or len(run) % ID_LENGTH:
        raise error(f"{what}: ids must be a byte string of 5-byte ids")
    previous = b""
    for start in range(0, len(run), ID_LENGTH):
        current = run[start : start + ID_LENGTH]
        if current <= previous:
            raise error(f"{what}: ids are not sorted and distinct")
        previous = current


def load_revocation_list(
    data: bytes, *, root_public_key: ec.EllipticCurvePublicKey
) -> RevocationList:
    """Return the revocation list in `data` after checking that the root key signed it.

    Raises ListError: "malformed" (including a partition that is not a sorted run of
    distinct 5-byte ids), "bad_signature", "wrong_type" (e.g. a trust list).
    Does not check the version: see `accept_update`.
    """
    payload = _open(data, root_public_key, REVOCATION_LIST_TYPE)
    what = "the revocation list"
    partitions: dict[str, RevocationPartition] = {}
    for code, entry in _get(payload, "issuers", _is_map, what).items():
        if not _is_text(code) or not isinstance(entry, Mapping):
            raise _bad("issuers maps an issuer code to {revoked, replaced}")
        revoked = _get(entry, "revoked", lambda v: type(v) is bytes, f"issuer {code}")
        replaced = _get(entry, "replaced", lambda v: type(v) is bytes, f"issuer {code}")
        _check_run(revoked, f"issuer {code} revoked", _bad)
        _check_run(replaced, f"issuer {code} replaced", _bad)
        partitions[code] = RevocationPartition(revoked=revoked, replaced=replaced)
    return RevocationList(
        version=_get(payload, "version", _is_uint, what),
        issued=_get(payload, "issued", _is_uint, what),
        stale_after=_get(payload, "stale_after", _is_uint, what),
        partitions=partitions,
    )


def accept_update(current_version: int | None, candidate_version: int) -> bool:
    """True when a device holding `current_version` (None: no list yet) should take a list of
    `candidate_version`: only a strictly newer version, never a rollback or a replay."""
    return current_version is None or candidate_version > current_version


def is_stale(issued: int, stale_after: int, at_epoch: float) -> bool:
    """True when a list issued at `issued` is older than `stale_after` seconds at `at_epoch`."""
    return at_epoch > issued + stale_after


# -- revocation look-up -------------------------------------------------------------------


def build_partition(revoked: Iterable[bytes], replaced: Iterable[bytes]) -> RevocationPartition:
    """Return one issuer's partition: each run sorted, duplicates dropped.

    An id that is both revoked and replaced is kept as revoked only. Raises ValueError for an
    id that is not 5 bytes.
    """
    revoked_ids = {bytes(i) for i in revoked}
    replaced_ids = {bytes(i) for i in replaced} - revoked_ids
    for permit_id in revoked_ids | replaced_ids:
        if len(permit_id) != ID_LENGTH:
            raise ValueError(f"a permit id is {ID_LENGTH} bytes, not {len(permit_id)}")
    return RevocationPartition(
        revoked=b"".join(sorted(revoked_ids)), replaced=b"".join(sorted(replaced_ids))
    )


def contains_id(run: bytes, permit_id: bytes) -> bool:
    """True when the sorted run of 5-byte ids holds `permit_id` (binary search, O(log n))."""
    if len(permit_id) != ID_LENGTH:
        return False
    low, high = 0, len(run) // ID_LENGTH
    while low < high:
        middle = (low + high) // 2
        start = middle * ID_LENGTH
        entry = run[start : start + ID_LENGTH]
        if entry < permit_id:
            low = middle + 1
        elif entry > permit_id:
            high = middle
        else:
            return True
    return False


def revocation_status(
    rl: RevocationList, issuer_code: str, permit_id: bytes
) -> RevocationStatus | None:
    """Return "revoked" or "replaced" when the issuer's partition lists `permit_id`, else None.

    Revoked is looked up first. Each look-up is a binary search over the bytes (no set is built).
    """
    partition = rl.partitions.get(issuer_code)
    if partition is None:
        return None
    if contains_id(partition.revoked, permit_id):
        return "revoked"
    if contains_id(partition.replaced, permit_id):
        return "replaced"
    return None
