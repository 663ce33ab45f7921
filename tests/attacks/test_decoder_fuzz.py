"""Property-based fuzzing of the Python decoders (quick: part of `make test`).

The verifier's own tests feed it random text, random bytes and mutated permits. These go
further, past the signature check, where a forger with a stolen issuer key (or the root key
for lists) could hand a device anything: random CBOR payloads under a valid signature, random
COSE structures, random lists signed by the root, random claim maps. The decoders must answer
with their one error type (or a precise verdict), never crash and never accept garbage.

The long coverage-guided run (atheris, >= 100,000 inputs) is benchmarks/fuzz_decoder.py.
"""

from __future__ import annotations

import contextlib
from typing import Any

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.attacks import forge
from tests.attacks.forge import NOW, Keys
from verifier import codec, controlcode, cose, lists, text
from verifier.errors import ListError, MalformedError
from verifier.model import Status
from verifier.verify import Verifier

K = Keys.fresh()
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64 - 1),
    st.floats(allow_nan=True),
    st.binary(max_size=40),
    st.text(max_size=40),
)
cbor_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.dictionaries(st.one_of(st.integers(-5, 30), st.text(max_size=8)), inner, max_size=6),
        st.builds(cbor2.CBORTag, st.integers(0, 300), inner),
    ),
    max_leaves=25,
)


def _verifier() -> Verifier:
    return Verifier(forge.trust_list(K), forge.empty_revocations())


VERIFIER = _verifier()


@given(cbor_values)
@FAST
def test_any_cbor_payload_under_a_valid_signature_is_never_valid(value: Any) -> None:
    payload = cbor2.dumps(value)
    permit = forge.signed_permit_bytes(payload, K.clinic)
    result = VERIFIER.verify(permit, at=NOW)
    try:
        codec.decode_claims(payload)
    except MalformedError:
        assert result.status is Status.MALFORMED
        assert result.claims is None
    else:  # pragma: no cover - random CBOR that is a whole valid claims map
        assert result.claims is not None


@given(st.dictionaries(st.integers(-3, 40), cbor_values, max_size=14), st.data())
@FAST
def test_claim_maps_with_random_values_decode_or_are_malformed(
    claims_map: dict[int, Any], data: st.DataObject
) -> None:
    genuine = codec.claims_to_cbor_map(forge.claims())
    # Start from a genuine map and overwrite some of its entries with anything.
    mixed = {**genuine, **{k: v for k, v in claims_map.items() if data.draw(st.booleans())}}
    payload = cbor2.dumps(mixed)
    try:
        claims = codec.decode_claims(payload)
    except MalformedError:
        return
    codec.validate_claims(claims)  # what decodes is a well-formed permit


@given(st.lists(cbor_values, min_size=0, max_size=6), st.booleans())
@FAST
def test_random_cose_structures_are_never_valid(items: list[Any], tagged: bool) -> None:
    value: Any = cbor2.CBORTag(18, items) if tagged else items
    raw = cbor2.dumps(value)
    assert VERIFIER.verify(text.encode_qr_text(raw), at=NOW).status is not Status.VALID
    with contextlib.suppress(MalformedError):  # the only way parse_sign1 may refuse
        cose.parse_sign1(raw)


@given(cbor_values, st.sampled_from(["trust", "revocation"]))
@FAST
def test_random_payloads_signed_by_the_root_load_or_raise_list_errors(
    value: Any, kind: str
) -> None:
    data = forge.signed_list_bytes(cbor2.dumps(value), K.root)
    load = lists.load_trust_list if kind == "trust" else lists.load_revocation_list
    try:
        loaded = load(data, root_public_key=K.root.public_key())
    except ListError as refused:
        reason = refused.reason
    else:
        reason = "loaded"
    assert reason in (ListError.MALFORMED, ListError.WRONG_TYPE, "loaded")
    if reason != "loaded":
        return
    if kind == "trust":  # pragma: no cover - random CBOR that is a whole trust list
        Verifier(loaded)  # type: ignore[arg-type]


@given(st.data())
@FAST
def test_trust_lists_with_random_fields_load_or_raise_list_errors(data: st.DataObject) -> None:
    payload = lists.trust_list_payload(forge.trust_list(K))
    issuer = payload["issuers"][data.draw(st.integers(0, 1))]
    target = data.draw(st.sampled_from(["payload", "issuer", "key"]))
    holder = {"payload": payload, "issuer": issuer, "key": issuer["keys"][0]}[target]
    field = data.draw(st.sampled_from(sorted(holder)))
    holder[field] = data.draw(cbor_values)
    signed = forge.signed_list_bytes(cbor2.dumps(payload), K.root)
    try:
        loaded = lists.load_trust_list(signed, root_public_key=K.root.public_key())
    except ListError:
        return
    Verifier(loaded)  # a list that loads builds a verifier


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", max_size=300))
@FAST
def test_random_base45_after_the_prefix_is_never_valid(body: str) -> None:
    assert VERIFIER.verify("MP1:" + body, at=NOW).status is not Status.VALID


@given(st.text(max_size=40))
@FAST
def test_control_codes_parse_or_are_malformed(value: str) -> None:
    try:
        permit_id = controlcode.parse_control_code(value)
    except MalformedError:
        return
    assert len(permit_id) == 5
    assert controlcode.parse_control_code(controlcode.control_code(permit_id)) == permit_id
