"""The claims codec: round trips, packed Georgian names, packed plates, strict decoding."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifier import codec
from verifier.errors import MalformedError
from verifier.model import PermitClaims, Person, Role, VehicleKind, Window

GEORGIAN = "".join(chr(c) for c in range(0x10D0, 0x10F1))
PACKED_ALPHABET = GEORGIAN + " -"
CONTROL = "".join(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)])

NINO = Person(Role.STAFF_MEMBER, "ნინო ბერიძე", "01024054321")
BASE = PermitClaims(
    permit_id=bytes.fromhex("0102030405"),
    category=2,
    not_before=1_793_563_200,
    expires=1_794_772_800,
    persons=(NINO,),
    plate="AA123BB",
    route_from=5,
    route_to=7,
    weekdays=0b11111,
)


def text(max_size: int) -> st.SearchStrategy[str]:
    chars = st.characters(exclude_categories=["Cs"], exclude_characters=CONTROL)
    return st.text(chars, min_size=1, max_size=max_size)


uint = st.integers(0, 2**64 - 1)
names = st.one_of(st.text(st.sampled_from(PACKED_ALPHABET), min_size=1, max_size=40), text(60))
persons = st.one_of(
    st.builds(
        Person,
        role=st.sampled_from(Role),
        name=names,
        document=st.integers(0, 10**11 - 1).map(lambda n: f"{n:011d}"),
    ),
    st.builds(
        Person,
        role=st.sampled_from(Role),
        name=names,
        document=text(codec.MAX_FOREIGN_DOCUMENT),
        foreign_document=st.just(True),
    ),
)
windows = st.builds(Window, st.integers(0, 1439), st.integers(0, 1439)).filter(
    lambda w: w.start != w.end
)
plates = st.one_of(
    st.just((None, False)),
    st.from_regex(r"[A-Z]{2}[0-9]{3}[A-Z]{2}", fullmatch=True).map(lambda p: (p, False)),
    text(codec.MAX_FREEFORM_PLATE).map(lambda p: (p, True)),
)
routes = st.one_of(st.just((None, None)), st.tuples(uint, uint))


@st.composite
def permit_claims(draw: st.DrawFn) -> PermitClaims:
    not_before = draw(st.integers(0, 2**64 - 2))
    plate, freeform = draw(plates)
    route_from, route_to = draw(routes)
    return PermitClaims(
        permit_id=draw(st.binary(min_size=5, max_size=5)),
        category=draw(uint),
        not_before=not_before,
        expires=draw(st.integers(not_before + 1, 2**64 - 1)),
        persons=tuple(draw(st.lists(persons, min_size=1, max_size=6))),
        plate=plate,
        plate_freeform=freeform,
        vehicle_kind=draw(st.none() | st.sampled_from(VehicleKind)),
        make_model=draw(st.none() | text(codec.MAX_MAKE_MODEL)),
        route_from=route_from,
        route_to=route_to,
        route_note=draw(st.none() | text(codec.MAX_ROUTE_NOTE)),
        windows=tuple(draw(st.lists(windows, max_size=codec.MAX_WINDOWS))),
        weekdays=draw(st.none() | st.integers(1, 127)),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(permit_claims())
def test_any_valid_claims_round_trip(claims: PermitClaims) -> None:
    decoded = codec.decode_claims(codec.encode_claims(claims))
    if claims.vehicle_kind is VehicleKind.CAR:  # absent on the wire means car
        claims = replace(claims, vehicle_kind=None)
    assert decoded == claims


def test_fifty_persons_round_trip_and_fifty_one_do_not_encode() -> None:
    fifty = replace(BASE, persons=(NINO,) * 50)
    assert codec.decode_claims(codec.encode_claims(fifty)) == fifty
    with pytest.raises(ValueError, match="1 to 50"):
        codec.encode_claims(replace(BASE, persons=(NINO,) * 51))


def test_known_encoding_byte_for_byte() -> None:
    payload = codec.encode_claims(BASE)
    assert payload.hex() == (
        "a8"  # map of 8
        "041a6afa0f40"  # 4 (exp): uint32 1794772800
        "051a6ae79a40"  # 5 (nbf): 1793563200
        "07450102030405"  # 7 (cti): 5-byte bstr
        "2002"  # -1 (category): 2
        "218183"  # -2 (persons): [[...]]
        "04"  # role 4 (staff member)
        "49" "30830d84111021b13f"  # packed "ნინო ბერიძე": 11 x 6 bits = 9 bytes
        "1a3d09d431"  # personal number 01024054321 as uint32
        "221a000144e7"  # -3 (plate): AA123BB packed = (123 * 26 + 1) * 26 + 1 = 83175
        "25820507"  # -6 (route): [5, 7]
        "28181f"  # -9 (weekdays): 31 = Mon-Fri
    )  # fmt: skip


def test_encoder_writes_keys_in_wire_order_and_omits_absent_optionals() -> None:
    full = replace(
        BASE,
        vehicle_kind=VehicleKind.VAN,
        make_model="Toyota Prius",
        route_note="via Sadakhlo",
        windows=(Window(360, 480),),
    )
    keys = list(cbor2.loads(codec.encode_claims(full)))
    assert keys == [4, 5, 7, -1, -2, -3, -4, -5, -6, -7, -8, -9]
    minimal = replace(BASE, plate=None, route_from=None, route_to=None, weekdays=None)
    assert list(cbor2.loads(codec.encode_claims(minimal))) == [4, 5, 7, -1, -2]


def test_car_is_written_as_absent() -> None:
    car = replace(BASE, vehicle_kind=VehicleKind.CAR)
    assert codec.encode_claims(car) == codec.encode_claims(BASE)
    assert codec.decode_claims(codec.encode_claims(car)).vehicle_kind is None


def test_names_are_packed_only_when_every_character_fits() -> None:
    people = (
        Person(Role.PATIENT, "ნინო ბერიძე-კაპანაძე", "01024054321"),
        Person(Role.ESCORT, "Məmmədov Əli", "01024054322"),
        Person(Role.DRIVER, "ნინო Beridze", "01024054323"),
    )
    wire = cbor2.loads(codec.encode_claims(replace(BASE, persons=people)))[codec.PERSONS]
    assert [type(p[1]) for p in wire] == [bytes, str, str]
    assert len(wire[0][1]) == 15  # 20 characters x 6 bits = 120 bits
    assert len(wire[1][1].encode()) == 15  # ə and Ə take two bytes in UTF-8


def test_foreign_document_is_text_and_personal_number_an_integer() -> None:
    people = (
        Person(Role.PATIENT, "ნინო", "00000000001"),
        Person(Role.DRIVER, "Jean", "12345678901", foreign_document=True),
    )
    claims = replace(BASE, persons=people)
    wire = cbor2.loads(codec.encode_claims(claims))[codec.PERSONS]
    assert wire[0][2] == 1
    assert wire[1][2] == "12345678901"
    assert codec.decode_claims(codec.encode_claims(claims)).persons == people


# -- packed Georgian ----------------------------------------------------------------------


@given(st.text(st.sampled_from(PACKED_ALPHABET), min_size=1, max_size=80))
def test_packed_georgian_round_trip(name: str) -> None:
    packed = codec.pack_georgian(name)
    assert len(packed) == (6 * len(name) + 7) // 8
    assert codec.unpack_georgian(packed) == name


def test_packed_georgian_worked_example() -> None:
    # ნ=12 ი=8 ნ=12 ო=13: 001100 001000 001100 001101 -> 0x30 0x83 0x0D
    assert codec.pack_georgian("ნინო") == bytes.fromhex("30830d")
    # ა=0: 000000 + padding 11 -> 0x03
    assert codec.pack_georgian("ა") == b"\x03"
    # ჰ=32 ა=0 -: 100000 000000 100010 + 111111 (a whole padding group) -> 0x80 0x08 0xBF
    assert codec.pack_georgian("ჰა-") == bytes.fromhex("8008bf")


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"\x00", "padding 00 instead of 11"),
        (b"\x01", "padding 01"),
        (b"\x02", "padding 10"),
        (bytes.fromhex("3480"), "padding 0000"),
        (b"\xff", "only padding: 111111 11"),
        (bytes.fromhex("0fff"), "a padding group followed by more padding bits"),
        (bytes.fromhex("fc0003"), "padding group at the start"),
        (bytes.fromhex("8fffff"), "code 35 then padding"),
        (bytes.fromhex("f7"), "code 61"),
        (bytes.fromhex("ffffff"), "four padding groups"),
    ],
)
def test_packed_georgian_rejects_bad_codes_and_padding(data: bytes, why: str) -> None:
    with pytest.raises(MalformedError):
        codec.unpack_georgian(data)


@given(st.binary(min_size=1, max_size=20))
def test_unpacking_any_bytes_either_fails_cleanly_or_round_trips(data: bytes) -> None:
    try:
        name = codec.unpack_georgian(data)
    except MalformedError:
        return
    assert codec.pack_georgian(name) == data  # only canonical encodings are accepted


def test_pack_refuses_other_characters() -> None:
    assert not codec.is_packable("Nino")
    assert not codec.is_packable("")
    with pytest.raises(ValueError, match="packed Georgian"):
        codec.pack_georgian("ნინო!")


# -- packed plates ------------------------------------------------------------------------


def test_packed_plate_examples() -> None:
    assert codec.pack_plate("AA000AA") == 0
    assert codec.pack_plate("AB123CD") == ((0 * 26 + 1) * 1000 + 123) * 676 + 2 * 26 + 3
    assert codec.pack_plate("ZZ999ZZ") == codec.PLATE_MAX
    assert codec.unpack_plate(codec.pack_plate("AB123CD")) == "AB123CD"
    assert codec.format_plate("AB123CD") == "AB-123-CD"
    with pytest.raises(MalformedError):
        codec.unpack_plate(codec.PLATE_MAX + 1)
    with pytest.raises(ValueError, match="standard plate"):
        codec.pack_plate("AB-123-CD")


@given(st.integers(0, codec.PLATE_MAX))
def test_every_packed_plate_value_round_trips(value: int) -> None:
    assert codec.pack_plate(codec.unpack_plate(value)) == value


def test_free_form_plate_stays_text_even_when_it_looks_standard() -> None:
    claims = replace(BASE, plate="AB123CD", plate_freeform=True)
    assert cbor2.loads(codec.encode_claims(claims))[codec.PLATE] == "AB123CD"
    assert codec.decode_claims(codec.encode_claims(claims)) == claims
    with pytest.raises(ValueError, match="plate_freeform"):
        codec.encode_claims(replace(BASE, plate="10AB123"))


# -- strict decoding ---------------------------------------------------------------------------


def payload(**changes: Any) -> bytes:
    """The BASE payload with keys replaced (None deletes a key)."""
    fields = cbor2.loads(codec.encode_claims(BASE))
    for key, value in changes.items():
        number = getattr(codec, key)
        if value is None:
            fields.pop(number, None)
        else:
            fields[number] = value
    return cbor2.dumps(fields)


def test_unknown_keys_are_ignored() -> None:
    fields = cbor2.loads(codec.encode_claims(BASE))
    fields.update({1: "iss", 6: 1_700_000_000, -99: [1, {"x": 2.5}], "note": None})
    assert codec.decode_claims(cbor2.dumps(fields)) == BASE


@pytest.mark.parametrize(
    "changes",
    [
        {"EXP": None},
        {"NBF": None},
        {"CTI": None},
        {"CATEGORY": None},
        {"PERSONS": None},
        {"EXP": -1},
        {"EXP": 1.5e9},
        {"EXP": True},
        {"NBF": 1_794_772_800},  # nbf == exp
        {"CTI": b"1234"},
        {"CTI": "12345"},
        {"CATEGORY": "2"},
        {"PERSONS": []},
        {"PERSONS": [[4, "x", 1]] * 51},
        {"PERSONS": [[4, "x"]]},
        {"PERSONS": [[99, "x", 1]]},
        {"PERSONS": [[4, "", 1]]},
        {"PERSONS": [[4, "a\nb", 1]]},
        {"PERSONS": [[4, "x", 10**11]]},
        {"PERSONS": [[4, "x", -1]]},
        {"PERSONS": [[4, "x", b"1"]]},
        {"PERSONS": [[4, 5, 1]]},
        {"PERSONS": {"a": 1}},
        {"PLATE": codec.PLATE_MAX + 1},
        {"PLATE": b"AA123BB"},
        {"PLATE": ""},
        {"VEHICLE_KIND": 99},
        {"VEHICLE_KIND": 0},
        {"MAKE_MODEL": 7},
        {"ROUTE": [5]},
        {"ROUTE": [5, -7]},
        {"ROUTE_NOTE": b"note"},
        {"WINDOWS": []},
        {"WINDOWS": [360]},
        {"WINDOWS": [360, 360]},
        {"WINDOWS": [360, 1440]},
        {"WINDOWS": [0, 1] * 13},
        {"WEEKDAYS": 0},
        {"WEEKDAYS": 128},
    ],
)
def test_wrong_types_missing_claims_and_out_of_range_values_are_malformed(
    changes: dict[str, Any],
) -> None:
    with pytest.raises(MalformedError):
        codec.decode_claims(payload(**changes))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80",  # an array
        cbor2.dumps([1, 2]),
        codec.encode_claims(BASE) + b"\x00",  # trailing byte
        bytes.fromhex("a2040105020401"),  # duplicate key 4
        bytes.fromhex("bf0401ff"),  # indefinite-length map
        bytes.fromhex("a104c24101"),  # exp as a bignum (tag 2)
        bytes.fromhex("a104c11a6afa0f40"),  # exp as a tag-1 date
        bytes.fromhex("a161ff01"),  # invalid UTF-8 key
    ],
)
def test_not_a_valid_payload(data: bytes) -> None:
    with pytest.raises(MalformedError):
        codec.decode_claims(data)


def test_boolean_and_float_keys_do_not_pass_for_integers() -> None:
    fields = cbor2.loads(codec.encode_claims(BASE))
    del fields[codec.EXP]
    encoded = cbor2.dumps(fields)
    # append key 4.0 (float) -> exp: a map with one more entry
    as_float = bytes([encoded[0] + 1]) + encoded[1:] + bytes.fromhex("f944001a6afa0f40")
    with pytest.raises(MalformedError, match="exp"):
        codec.decode_claims(as_float)


def test_encoder_refuses_what_the_decoder_would_refuse() -> None:
    bad: list[dict[str, Any]] = [
        {"permit_id": b"1234"},
        {"not_before": BASE.expires},
        {"persons": ()},
        {"persons": (Person(Role.PATIENT, "x", "123"),)},
        {"persons": (Person(Role.PATIENT, "", "01024054321"),)},
        {"plate": None, "plate_freeform": True},
        {"route_to": None},
        {"windows": (Window(60, 60),)},
        {"windows": (Window(0, 1440),)},
        {"weekdays": 0},
        {"make_model": "tab\there"},
    ]
    for changes in bad:
        with pytest.raises(ValueError):  # noqa: PT011 (each case has its own message)
            codec.encode_claims(replace(BASE, **changes))


def test_claims_to_json() -> None:
    rendered = codec.claims_to_json(replace(BASE, windows=(Window(1320, 360),)))
    assert rendered["permit_id"] == "0102030405"
    assert rendered["persons"] == [
        {"role": 4, "name": "ნინო ბერიძე", "document": "01024054321", "foreign_document": False}
    ]
    assert rendered["windows"] == [{"start": 1320, "end": 360}]
    assert rendered["vehicle_kind"] is None
    assert rendered["plate"] == "AA123BB"
