"""The generic COSE_Sign1 / ES256 layer, the strict CBOR reader, the text form and key helpers."""

from __future__ import annotations

import base64
import contextlib
import hashlib
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given
from hypothesis import strategies as st

from verifier import cose, keys, text
from verifier.errors import BadSignatureError, MalformedError

KEY = keys.generate_private_key()
KID = keys.kid_for(KEY.public_key())
OTHER = keys.generate_private_key()

# A payload shaped like an EU Digital COVID Certificate (CWT claims + hcert under -260).
DCC_PAYLOAD = cbor2.dumps(
    {
        1: "AT",  # iss
        4: 1_700_000_000,  # exp
        6: 1_690_000_000,  # iat
        -260: {
            1: {
                "ver": "1.3.0",
                "nam": {
                    "fn": "Musterfrau-Gößinger",
                    "gn": "Gabriele",
                    "fnt": "MUSTERFRAU<GOESSINGER",
                },
                "dob": "1998-02-26",
                "v": [{"tg": "840539006", "dn": 2, "sd": 2, "dt": "2021-02-18", "co": "AT"}],
            }
        },
    }
)


def sign_raw(
    protected: bytes, unprotected: Any, payload: Any, *, key: ec.EllipticCurvePrivateKey = KEY
) -> list[Any]:
    der = key.sign(cose.sig_structure(protected, payload), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return [protected, unprotected, payload, r.to_bytes(32, "big") + s.to_bytes(32, "big")]


def test_sign1_writes_the_v1_header_untagged() -> None:
    data = cose.sign1(b"hello", private_key=KEY, kid=KID)
    assert data[0] == 0x84  # an array of 4, no tag
    assert data[1:15] == bytes.fromhex("4da201260448") + KID  # bstr(13) {1: -7, 4: h'kid'}
    assert data[15] == 0xA0  # empty unprotected map
    message = cose.parse_sign1(data)
    assert (message.alg, message.kid, message.payload) == (-7, KID, b"hello")
    assert message.protected == {1: -7, 4: KID}
    assert message.unprotected == {}
    assert len(message.signature) == 64
    cose.verify_sign1(message, KEY.public_key())


def test_tagged_dcc_like_message_verifies() -> None:
    data = cose.sign1(DCC_PAYLOAD, private_key=KEY, kid=KID, tagged=True)
    assert data[:2] == b"\xd2\x84"  # tag 18, array of 4
    assert cose.verify(data, KEY.public_key()) == DCC_PAYLOAD
    hcert = cbor2.loads(cose.verify(data, KEY.public_key()))[-260][1]
    assert hcert["nam"]["gn"] == "Gabriele"


def test_dcc_with_kid_in_the_unprotected_header() -> None:
    protected = cbor2.dumps({1: -7})
    message = cbor2.dumps(cbor2.CBORTag(18, sign_raw(protected, {4: KID}, DCC_PAYLOAD)))
    parsed = cose.parse_sign1(message)
    assert parsed.kid == KID
    assert cose.verify(message, KEY.public_key()) == DCC_PAYLOAD


def test_the_signature_covers_the_sig_structure() -> None:
    data = cose.sign1(b"payload", private_key=KEY, kid=KID)
    message = cose.parse_sign1(data)
    tbs = cbor2.dumps(["Signature1", message.protected_bytes, b"", b"payload"])
    assert cose.sig_structure(message.protected_bytes, b"payload") == tbs
    assert tbs.startswith(bytes.fromhex("846a5369676e617475726531"))  # ["Signature1", ...
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    r = int.from_bytes(message.signature[:32], "big")
    s = int.from_bytes(message.signature[32:], "big")
    KEY.public_key().verify(encode_dss_signature(r, s), tbs, ec.ECDSA(hashes.SHA256()))


@given(st.integers(0, 70_000), st.integers(0, 300))
def test_sig_structure_is_the_cbor_array(payload_size: int, header_size: int) -> None:
    protected, payload = b"h" * header_size, b"p" * payload_size
    expected = cbor2.dumps(["Signature1", protected, b"", payload])
    assert cose.sig_structure(protected, payload) == expected


def test_another_key_or_changed_payload_is_a_bad_signature() -> None:
    data = cose.sign1(b"payload", private_key=KEY, kid=KID)
    with pytest.raises(BadSignatureError):
        cose.verify(data, OTHER.public_key())
    changed = data.replace(b"payload", b"paYload")
    with pytest.raises(BadSignatureError):
        cose.verify(changed, KEY.public_key())
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    with pytest.raises(BadSignatureError):
        cose.verify(data, p384)


@pytest.mark.parametrize(
    "signature",
    [
        bytes(64),  # r = s = 0
        b"\xff" * 64,  # r, s >= n
        bytes(32) + b"\x01" * 32,
    ],
)
def test_impossible_signature_values_are_bad_signatures(signature: bytes) -> None:
    message = cbor2.dumps([cose.protected_header(KID), {}, b"x", signature])
    with pytest.raises(BadSignatureError):
        cose.verify(message, KEY.public_key())


def good(**changes: Any) -> bytes:
    """A well-formed message with items replaced."""
    items = dict(
        zip(
            ["protected", "unprotected", "payload", "signature"],
            sign_raw(cose.protected_header(KID), {}, b"x"),
            strict=True,
        )
    )
    items.update(changes)
    return cbor2.dumps(list(items.values()))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "CBOR"),
        (cbor2.dumps({1: 2}), "array"),
        (cbor2.dumps(7), "array"),
        (cbor2.dumps([1, 2, 3]), "array"),
        (cbor2.dumps(cbor2.CBORTag(98, [1, 2, 3, 4])), "tag 98"),
        (cbor2.dumps(cbor2.CBORTag(17, [b"", {}, b"", b""])), "tag 17"),
        (good(protected="a2"), "protected"),
        (good(protected=b"\x01"), "protected header is not a map"),
        (good(protected=b"\xff"), "CBOR"),
        (good(unprotected=[]), "unprotected"),
        (good(payload=None), "detached"),
        (good(signature="sig"), "signature"),
        (good(protected=cbor2.dumps({1: -35, 4: KID})), "algorithm -35"),
        (good(protected=cbor2.dumps({1: "ES256", 4: KID})), "algorithm 'ES256'"),
        (good(protected=cbor2.dumps({4: KID}), unprotected={1: -7}), "algorithm None"),
        (good(protected=b""), "algorithm None"),
        (good(protected=cbor2.dumps({True: -7, 4: KID})), "algorithm None"),
        (good(protected=cbor2.dumps({1.0: -7, 4: KID})), "algorithm None"),
        (good(protected=cbor2.dumps({1: -7})), "no kid"),
        (good(protected=cbor2.dumps({1: -7, 4: ""})), "kid"),
        (good(protected=cbor2.dumps({1: -7, 4: b""})), "kid"),
        (good(signature=bytes(63)), "63 bytes"),
        (good(signature=bytes(65)), "65 bytes"),
        (good() + b"\x00", "trailing"),
        (b"\x9f" + good()[1:] + b"\xff", "CBOR"),  # indefinite-length array
    ],
)
def test_malformed_messages(data: bytes, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        cose.parse_sign1(data)


def test_strict_cbor_reader() -> None:
    assert cose.decode_cbor(bytes.fromhex("a201020304")) == {1: 2, 3: 4}
    assert isinstance(cose.decode_cbor(bytes.fromhex("c24101")), cbor2.CBORTag)  # no bignum
    assert isinstance(cose.decode_cbor(bytes.fromhex("d81c8100")), cbor2.CBORTag)  # no sharing
    for bad in ["a201020102", "01 02", "5bffffffffffffffff", "9bffffffffffffffff", "62c328"]:
        with pytest.raises(MalformedError):
            cose.decode_cbor(bytes.fromhex(bad.replace(" ", "")))
    with pytest.raises(MalformedError):
        cose.decode_cbor(b"\x81" * 40 + b"\x00")  # nested deeper than MAX_DEPTH
    with pytest.raises(MalformedError):
        cose.decode_cbor("not bytes")  # type: ignore[arg-type]


@given(st.binary(max_size=300))
def test_parse_sign1_raises_only_malformed(data: bytes) -> None:
    with contextlib.suppress(MalformedError):
        cose.parse_sign1(data)


# -- text form -------------------------------------------------------------------------------


def test_qr_text_round_trip_and_trimming() -> None:
    data = cose.sign1(b"x", private_key=KEY, kid=KID)
    qr = text.encode_qr_text(data)
    assert qr.startswith("MP1:")
    assert set(qr[4:]) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert text.decode_qr_text(qr) == data
    assert text.decode_qr_text(f" \t{qr}\r\n") == data


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "string"),
        (b"MP1:00", "string"),
        ("", "empty"),
        ("   ", "empty"),
        ("MP1:", "nothing after"),
        ("mp1:00", "does not start"),
        ("HC1:00", "does not start"),
        ("MP1:0", "Base45"),
        ("MP1:abc", "Base45"),
        ("MP1:GGW", "Base45"),
        ("MP1:00\n00", "Base45"),
        ("MP1:" + "0" * 4093, "longer than 4096"),
        ("MP1:" + "0" * 100_000, "longer than 4096"),
    ],
)
def test_bad_qr_texts(value: object, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        text.decode_qr_text(value)


def test_the_longest_accepted_text() -> None:
    assert len(text.decode_qr_text("MP1:" + "0" * 4092)) == 4092 // 3 * 2


def test_base45_rfc_9285_examples() -> None:
    assert text.base45_encode(b"AB") == "BB8"
    assert text.base45_encode(b"Hello!!") == "%69 VD92EX0"
    assert text.base45_encode(b"base-45") == "UJCLQE7W581"
    assert text.base45_decode("QED8WEX0") == b"ietf!"


@given(st.binary(max_size=300))
def test_base45_round_trips_any_bytes(data: bytes) -> None:
    assert text.base45_decode(text.base45_encode(data)) == data


@given(st.text(alphabet=text.ALPHABET + "a\n", max_size=30))
def test_base45_decoder_agrees_with_the_reference_package(candidate: str) -> None:
    """Our fast decoder accepts exactly what the `base45` package accepts, with equal bytes."""
    import base45

    try:
        expected: bytes | None = base45.b45decode(candidate)
    except (ValueError, TypeError, KeyError):
        expected = None
    if "\n" in candidate or "a" in candidate:
        expected = None  # the package strips line breaks and upper-cases; the format does not
    try:
        ours: bytes | None = text.base45_decode(candidate)
    except MalformedError:
        ours = None
    assert ours == expected


# -- keys ---------------------------------------------------------------------------------------


def test_kid_is_the_first_eight_bytes_of_sha256_over_the_spki() -> None:
    der = KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert keys.kid_for(KEY.public_key()) == hashlib.sha256(der).digest()[:8]
    assert keys.public_key_der(KEY.public_key()) == der
    assert keys.load_public_key_der(der).public_numbers() == KEY.public_key().public_numbers()
    pem = keys.public_key_pem(KEY.public_key())
    assert (
        keys.load_public_key_pem(pem.decode()).public_numbers() == KEY.public_key().public_numbers()
    )


def test_jwk_holds_the_public_point() -> None:
    jwk = keys.public_key_jwk(KEY.public_key())
    numbers = KEY.public_key().public_numbers()

    def unb64(value: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")

    assert (jwk["kty"], jwk["crv"], jwk["kid"]) == ("EC", "P-256", KID.hex())
    assert (unb64(jwk["x"]), unb64(jwk["y"])) == (numbers.x, numbers.y)
    assert "d" not in jwk


def test_only_p256_public_keys_load() -> None:
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    p384_der = (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for load, data in [
        (keys.load_public_key_pem, rsa_pem),
        (keys.load_public_key_pem, b"not a key"),
        (keys.load_public_key_der, p384_der),
        (keys.load_public_key_der, b"\x30\x03\x02\x01\x01"),
    ]:
        with pytest.raises(MalformedError):
            load(data)


# -- the reader of the common shape [bstr, {}, bstr, bstr] ----------------------------------

_BSTR_LENGTHS = st.sampled_from([0, 1, 23, 24, 25, 64, 255, 256, 300])


def _bstr_heads(length: int) -> list[bytes]:
    """Every definite-length head of a byte string of `length` bytes that CBOR allows (the
    shortest first), up to a 2-byte length field."""
    heads = [bytes([0x40 + length])] if length < 24 else []
    if length < 256:
        heads.append(bytes([0x58, length]))
    heads.append(bytes([0x59]) + length.to_bytes(2, "big"))
    return heads


@st.composite
def _common_shaped(draw: st.DrawFn) -> bytes:
    """[bstr, {}, bstr, bstr] with any allowed length heads, often cut, extended or altered."""
    parts = [b"\x84"]
    for index in range(4):
        if index == 1:
            parts.append(b"\xa0")
            continue
        length = draw(_BSTR_LENGTHS)
        content = draw(st.binary(min_size=length, max_size=length))
        parts.append(draw(st.sampled_from(_bstr_heads(length))) + content)
    data = b"".join(parts)
    change = draw(st.sampled_from(["none", "cut", "extend", "flip"]))
    if change == "cut":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif change == "extend":
        data += draw(st.binary(min_size=1, max_size=3))
    elif change == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    return data


@given(_common_shaped())
def test_the_common_shape_reader_agrees_with_the_general_decoder(data: bytes) -> None:
    read = cose._common_sign1(data)
    if read is None:
        return  # the general decoder decides, as for any other bytes
    protected, payload, signature = read
    assert cose.decode_cbor(data) == [protected, {}, payload, signature]


def test_the_common_shape_reader_takes_every_permit_shape() -> None:
    """Messages as sign1 writes them take the short path, with the same result."""
    for size in (0, 23, 24, 255, 256, 1000):
        message = cose.sign1(b"p" * size, private_key=KEY, kid=KID)
        read = cose._common_sign1(message)
        assert read is not None
        protected, payload, signature = read
        assert cose.decode_cbor(message) == [protected, {}, payload, signature]
        assert cose.parse_sign1(message).payload == b"p" * size
    tagged = cose.sign1(b"x", private_key=KEY, kid=KID, tagged=True)
    assert cose._common_sign1(tagged) is None  # tag 18: the general decoder
    assert cose.parse_sign1(tagged).payload == b"x"
