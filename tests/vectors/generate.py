"""Generate the golden test vectors shared by the Python and the browser verifier.

    python -m tests.vectors.generate [OUTDIR]      (default: this folder)

Every run makes FRESH keys (root, another root, issuers) and throws the private keys away:
only public data is written. Everything else is fixed: the claims, the moments of
verification (the week of Monday 2 November 2026, Asia/Tbilisi), the permit ids.

Written files:
    root-public-key.pem, root-public-key.jwk.json   the pinned root key (PEM and WebCrypto JWK)
    trust-list.cose              current trust list (version 3)
    trust-list-v2.cose           an older trust list (version 2)
    trust-list-other-signer.cose a trust list (version 4) signed by another key
    trust-list-tampered.cose     version 3 with one payload byte changed
    trust-list-truncated.cose    version 3 cut short
    revocation-list.cose         current revocation list (version 5)
    permit-*.json                one permit vector each
    list-*.json                  one list vector each
    index.json                   the names of all vector files (browsers cannot list folders)

Each vector is checked against the Python verifier before it is written.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from verifier import codec, cose, keys, lists, text
from verifier.errors import ListError
from verifier.model import (
    Category,
    Issuer,
    IssuerKey,
    Municipality,
    PermitClaims,
    Person,
    RevocationList,
    Role,
    TrustList,
    VehicleKind,
    Window,
)
from verifier.verify import Verifier

ZONE = ZoneInfo("Asia/Tbilisi")
MONDAY = datetime(2026, 11, 2, tzinfo=ZONE)  # lists are issued at this moment
HOUR = 3600
DAY = 24 * HOUR

TRUST_LIST = "trust-list.cose"
TRUST_LIST_OLD = "trust-list-v2.cose"
TRUST_LIST_OTHER = "trust-list-other-signer.cose"
TRUST_LIST_TAMPERED = "trust-list-tampered.cose"
TRUST_LIST_TRUNCATED = "trust-list-truncated.cose"
REVOCATION_LIST = "revocation-list.cose"

CLINIC, BOLNISI = "MRN-CLINIC", "BOL-MUNI"
DOCTOR_VISIT, MEDICAL_STAFF, PATIENT_DELIVERY, FUNERAL, FARM_WORK = 1, 2, 3, 7, 8
MARNEULI, RUSTAVI, BOLNISI_TOWN = 5, 7, 1
MON, TUE, WED, THU, FRI = 1, 2, 4, 8, 16


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment `day` days after Monday 2 November 2026, at hour:minute Tbilisi time."""
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute, seconds=second)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def permit_id(name: str) -> bytes:
    """A fixed 5-byte permit id derived from the vector's name."""
    return hashlib.sha256(name.encode()).digest()[:5]


@dataclass
class Keys:
    root: ec.EllipticCurvePrivateKey
    other_root: ec.EllipticCurvePrivateKey
    clinic: ec.EllipticCurvePrivateKey
    clinic_retired: ec.EllipticCurvePrivateKey
    bolnisi: ec.EllipticCurvePrivateKey
    stranger: ec.EllipticCurvePrivateKey  # on no trust list

    @staticmethod
    def fresh() -> Keys:
        return Keys(*(keys.generate_private_key() for _ in range(6)))


def kid(key: ec.EllipticCurvePrivateKey) -> bytes:
    return keys.kid_for(key.public_key())


def wire_key(key: ec.EllipticCurvePrivateKey, status: str = "active") -> IssuerKey:
    return IssuerKey(kid(key), keys.public_key_der(key.public_key()), status)


