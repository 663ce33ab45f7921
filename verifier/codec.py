"""The permit payload of format v1: a CBOR map of CWT claims plus compact negative keys.

    key  name          CBOR type                                   required
      4  exp           uint, epoch seconds, exclusive end          yes
      5  nbf           uint, epoch seconds                         yes
      7  cti           bstr, exactly 5 bytes: the permit id        yes
     -1  category      uint                                        yes
     -2  persons       array (1..50) of [role, name, document]     yes
     -3  plate         uint (packed AB-123-CD) or tstr (free form) no
     -4  vehicle kind  uint (absent means car)                     no
     -5  make/model    tstr                                        no
     -6  route         [from uint, to uint] municipality codes     no
     -7  route note    tstr                                        no
     -8  windows       [s1, e1, s2, e2, ...] minutes 0..1439       no
     -9  weekdays      uint bitmask, bit 0 = Monday (1..127)       no

A name is a tstr, or a bstr in packed Georgian (6 bits a letter); a document is a uint
(Georgian personal number, 11 digits zero-padded) or a tstr (foreign document). Unknown keys
are ignored; anything else that does not fit is malformed. docs/format.md has the details.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping
from typing import Any

import cbor2

from verifier.cose import decode_cbor, int_keyed
from verifier.errors import MalformedError
from verifier.model import PermitClaims, Person, Role, VehicleKind, Window

EXP, NBF, CTI = 4, 5, 7
CATEGORY, PERSONS, PLATE, VEHICLE_KIND = -1, -2, -3, -4
MAKE_MODEL, ROUTE, ROUTE_NOTE, WINDOWS, WEEKDAYS = -5, -6, -7, -8, -9

PERMIT_ID_LENGTH = 5
MAX_PERSONS = 50
MAX_NAME = 200  # characters
MAX_FOREIGN_DOCUMENT = 40
MAX_FREEFORM_PLATE = 20
MAX_MAKE_MODEL = 100
MAX_ROUTE_NOTE = 200
MAX_WINDOWS = 12
MINUTES_PER_DAY = 24 * 60
PERSONAL_NUMBER_LIMIT = 10**11  # a personal number has 11 digits
UINT_MAX = 2**64 - 1
ALL_WEEKDAYS = 0b1111111

_PERSONAL_NUMBER = re.compile(r"[0-9]{11}", re.ASCII)
_STANDARD_PLATE = re.compile(r"[A-Z]{2}[0-9]{3}[A-Z]{2}", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# -- packed Georgian -------------------------------------------------------------------

GEORGIAN_FIRST = 0x10D0  # ა: code 0 ... ჰ (U+10F0): code 32
GEORGIAN_LAST = 0x10F0
CODE_SPACE = 33
CODE_HYPHEN = 34
CODE_PADDING = 63


def is_packable(name: str) -> bool:
    """True when `name` is non-empty and every character is a Georgian letter (U+10D0..U+10F0),
    a space or a hyphen-minus, so that packed Georgian can carry it."""
    return bool(name) and all(
        GEORGIAN_FIRST <= ord(ch) <= GEORGIAN_LAST or ch == " " or ch == "-" for ch in name
    )


def _code(ch: str) -> int:
    if ch == " ":
        return CODE_SPACE
    if ch == "-":
        return CODE_HYPHEN
    point = ord(ch)
    if GEORGIAN_FIRST <= point <= GEORGIAN_LAST:
        return point - GEORGIAN_FIRST
    raise ValueError(f"{ch!r} is not in the packed Georgian alphabet")


def pack_georgian(name: str) -> bytes:
    """Return `name` in packed Georgian: 6-bit codes MSB first, the last byte padded with 1-bits.

    Raises ValueError unless `is_packable(name)`.
    """
    if not name:
        raise ValueError("an empty name cannot be packed")
    value, bits = 0, 0
    for ch in name:
        value = (value << 6) | _code(ch)
        bits += 6
    pad = -bits % 8
    value = (value << pad) | ((1 << pad) - 1)
    return value.to_bytes((bits + pad) // 8, "big")


def unpack_georgian(data: bytes) -> str:
    """Return the text of a packed Georgian name; raise MalformedError when it is not canonical.

    Rejected: empty input, codes 35..62, a 63 (padding group) anywhere but as the very last
    group, padding bits that are not all 1, and padding of 8 bits or more.
    """
    if not data:
        raise MalformedError("empty packed name")
    groups, rest = divmod(len(data) * 8, 6)
    if data[-1] & ((1 << rest) - 1) != (1 << rest) - 1:
        raise MalformedError("packed name: padding bits are not all 1")
    # 6-bit groups, most significant first, are what Base64 writes: its first `groups`
    # characters are exactly the codes (the next one would hold the padding bits).
    codes = binascii.b2a_base64(data, newline=False)[:groups]
    if codes[-1] == _B64_PADDING:
        if rest:
            raise MalformedError("packed name: more than 7 bits of padding")
        codes = codes[:-1]
    if not codes:
        raise MalformedError("empty packed name")
    stray = codes.translate(None, _B64_LETTERS)
    if stray:
        raise MalformedError(f"packed name: code {_B64.index(stray[0])} is not a letter")
    return codes.decode("ascii").translate(_B64_TEXT)


_LETTER_CODES = (*range(GEORGIAN_LAST - GEORGIAN_FIRST + 1), CODE_SPACE, CODE_HYPHEN)
_CODE_TEXT = {code: chr(GEORGIAN_FIRST + code) for code in _LETTER_CODES[:-2]}
_CODE_TEXT |= {CODE_SPACE: " ", CODE_HYPHEN: "-"}
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"  # value -> character
_B64_PADDING = _B64[CODE_PADDING]
_B64_LETTERS = bytes(_B64[code] for code in _LETTER_CODES)  # the characters of letter codes
_B64_TEXT = {_B64[code]: text for code, text in _CODE_TEXT.items()}  # for str.translate


# -- packed plate ----------------------------------------------------------------------

PLATE_MAX = ((25 * 26 + 25) * 1000 + 999) * 26 * 26 + 25 * 26 + 25  # ZZ-999-ZZ


def is_standard_plate(plate: str) -> bool:
    """True when `plate` is a normalised standard Georgian plate: two letters, three digits,
    two letters, A-Z and 0-9 only, no dashes (e.g. "AB123CD")."""
    return _STANDARD_PLATE.fullmatch(plate) is not None


def pack_plate(plate: str) -> int:
    """Return the uint of a standard plate "AB123CD": ((((L1*26+L2)*1000+NNN)*26+L3)*26+L4),
    with A=0 ... Z=25. Raises ValueError for anything else."""
    if not is_standard_plate(plate):
        raise ValueError(f"{plate!r} is not a standard plate AB123CD")
    letter = [ord(ch) - ord("A") for ch in plate[:2] + plate[5:]]
    value = (letter[0] * 26 + letter[1]) * 1000 + int(plate[2:5])
    return (value * 26 + letter[2]) * 26 + letter[3]


def unpack_plate(value: int) -> str:
    """Return the normalised plate ("AB123CD") of a packed plate; MalformedError if out of range."""
    if type(value) is not int or not 0 <= value <= PLATE_MAX:
        raise MalformedError("packed plate out of range")
    value, l4 = divmod(value, 26)
    value, l3 = divmod(value, 26)
    value, digits = divmod(value, 1000)
    l1, l2 = divmod(value, 26)
    letters = "".join(chr(ord("A") + n) for n in (l1, l2))
    return f"{letters}{digits:03d}{chr(ord('A') + l3)}{chr(ord('A') + l4)}"


def format_plate(plate: str) -> str:
    """Show a normalised plate: "AB123CD" as "AB-123-CD"; a free-form plate unchanged."""
    return f"{plate[:2]}-{plate[2:5]}-{plate[5:]}" if is_standard_plate(plate) else plate


# -- validation shared by encoder and decoder ----------------------------------------------


def _is_uint(value: object) -> bool:
    return type(value) is int and 0 <= value <= UINT_MAX


def _check_text(value: object, what: str, limit: int) -> None:
    if type(value) is not str or not value:
        raise ValueError(f"{what} must be non-empty text")
    if len(value) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    if _CONTROL.search(value):
        raise ValueError(f"{what} contains a control character")


def validate_claims(claims: PermitClaims) -> None:
    """Raise ValueError unless `claims` can be carried by format v1 exactly as they are.

    This is the one list of rules: the encoder refuses what the decoder would refuse, so
    every permit that can be encoded decodes to equal claims (except that a vehicle kind of
    CAR is written as absent and so comes back as None).
    """
    if type(claims.permit_id) is not bytes or len(claims.permit_id) != PERMIT_ID_LENGTH:
        raise ValueError(f"the permit id must be {PERMIT_ID_LENGTH} bytes")
    for what, number in (
        ("category", claims.category),
        ("nbf", claims.not_before),
        ("exp", claims.expires),
    ):
        if not _is_uint(number):
            raise ValueError(f"{what} must be an unsigned integer")
    if claims.not_before >= claims.expires:
        raise ValueError("nbf must be before exp")
    if not 1 <= len(claims.persons) <= MAX_PERSONS:
        raise ValueError(f"a permit names 1 to {MAX_PERSONS} persons")
    for person in claims.persons:
        if not isinstance(person.role, Role):
            raise ValueError(f"unknown role {person.role!r}")
        _check_text(person.name, "a name", MAX_NAME)
        if person.foreign_document:
            _check_text(person.document, "a foreign document number", MAX_FOREIGN_DOCUMENT)
        elif type(person.document) is not str or not _PERSONAL_NUMBER.fullmatch(person.document):
            raise ValueError("a personal number has exactly 11 digits")
    if claims.plate is None:
        if claims.plate_freeform:
            raise ValueError("plate_freeform without a plate")
    elif claims.plate_freeform:
        _check_text(claims.plate, "a free-form plate", MAX_FREEFORM_PLATE)
    elif type(claims.plate) is not str or not is_standard_plate(claims.plate):
        raise ValueError("a standard plate is AB123CD (else set plate_freeform)")
    if claims.vehicle_kind is not None and not isinstance(claims.vehicle_kind, VehicleKind):
        raise ValueError(f"unknown vehicle kind {claims.vehicle_kind!r}")
    if claims.make_model is not None:
        _check_text(claims.make_model, "make and model", MAX_MAKE_MODEL)
    if (claims.route_from is None) != (claims.route_to is None):
        raise ValueError("a route has both ends or none")
    if claims.route_from is not None and not (
        _is_uint(claims.route_from) and _is_uint(claims.route_to)
    ):
        raise ValueError("route ends are municipality codes (unsigned integers)")
    if claims.route_note is not None:
        _check_text(claims.route_note, "the route note", MAX_ROUTE_NOTE)
    if len(claims.windows) > MAX_WINDOWS:
        raise ValueError(f"at most {MAX_WINDOWS} daily windows")
    for window in claims.windows:
        if not all(type(m) is int and 0 <= m < MINUTES_PER_DAY for m in (window.start, window.end)):
            raise ValueError("window times are minutes 0..1439")
        if window.start == window.end:
            raise ValueError("a window must start and end at different times")
    if claims.weekdays is not None and not (
        type(claims.weekdays) is int and 1 <= claims.weekdays <= ALL_WEEKDAYS
    ):
        raise ValueError("weekdays is a bitmask 1..127")


# -- encoder ------------------------------------------------------------------------------


def _wire_name(name: str) -> str | bytes:
    return pack_georgian(name) if is_packable(name) else name


def claims_to_cbor_map(claims: PermitClaims) -> dict[int, Any]:
    """Return the CBOR map (keys in wire order, absent optionals omitted) of valid `claims`."""
    validate_claims(claims)
    payload: dict[int, Any] = {
        EXP: claims.expires,
        NBF: claims.not_before,
        CTI: claims.permit_id,
        CATEGORY: claims.category,
        PERSONS: [
            [
                int(p.role),
                _wire_name(p.name),
                p.document if p.foreign_document else int(p.document),
            ]
            for p in claims.persons
        ],
    }
    if claims.plate is not None:
        payload[PLATE] = claims.plate if claims.plate_freeform else pack_plate(claims.plate)
    if claims.vehicle_kind is not None and claims.vehicle_kind is not VehicleKind.CAR:
        payload[VEHICLE_KIND] = int(claims.vehicle_kind)
    if claims.make_model is not None:
        payload[MAKE_MODEL] = claims.make_model
    if claims.route_from is not None:
        payload[ROUTE] = [claims.route_from, claims.route_to]
    if claims.route_note is not None:
        payload[ROUTE_NOTE] = claims.route_note
    if claims.windows:
        payload[WINDOWS] = [m for w in claims.windows for m in (w.start, w.end)]
    if claims.weekdays is not None:
        payload[WEEKDAYS] = claims.weekdays
    return payload


def encode_claims(claims: PermitClaims) -> bytes:
    """Return the CBOR payload of `claims` (smallest encodings, keys in wire order).

    Names made only of Georgian letters, spaces and hyphens are packed; a standard plate is
    packed unless `plate_freeform`; a vehicle kind of CAR is omitted (absent means car).
    Raises ValueError when the claims break a rule of `validate_claims`.
    """
    return cbor2.dumps(claims_to_cbor_map(claims))


# -- decoder ------------------------------------------------------------------------------


def _uint(value: object, what: str) -> int:
    if not _is_uint(value):
        raise MalformedError(f"{what} is not an unsigned integer")
    assert isinstance(value, int)
    return value


def _text(value: object, what: str) -> str:
    if type(value) is not str:
        raise MalformedError(f"{what} is not a text string")
    return value


def _array(value: object, what: str) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise MalformedError(f"{what} is not an array")
    return value


_ROLES = {int(role): role for role in Role}


def _person(value: object) -> Person:
    # Written out rather than through _uint/_text: it runs for every person of every scan.
    entry = _array(value, "a person")
    if len(entry) != 3:
        raise MalformedError("a person is [role, name, document]")
    role_value, name_value, document_value = entry
    role = _ROLES.get(role_value) if type(role_value) is int else None
    if role is None:
        _uint(role_value, "a role")
        raise MalformedError(f"unknown role {role_value!r}")
    packed = type(name_value) is bytes
    name = unpack_georgian(name_value) if packed else _text(name_value, "a name")
    if type(document_value) is str:
        return Person(role, name, document_value, True)
    if type(document_value) is not int or not 0 <= document_value < PERSONAL_NUMBER_LIMIT:
        _uint(document_value, "a document")
        raise MalformedError("a personal number has at most 11 digits")
    return Person(role, name, f"{document_value:011d}")


def claims_from_cbor_map(value: object) -> PermitClaims:
    """Return the claims of a decoded payload map; raise MalformedError when it breaks a rule."""
    if type(value) is not dict and not isinstance(value, Mapping):  # the ABC check is slow
        raise MalformedError("the payload is not a CBOR map")
    fields = int_keyed(value)
    for key, what in (
        (EXP, "exp"),
        (NBF, "nbf"),
        (CTI, "cti"),
        (CATEGORY, "category"),
        (PERSONS, "persons"),
    ):
        if key not in fields:
            raise MalformedError(f"required claim {what} ({key}) is missing")
    permit_id = fields[CTI]
    if type(permit_id) is not bytes:
        raise MalformedError("cti is not a byte string")
    persons = _array(fields[PERSONS], "persons")
    if not 1 <= len(persons) <= MAX_PERSONS:
        raise MalformedError(f"a permit names 1 to {MAX_PERSONS} persons")
    plate: str | None = None
    plate_freeform = False
    if PLATE in fields:
        if type(fields[PLATE]) is str:
            plate, plate_freeform = fields[PLATE], True
        else:
            plate = unpack_plate(_uint(fields[PLATE], "plate"))
    vehicle_kind: VehicleKind | None = None
    if VEHICLE_KIND in fields:
        try:
            vehicle_kind = VehicleKind(_uint(fields[VEHICLE_KIND], "vehicle kind"))
        except ValueError as exc:
            raise MalformedError(f"unknown vehicle kind {fields[VEHICLE_KIND]!r}") from exc
    route_from = route_to = None
    if ROUTE in fields:
        route = _array(fields[ROUTE], "route")
        if len(route) != 2:
            raise MalformedError("route is [from, to]")
        route_from, route_to = _uint(route[0], "route from"), _uint(route[1], "route to")
    windows: tuple[Window, ...] = ()
    if WINDOWS in fields:
        flat = _array(fields[WINDOWS], "windows")
        if not flat or len(flat) % 2:
            raise MalformedError("windows is a non-empty flat array of start, end pairs")
        minutes = [_uint(m, "a window time") for m in flat]
        windows = tuple(Window(minutes[i], minutes[i + 1]) for i in range(0, len(minutes), 2))
    claims = PermitClaims(
        permit_id=permit_id,
        category=_uint(fields[CATEGORY], "category"),
        not_before=_uint(fields[NBF], "nbf"),
        expires=_uint(fields[EXP], "exp"),
        persons=tuple(_person(p) for p in persons),
        plate=plate,
        plate_freeform=plate_freeform,
        vehicle_kind=vehicle_kind,
        make_model=_text(fields[MAKE_MODEL], "make and model") if MAKE_MODEL in fields else None,
        route_from=route_from,
        route_to=route_to,
        route_note=_text(fields[ROUTE_NOTE], "route note") if ROUTE_NOTE in fields else None,
        windows=windows,
        weekdays=_uint(fields[WEEKDAYS], "weekdays") if WEEKDAYS in fields else None,
    )
    try:
        validate_claims(claims)
    except ValueError as exc:
        raise MalformedError(str(exc)) from exc
    return claims


def decode_claims(payload: bytes) -> PermitClaims:
    """Return the claims in a CBOR payload; raise MalformedError when it is not a valid v1 payload.

    Unknown keys are ignored; wrong types, missing required claims and out-of-range values
    are malformed.
    """
    return claims_from_cbor_map(decode_cbor(payload))


# -- a JSON rendering (test vectors, APIs) --------------------------------------------------


def claims_to_json(claims: PermitClaims) -> dict[str, Any]:
    """Return `claims` as plain JSON values (the "claims" of the test vectors).

    permit_id is lower-case hex; roles and vehicle kinds are their wire numbers; windows are
    {"start", "end"} in minutes; absent optionals are null.
    """
    return {
        "permit_id": claims.permit_id.hex(),
        "category": claims.category,
        "not_before": claims.not_before,
        "expires": claims.expires,
        "persons": [
            {
                "role": int(p.role),
                "name": p.name,
                "document": p.document,
                "foreign_document": p.foreign_document,
            }
            for p in claims.persons
        ],
        "plate": claims.plate,
        "plate_freeform": claims.plate_freeform,
        "vehicle_kind": None if claims.vehicle_kind is None else int(claims.vehicle_kind),
        "make_model": claims.make_model,
        "route_from": claims.route_from,
        "route_to": claims.route_to,
        "route_note": claims.route_note,
        "windows": [{"start": w.start, "end": w.end} for w in claims.windows],
        "weekdays": claims.weekdays,
    }