def trust_list(k: Keys, version: int) -> TrustList:
    names = {"ka": "მარნეულის სამედიცინო ცენტრი", "az": "Marneuli Tibb Mərkəzi"}
    return TrustList(
        version=version,
        issued=epoch(MONDAY),
        stale_after=7 * DAY,
        issuers=(
            Issuer(
                code=CLINIC,
                names={**names, "en": "Marneuli Medical Centre"},
                municipality=MARNEULI,
                categories=(DOCTOR_VISIT, MEDICAL_STAFF, PATIENT_DELIVERY, 4, FUNERAL),
                keys=(wire_key(k.clinic), wire_key(k.clinic_retired, "retired")),
            ),
            Issuer(
                code=BOLNISI,
                names={
                    "ka": "ბოლნისის მუნიციპალიტეტი",
                    "az": "Bolnisi bələdiyyəsi",
                    "en": "Bolnisi",
                },
                municipality=BOLNISI_TOWN,
                categories=(FUNERAL, FARM_WORK, 9),
                keys=(wire_key(k.bolnisi),),
            ),
        ),
        categories=(
            Category(DOCTOR_VISIT, "doctor_visit", {"ka": "ექიმთან ვიზიტი", "en": "Doctor visit"}),
            Category(MEDICAL_STAFF, "medical_staff", {"en": "Medical staff"}),
            Category(PATIENT_DELIVERY, "patient_delivery", {"en": "Delivery of items to a clinic"}),
            Category(FUNERAL, "funeral", {"en": "Funeral"}),
            Category(FARM_WORK, "farm_work", {"en": "Farm work"}),
        ),
        municipalities=(
            Municipality(BOLNISI_TOWN, {"ka": "ბოლნისი", "en": "Bolnisi"}),
            Municipality(MARNEULI, {"ka": "მარნეული", "en": "Marneuli"}),
            Municipality(RUSTAVI, {"ka": "რუსთავი", "en": "Rustavi"}),
        ),
    )


REVOKED = [permit_id("revoked-1"), permit_id("revoked-2"), permit_id("other-revoked")]
REPLACED = [permit_id("replaced-1"), permit_id("replaced-2")]
BOLNISI_REVOKED = [permit_id("listed-under-another-issuer")]


def revocation_list() -> RevocationList:
    return RevocationList(
        version=5,
        issued=epoch(MONDAY),
        stale_after=7 * DAY,
        partitions={
            CLINIC: lists.build_partition(REVOKED, REPLACED),
            BOLNISI: lists.build_partition(BOLNISI_REVOKED, []),
        },
    )


# -- the permits ---------------------------------------------------------------------------

NINO = Person(Role.STAFF_MEMBER, "ნინო ბერიძე", "01024054321")


def claims(name: str, **changes: Any) -> PermitClaims:
    """A two-week medical staff permit (Marneuli to Rustavi), changed by `changes`."""
    base = PermitClaims(
        permit_id=permit_id(name),
        category=MEDICAL_STAFF,
        not_before=epoch(MONDAY),
        expires=epoch(MONDAY + timedelta(days=14)),
        persons=(NINO,),
        plate="AA123BB",
        route_from=MARNEULI,
        route_to=RUSTAVI,
    )
    return replace(base, **changes)


DOCTOR_VISIT_PERSONS = (
    Person(Role.PATIENT, "Məmmədov Əli", "01001012345"),
    Person(Role.ESCORT, "გიორგი მამულაშვილი", "01024012345"),
    Person(Role.DRIVER, "Aliyev Rəşad", "C01X00T47", foreign_document=True),
)
FARM = {
    "category": FARM_WORK,
    "persons": (
        Person(Role.FARMER, "ზურაბ კაპანაძე", "12001054321"),
        Person(Role.FARMER, "თამარ კაპანაძე-ჯაფარიძე", "12001054322"),
    ),
    "plate": "BO777LI",
    "vehicle_kind": VehicleKind.TRACTOR,
    "route_from": BOLNISI_TOWN,
    "route_to": BOLNISI_TOWN,
    "windows": (Window(6 * 60, 8 * 60), Window(18 * 60, 19 * 60)),
}
NIGHT = {"windows": (Window(22 * 60, 6 * 60),), "weekdays": MON}
DIALYSIS = {
    "category": DOCTOR_VISIT,
    "persons": (Person(Role.PATIENT, "ლევან წიკლაური", "01017001234"),),
    "weekdays": MON | WED | FRI,
}


def signed(c: PermitClaims, key: ec.EllipticCurvePrivateKey) -> str:
    return text.encode_qr_text(cose.sign1(codec.encode_claims(c), private_key=key, kid=kid(key)))


def raw_message(
    protected: dict[int, Any] | None,
    payload: bytes,
    key: ec.EllipticCurvePrivateKey,
    *,
    unprotected: dict[int, Any] | None = None,
    cut_signature: int = 0,
) -> bytes:
    """A COSE_Sign1 with any headers, properly signed by `key` (then optionally shortened)."""
    protected_bytes = cbor2.dumps(protected) if protected else b""
    der = key.sign(cose.sig_structure(protected_bytes, payload), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = (r.to_bytes(32, "big") + s.to_bytes(32, "big"))[: 64 - cut_signature]
    return cbor2.dumps([protected_bytes, unprotected or {}, payload, signature])


def change_base45_char(qr: str, byte_offset: int) -> str:
    """Change the one Base45 character that carries the low digit of the byte pair holding
    `byte_offset`; the decoded bytes then differ in that pair only."""
    body = qr[len(text.PREFIX) :]
    position = 3 * (byte_offset // 2)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    digit = alphabet.index(body[position])
    changed = alphabet[digit + 1] if digit < 44 else alphabet[digit - 1]
    tampered = body[:position] + changed + body[position + 1 :]
    try:
        text.base45_decode(tampered)
    except Exception:  # the group overflowed: go the other way
        changed = alphabet[digit - 1]
        tampered = body[:position] + changed + body[position + 1 :]
    return text.PREFIX + tampered


# -- vectors -----------------------------------------------------------------------------


@dataclass
class Vector:
    name: str
    status: str
    qr: str
    moment: datetime
    description: str
    revocation: bool = True
    warnings: tuple[str, ...] = ()


def permit_vectors(k: Keys) -> list[Vector]:
    """Every permit vector: (name, expected status, QR text, moment, why)."""
    staff = claims("medical-staff", weekdays=MON | TUE | WED | THU | FRI)
    staff_qr = signed(staff, k.clinic)
    staff_cose = text.base45_decode(staff_qr[len(text.PREFIX) :])
    staff_payload = codec.encode_claims(staff)
    doctor = claims(
        "doctor-visit",
        category=DOCTOR_VISIT,
        persons=DOCTOR_VISIT_PERSONS,
        make_model="Toyota Prius",
        windows=(Window(9 * 60, 11 * 60),),
    )
    foreign = claims(
        "foreign-document-freeform-plate",
        category=PATIENT_DELIVERY,
        persons=(
            Person(Role.FAMILY_MEMBER, "Hüseynova Günel", "AA1234567", foreign_document=True),
            Person(Role.DRIVER, "Jean-Luc Picard", "18FV23415", foreign_document=True),
        ),
        plate="10AB123",
        plate_freeform=True,
        vehicle_kind=VehicleKind.MINIBUS,
        make_model="Ford Transit",
        route_note="via Sadakhlo",
    )
    farm = signed(claims("farm-work", **FARM), k.bolnisi)
    dialysis = signed(claims("dialysis-mon-wed-fri", **DIALYSIS), k.clinic)
    night = signed(claims("night-shift", **NIGHT), k.clinic)
    future = signed(
        claims("future", not_before=epoch(at(3, 0)), expires=epoch(at(10, 0))), k.clinic
    )
    short = signed(claims("short", expires=epoch(at(1, 12))), k.clinic)
    payload_offset = 1 + 14 + 1 + 2  # array, protected bstr, unprotected map, payload header
    es256 = {cose.HEADER_ALG: cose.ALG_ES256}
    clinic_kid = {**es256, cose.HEADER_KID: kid(k.clinic)}
    staff_map = cbor2.loads(staff_payload)
    no_exp = {key: value for key, value in staff_map.items() if key != codec.EXP}
    bad_padding = {**staff_map, codec.PERSONS: [[4, b"\x00", 1024054321]]}
    tag98 = cbor2.CBORTag(98, cbor2.loads(staff_cose))
    b45 = text.base45_encode
    tue10 = at(1, 10)
    stale = ("trust_list_stale", "revocation_list_stale")

    def qr(data: bytes) -> str:
        return text.PREFIX + b45(data)

    def raw(protected: dict[int, Any] | None, payload: bytes = staff_payload, **kw: Any) -> str:
        return qr(raw_message(protected, payload, k.clinic, **kw))

    def permit(name: str, key: ec.EllipticCurvePrivateKey, **changes: Any) -> str:
        return signed(claims(name, **changes), key)

    return [
        # -- valid
        Vector("valid-medical-staff", "valid", staff_qr, tue10,
               "Medical staff (Georgian name, packed), weekdays Mon-Fri, on a Tuesday."),
        Vector("valid-doctor-visit-azerbaijani-names", "valid", signed(doctor, k.clinic),
               at(0, 10, 15),
               "Doctor visit: Azerbaijani names in UTF-8, a Georgian escort (packed), "
               "a driver with a foreign document, window 09:00-11:00."),
        Vector("valid-foreign-documents-freeform-plate", "valid", signed(foreign, k.clinic),
               at(2, 14), "Two foreign documents, a free-form plate (10AB123), a minibus."),
        Vector("valid-retired-key", "valid", permit("retired-key", k.clinic_retired), at(0, 12),
               "Signed with the clinic's retired key: still on the trust list, still verifies."),
        Vector("valid-no-revocation-list", "valid", staff_qr, tue10,
               "Valid, but the device has no revocation list: a warning.",
               revocation=False, warnings=("no_revocation_list",)),
        Vector("valid-stale-lists", "valid", staff_qr, at(8, 10),
               "Valid on day 8, when both lists are older than stale_after (7 days): warnings.",
               warnings=stale),
        Vector("valid-listed-under-another-issuer", "valid",
               permit("listed-under-another-issuer", k.clinic), at(0, 12),
               "Its id is on the revocation list, but in another issuer's partition."),
        Vector("valid-whitespace-around", "valid", f"  {staff_qr}\n", tue10,
               "Surrounding whitespace and a trailing newline are trimmed."),
        Vector("valid-one-second-before-exp", "valid", short, at(1, 11, 59, 59),
               "One second before exp."),
        Vector("kid-unprotected-valid", "valid",
               raw(es256, unprotected={cose.HEADER_KID: kid(k.clinic)}), tue10,
               "The kid in the unprotected header only (allowed, as in some EU DCCs)."),
        # -- schedule
        Vector("farm-0630-valid", "valid", farm, at(1, 6, 30),
               "Farm work, windows 06:00-08:00 and 18:00-19:00, at 06:30."),
        Vector("farm-1830-valid", "valid", farm, at(1, 18, 30), "Farm work at 18:30."),
        Vector("farm-1200-outside-window", "outside_window", farm, at(1, 12),
               "Farm work at 12:00: between its windows."),
        Vector("farm-0800-outside-window", "outside_window", farm, at(1, 8),
               "Farm work at 08:00: the end of a window is exclusive."),
        Vector("farm-0759-valid", "valid", farm, at(1, 7, 59, 59),
               "Farm work at 07:59:59: still inside 06:00-08:00."),
        Vector("weekdays-wednesday-valid", "valid", dialysis, at(2, 9),
               "Weekdays Mon/Wed/Fri, on a Wednesday."),
        Vector("weekdays-tuesday-outside-window", "outside_window", dialysis, at(1, 9),
               "Weekdays Mon/Wed/Fri, on a Tuesday."),
        Vector("night-window-monday-2300-valid", "valid", night, at(0, 23),
               "Night window 22:00-06:00 on Mondays, Monday 23:00."),
        Vector("night-window-tuesday-0500-valid", "valid", night, at(1, 5),
               "Night window 22:00-06:00 on Mondays, Tuesday 05:00: the part after "
               "midnight belongs to Monday."),
        Vector("night-window-monday-0500-outside", "outside_window", night, at(0, 5),
               "Night window on Mondays, Monday 05:00: that part belongs to Sunday."),
        Vector("night-window-tuesday-2300-outside", "outside_window", night, at(1, 23),
               "Night window on Mondays, Tuesday 23:00: Tuesday is not allowed."),
        # -- tampering
        Vector("tampered-payload-bad-signature", "bad_signature",
               change_base45_char(staff_qr, payload_offset + len(staff_payload) // 2), tue10,
               "One Base45 character changed inside the payload: the COSE structure still "
               "parses (the payload is an opaque byte string until the signature is "
               "checked), so the verdict is bad_signature."),
        Vector("tampered-signature-bad-signature", "bad_signature",
               change_base45_char(staff_qr, len(staff_cose) - 20), tue10,
               "One Base45 character changed inside the signature (the last 64 bytes)."),
        Vector("tampered-header-malformed", "malformed", change_base45_char(staff_qr, 0), tue10,
               "The first Base45 character changed: it carries the array header and the "
               "protected header's length, which grows by one, so the protected header "
               "swallows the next byte and the array no longer parses as a COSE_Sign1."),
        # -- malformed text
        Vector("wrong-prefix-mp2", "malformed", "MP2:" + staff_qr[4:], tue10,
               "Prefix MP2: (another format version)."),
        Vector("wrong-prefix-hc1", "malformed", "HC1:" + staff_qr[4:], tue10,
               "Prefix HC1: (an EU Digital COVID Certificate)."),
        Vector("empty-text", "malformed", "", tue10, "An empty text."),
        Vector("bad-base45-lowercase", "malformed", "MP1:" + staff_qr[4:].lower(), tue10,
               "Lower-case letters are not Base45."),
        Vector("bad-base45-length", "malformed",
               staff_qr + "A" * ((1 - len(staff_qr[4:])) % 3), tue10,
               "A Base45 text whose length is 1 modulo 3."),
        Vector("bad-base45-overflow", "malformed", "MP1:GGW", tue10,
               "The group GGW is 65536: more than two bytes."),
        Vector("too-long", "malformed", "MP1:" + "0" * 4098, tue10,
               "More than 4096 characters."),
        Vector("truncated-text", "malformed",
               staff_qr[: 4 + (len(staff_qr) - 4) // 2 // 3 * 3], tue10,
               "The QR text cut in half: the CBOR ends early."),
        # -- malformed CBOR or COSE
        Vector("not-an-array-map", "malformed", qr(cbor2.dumps({1: 2})), tue10,
               "The COSE bytes are a CBOR map, not an array."),
        Vector("not-an-array-uint", "malformed", qr(cbor2.dumps(1000)), tue10,
               "The COSE bytes are a CBOR unsigned integer."),
        Vector("wrong-cose-tag", "malformed", qr(cbor2.dumps(tag98)), tue10,
               "Tag 98 (COSE_Sign) instead of 18 (COSE_Sign1)."),
        Vector("trailing-bytes", "malformed", qr(staff_cose + b"\x00"), tue10,
               "A valid COSE_Sign1 followed by one more byte."),
        Vector("alg-es384", "malformed", raw({**clinic_kid, cose.HEADER_ALG: -35}),
               tue10, "Properly signed, but the protected header says alg -35 (ES384)."),
        Vector("alg-only-unprotected", "malformed",
               raw({cose.HEADER_KID: kid(k.clinic)}, unprotected=es256), tue10,
               "alg -7 only in the unprotected header: it must be in the protected one."),
        Vector("no-kid", "malformed", raw(es256), tue10, "No kid in either header."),
        Vector("kid-not-bytes", "malformed", raw({**es256, cose.HEADER_KID: kid(k.clinic).hex()}),
               tue10, "The kid is a text string."),
        Vector("truncated-signature", "malformed", raw(clinic_kid, cut_signature=1), tue10,
               "The signature cut to 63 bytes."),
        Vector("truncated-signature-32", "malformed", raw(clinic_kid, cut_signature=32), tue10,
               "The signature cut to 32 bytes (r only)."),
        # -- malformed claims under a good signature
        Vector("payload-not-a-map", "malformed", raw(clinic_kid, cbor2.dumps([1, 2, 3])), tue10,
               "Signed by a trusted key, but the payload is a CBOR array."),
        Vector("payload-missing-exp", "malformed", raw(clinic_kid, cbor2.dumps(no_exp)), tue10,
               "Signed by a trusted key, but the exp claim (4) is missing."),
        Vector("payload-bad-name-padding", "malformed", raw(clinic_kid, cbor2.dumps(bad_padding)),
               tue10, "A packed Georgian name whose padding bits are 0, not 1."),
        # -- issuer and category
        Vector("unknown-issuer-stranger", "unknown_issuer", permit("stranger", k.stranger), tue10,
               "Signed by a key that is on no trust list."),
        Vector("unknown-issuer-root-key", "unknown_issuer", permit("root-signed", k.root), tue10,
               "Signed by the root key: the root signs lists, not permits."),
        Vector("category-not-allowed-clinic-farm", "category_not_allowed",
               permit("clinic-farm", k.clinic, **FARM), at(1, 7),
               "The clinic issued a farm work permit (category 8)."),
        Vector("category-not-allowed-bolnisi-doctor", "category_not_allowed",
               permit("bolnisi-doctor", k.bolnisi, category=DOCTOR_VISIT), tue10,
               "Bolnisi municipality issued a doctor visit (category 1)."),
        # -- revocation
        Vector("revoked-1", "revoked", permit("revoked-1", k.clinic), tue10,
               "On the clinic's revoked run."),
        Vector("revoked-2", "revoked", permit("revoked-2", k.clinic), tue10,
               "On the clinic's revoked run (another entry)."),
        Vector("replaced-1", "replaced", permit("replaced-1", k.clinic), tue10,
               "On the clinic's replaced run."),
        Vector("replaced-2", "replaced", permit("replaced-2", k.clinic), tue10,
               "On the clinic's replaced run (another entry)."),
        Vector("revoked-and-expired", "revoked", permit("revoked-1", k.clinic), at(20, 10),
               "Revoked and expired: the revocation list is checked before time.",
               warnings=stale),
        # -- time
        Vector("not-yet-valid-one-second", "not_yet_valid", future, at(2, 23, 59, 59),
               "One second before nbf."),
        Vector("not-yet-valid-days", "not_yet_valid", future, at(0, 12), "Days before nbf."),
        Vector("expired-at-exp", "expired", short, at(1, 12), "Exactly at exp: exp is exclusive."),
        Vector("expired-days", "expired", short, at(4, 12), "Days after exp."),
    ]  # fmt: skip


@dataclass
class ListVector:
    name: str
    kind: str  # "trust_list" or "revocation_list"
    file: str
    current_version: int | None
    expected: str  # accepted, rollback, bad_signature, malformed, wrong_type
    description: str


TRUST, REVOCATION = "trust_list", "revocation_list"
LIST_VECTORS = [
    ListVector("trust-accepted", TRUST, TRUST_LIST, 2, "accepted", "Version 3 over version 2."),
    ListVector("trust-first", TRUST, TRUST_LIST, None, "accepted", "Version 3, no list yet."),
    ListVector("trust-rollback", TRUST, TRUST_LIST_OLD, 3, "rollback",
               "Version 2 on a device holding version 3."),
    ListVector("trust-replay", TRUST, TRUST_LIST, 3, "rollback",
               "Version 3 again: only strictly newer lists are taken."),
    ListVector("trust-other-signer", TRUST, TRUST_LIST_OTHER, 3, "bad_signature",
               "Version 4, signed by a key that is not the root."),
    ListVector("trust-tampered", TRUST, TRUST_LIST_TAMPERED, 2, "bad_signature",
               "One payload byte changed."),
    ListVector("trust-truncated", TRUST, TRUST_LIST_TRUNCATED, 2, "malformed",
               "Cut short: not well-formed CBOR."),
    ListVector("trust-is-revocation-list", TRUST, REVOCATION_LIST, 2, "wrong_type",
               "A revocation list offered as the trust list."),
    ListVector("revocation-accepted", REVOCATION, REVOCATION_LIST, 4, "accepted",
               "Version 5 over version 4."),
    ListVector("revocation-rollback", REVOCATION, REVOCATION_LIST, 6, "rollback",
               "Version 5 on a device holding version 6."),
    ListVector("revocation-is-trust-list", REVOCATION, TRUST_LIST, 4, "wrong_type",
               "The trust list offered as the revocation list."),
    ListVector("revocation-other-signer", REVOCATION, TRUST_LIST_OTHER, 4, "bad_signature",
               "Signed by a key that is not the root."),
]  # fmt: skip


def list_verdict(
    kind: str, data: bytes, root: ec.EllipticCurvePublicKey, current: int | None
) -> str:
    """What a device does with a downloaded list: accepted, rollback, or the ListError reason."""
    load: Callable[..., TrustList | RevocationList] = (
        lists.load_trust_list if kind == "trust_list" else lists.load_revocation_list
    )
    try:
        loaded = load(data, root_public_key=root)
    except ListError as exc:
        return exc.reason
    return "accepted" if lists.accept_update(current, loaded.version) else "rollback"


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def generate(outdir: Path) -> list[Path]:
    """Write fresh keys' public halves, the lists and every vector into `outdir`; return the
    vector files. Raises AssertionError when the Python verifier disagrees with a vector."""
    outdir.mkdir(parents=True, exist_ok=True)
    for old in [*outdir.glob("permit-*.json"), *outdir.glob("list-*.json")]:
        old.unlink()
    k = Keys.fresh()
    root_public = k.root.public_key()
    (outdir / "root-public-key.pem").write_bytes(keys.public_key_pem(root_public))
    _write_json(outdir / "root-public-key.jwk.json", keys.public_key_jwk(root_public))

    current = trust_list(k, 3)
    files = {
        TRUST_LIST: lists.sign_trust_list(current, root_private_key=k.root, root_kid=kid(k.root)),
        TRUST_LIST_OLD: lists.sign_trust_list(
            trust_list(k, 2), root_private_key=k.root, root_kid=kid(k.root)
        ),
        TRUST_LIST_OTHER: lists.sign_trust_list(
            trust_list(k, 4), root_private_key=k.other_root, root_kid=kid(k.other_root)
        ),
        REVOCATION_LIST: lists.sign_revocation_list(
            revocation_list(), root_private_key=k.root, root_kid=kid(k.root)
        ),
    }
    good = bytearray(files[TRUST_LIST])
    good[len(good) // 2] ^= 0x01  # in the payload, far from the signature
    files[TRUST_LIST_TAMPERED] = bytes(good)
    files[TRUST_LIST_TRUNCATED] = files[TRUST_LIST][: len(files[TRUST_LIST]) // 2]
    for name, data in files.items():
        (outdir / name).write_bytes(data)

    trust = lists.load_trust_list(files[TRUST_LIST], root_public_key=root_public)
    revocation = lists.load_revocation_list(files[REVOCATION_LIST], root_public_key=root_public)
    with_list, without_list = Verifier(trust, revocation), Verifier(trust)
    written: list[Path] = []
    for vector in permit_vectors(k):
        verifier = with_list if vector.revocation else without_list
        result = verifier.verify(vector.qr, at=vector.moment)
        assert result.status.value == vector.status, (vector.name, result)
        assert result.warnings == vector.warnings, (vector.name, result.warnings)
        expected: dict[str, Any] = {"status": vector.status, "warnings": list(vector.warnings)}
        if result.claims is not None:
            expected["control_code"] = result.control_code
            expected["claims"] = codec.claims_to_json(result.claims)
        path = outdir / f"permit-{vector.name}.json"
        _write_json(
            path,
            {
                "kind": "permit",
                "description": vector.description,
                "qr": vector.qr,
                "at": vector.moment.isoformat(),
                "trust_list": TRUST_LIST,
                "revocation_list": REVOCATION_LIST if vector.revocation else None,
                "expected": expected,
            },
        )
        written.append(path)
    for lv in LIST_VECTORS:
        verdict = list_verdict(lv.kind, files[lv.file], root_public, lv.current_version)
        assert verdict == lv.expected, (lv.name, verdict)
        path = outdir / f"list-{lv.name}.json"
        _write_json(
            path,
            {
                "kind": lv.kind,
                "description": lv.description,
                "file": lv.file,
                "current_version": lv.current_version,
                "expected": lv.expected,
            },
        )
        written.append(path)
    _write_json(
        outdir / "index.json",
        {
            "root_public_key": "root-public-key.pem",
            "root_public_key_jwk": "root-public-key.jwk.json",
            "vectors": sorted(p.name for p in written),
        },
    )
    return written


def main(argv: list[str]) -> int:
    """Generate into argv[1] (default: this folder) and say how many vectors were written."""
    outdir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    written = generate(outdir)
    print(f"wrote {len(written)} vectors to {outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
