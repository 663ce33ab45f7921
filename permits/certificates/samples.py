"""Sample certificates of every category, for people to look at (docs/certificates/).

    .venv/bin/python -m permits.certificates.samples [docs/certificates]

Builds a throwaway database with the demo organisations, issues one permit of each category
through the issuance service, and writes for each category its PDF page rasterised to PNG
(Georgian and Azerbaijani labels side by side), plus a few phone images, an English page
and a revoked one. Rasterising uses pypdfium2 (a development dependency).
"""

from __future__ import annotations

import io
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from permits.timezone import LOCAL

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=LOCAL)
PASSPHRASE = "samples-passphrase-not-secret"  # noqa: S105 - a throwaway folder


def _day(now: datetime, days: int = 0, hour: int = 0) -> str:
    base = now.astimezone(LOCAL).replace(hour=hour, minute=0, second=0, microsecond=0)
    return (base + timedelta(days=days)).isoformat()


def _person(role: str, first: str, last: str, pn: str, **extra: Any) -> dict[str, Any]:
    return {"role": role, "first_name": first, "last_name": last, "personal_number": pn, **extra}


def _route(
    origin: int, to: int, to_address: str, from_address: str | None = None
) -> dict[str, Any]:
    route: dict[str, Any] = {"from_municipality": origin, "to_municipality": to}
    route["to_address"] = to_address
    if from_address:
        route["from_address"] = from_address
    return route


def doctor_visit(now: datetime) -> dict[str, Any]:
    """A dialysis patient with escort and driver (the purpose detail is never printed)."""
    return {
        "category": "doctor_visit",
        "persons": [
            _person("patient", "თამარ", "გელაშვილი", "01001012345"),
            _person("escort", "ლევან", "მაისურაძე", "01001054321"),
            _person("driver", "Elçin", "Qasımov", "12345678901"),
        ],
        "vehicle": {"kind": "car", "make_model": "Toyota Prius", "plate": "GE-555-AB"},
        "route": _route(5, 5, "Marneuli, 26 May Street 1", "Shaumiani village 12"),
        "schedule": {"valid_from": _day(now, 1, 9), "valid_until": _day(now, 1, 13)},
        "purpose_detail": "dialysis session",
    }


def pharmacy_trip(now: datetime) -> dict[str, Any]:
    """A village doctor's note for a trip to the pharmacy."""
    return {
        "category": "pharmacy_trip",
        "persons": [
            _person("driver", "Rəşad", "Məmmədov", "01008033333"),
            _person("patient", "Gülnarə", "Əliyeva", "01008044444"),
        ],
        "vehicle": {"kind": "car", "make_model": "Lada Niva", "plate": "SH-101-MR"},
        "route": _route(5, 5, "Marneuli, pharmacy on Rustaveli Street"),
        "schedule": {"valid_from": _day(now, 0, 12), "valid_until": _day(now, 0, 16)},
    }


def medical_staff(now: datetime) -> dict[str, Any]:
    """A nurse commuting on weekdays for two weeks."""
    return {
        "category": "medical_staff",
        "persons": [_person("staff_member", "ნინო", "ბერიძე", "01024054321", position="ექთანი")],
        "vehicle": {"kind": "car", "make_model": "Hyundai Elantra", "plate": "AA-123-BB"},
        "route": _route(5, 7, "Rustavi, Clinic 3", "Marneuli, Kostava Street 8"),
        "schedule": {
            "valid_from": _day(now),
            "valid_until": _day(now, 14),
            "weekdays": ["mon", "tue", "wed", "thu", "fri"],
        },
    }


def patient_delivery(now: datetime) -> dict[str, Any]:
    """Food and clothes for a hospitalised patient (with the receipt section)."""
    return {
        "category": "patient_delivery",
        "persons": [_person("family_member", "მარიამ", "ჯაფარიძე", "01019076543")],
        "vehicle": {"kind": "car", "make_model": "Opel Astra", "plate": "MN-777-OP"},
        "route": _route(5, 5, "Marneuli, 26 May Street 1", "Marneuli, Aghmashenebeli Street 4"),
        "schedule": {"valid_from": _day(now, 0, 15), "valid_until": _day(now, 0, 17)},
        "beneficiary": "ნანა ბერიძე, ward 3",
        "purpose_detail": "food and clothes",
    }


def special_needs(now: datetime) -> dict[str, Any]:
    """A patient on the autism spectrum: the certificate says only "medical necessity"."""
    return {
        "category": "special_needs",
        "persons": [
            _person("patient", "ლუკა", "ბერიძე", "01001099887"),
            _person("escort", "ეკა", "ბერიძე", "01001099886"),
        ],
        "vehicle": {"kind": "car", "plate": "AB-321-CD"},
        "route": _route(5, 5, "Marneuli park"),
        "schedule": {"valid_from": _day(now), "valid_until": _day(now, 7)},
        "purpose_detail": "daily walk recommended by the therapist",
    }


def funeral(now: datetime) -> dict[str, Any]:
    """Three family members travelling to a funeral."""
    return {
        "category": "funeral",
        "persons": [
            _person("family_member", "ზურაბ", "ლომიძე", "01008011111"),
            _person("family_member", "ეთერ", "ლომიძე", "01008022222"),
            _person("driver", "Rəşad", "Məmmədov", "01008033333"),
        ],
        "vehicle": {"kind": "minibus", "make_model": "Ford Transit", "plate": "TT-404-TT"},
        "route": _route(5, 1, "Bolnisi cemetery"),
        "schedule": {"valid_from": _day(now), "valid_until": _day(now, 2)},
        "reference_document": "DC-2026-0042",
    }


def farm_work(now: datetime) -> dict[str, Any]:
    """A farmer's tractor in the decree's hours, 06:00-08:00 and 18:00-19:00."""
    return {
        "category": "farm_work",
        "persons": [_person("farmer", "Elnur", "Əliyev", "01030011223")],
        "vehicle": {"kind": "tractor", "make_model": "MTZ-82", "plate": "FF-100-AA"},
        "route": _route(1, 1, "Field near Kvemo Bolnisi"),
        "schedule": {"valid_from": _day(now), "valid_until": _day(now, 14)},
    }


def shop_supply(now: datetime) -> dict[str, Any]:
    """A shop owner supplying a village shop."""
    return {
        "category": "shop_supply",
        "persons": [_person("shop_supplier", "Şahin", "Hüseynov", "01030022334")],
        "vehicle": {"kind": "van", "make_model": "Ford Transit Connect", "plate": "BS-220-KK"},
        "route": _route(1, 1, "Tsurtavi village shop", "Bolnisi wholesale market"),
        "schedule": {"valid_from": _day(now), "valid_until": _day(now, 10)},
    }


def veterinary(now: datetime) -> dict[str, Any]:
    """A veterinarian of the ministry visiting farms."""
    return {
        "category": "veterinary",
        "persons": [
            _person("specialist", "დავით", "ხუციშვილი", "01030033445", position="ვეტერინარი")
        ],
        "vehicle": {"kind": "car", "make_model": "Mitsubishi L200", "plate": "VT-330-MA"},
        "route": _route(8, 3, "Dmanisi municipality farms"),
        "schedule": {"valid_from": _day(now), "valid_until": _day(now, 14)},
    }


def customs(now: datetime) -> dict[str, Any]:
    """An authorised person moving with cargo papers."""
    return {
        "category": "customs",
        "persons": [_person("authorised_person", "İlqar", "Çələbi", "01030044556")],
        "vehicle": {"kind": "truck", "make_model": "MAN TGX", "plate": "CU-440-ST"},
        "route": _route(2, 7, "Rustavi customs clearance zone"),
        "schedule": {"valid_from": _day(now), "valid_until": _day(now, 3)},
        "reference_document": "CMR 0457812",
    }


SAMPLE_REQUESTS: dict[str, tuple[str, Callable[[datetime], dict[str, Any]]]] = {
    "doctor_visit": ("doctor", doctor_visit),
    "pharmacy_trip": ("village", pharmacy_trip),
    "medical_staff": ("doctor", medical_staff),
    "patient_delivery": ("doctor", patient_delivery),
    "special_needs": ("doctor", special_needs),
    "funeral": ("doctor", funeral),
    "farm_work": ("bolnisi", farm_work),
    "shop_supply": ("bolnisi", shop_supply),
    "veterinary": ("ministry", veterinary),
    "customs": ("admin", customs),
}
"""Per category: the demo user who issues it, and the request."""


def _page_png(pdf: bytes, dpi: int = 84) -> bytes:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    image.quantize(colors=32).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _small_png(png: bytes, width: int = 540) -> bytes:
    from PIL import Image

    opened = Image.open(io.BytesIO(png))
    image = opened.resize((width, round(opened.height * width / opened.width)))
    out = io.BytesIO()
    image.convert("RGB").quantize(colors=32).save(out, format="PNG", optimize=True)
    return out.getvalue()


def write_samples(out_dir: Path) -> list[Path]:
    """Issue one permit of each category in a throwaway database and write the samples."""
    from sqlmodel import Session, select

    from permits.accounts.caller import Caller
    from permits.accounts.models import User
    from permits.certificates import service
    from permits.db import make_engine, writer
    from permits.demo import seed_demo
    from permits.issuance.schemas import PermitCreate
    from permits.issuance.service import issue_permit, revoke_permit
    from permits.migrations import upgrade
    from permits.organisations.models import Organisation
    from permits.policy.service import DEFAULT_POLICY_FILE, add_version, read_policy_file
    from permits.trust.keystore import KeyStore

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        engine = make_engine(f"sqlite:///{folder / 'samples.db'}")
        upgrade(engine)
        keystore = KeyStore(folder / "keys", PASSPHRASE, kdf_rounds=1000)
        keystore.ensure_root()
        with Session(writer(engine), expire_on_commit=False) as session:
            earlier = NOW - timedelta(days=30)
            add_version(
                session, document=read_policy_file(DEFAULT_POLICY_FILE), now=earlier, actor=None
            )
            seed_demo(session, keystore=keystore, now=earlier)
            ids = {}
            for category, (username, make) in SAMPLE_REQUESTS.items():
                user = session.exec(select(User).where(User.username == username)).one()
                organisation = session.get(Organisation, user.organisation_id)
                assert organisation is not None and organisation.id is not None
                assert user.id is not None
                caller = Caller(
                    user.id,
                    user.username,
                    organisation.id,
                    organisation.code,
                    organisation.kind,
                    user.role_set,
                )
                issued = issue_permit(
                    session,
                    caller=caller,
                    request=PermitCreate.model_validate(make(NOW)),
                    keystore=keystore,
                    now=NOW,
                )
                ids[category] = str(issued.permit.id)
            for category, ref in ids.items():
                view = service.certificate_view(session, caller=None, ref=ref, now=NOW)
                path = out_dir / f"{category}.png"
                path.write_bytes(_page_png(service.render_pdf(view).content))
                written.append(path)
            for category in ("medical_staff", "farm_work"):
                view = service.certificate_view(session, caller=None, ref=ids[category], now=NOW)
                path = out_dir / f"phone-{category}.png"
                path.write_bytes(_small_png(service.render_png(view).content))
                written.append(path)
            view = service.certificate_view(
                session, caller=None, ref=ids["patient_delivery"], languages="ka,az,en", now=NOW
            )
            path = out_dir / "patient_delivery-en.png"
            path.write_bytes(_page_png(service.render_pdf(view).content))
            written.append(path)
            doctor = session.exec(select(User).where(User.username == "doctor")).one()
            clinic = session.get(Organisation, doctor.organisation_id)
            assert clinic is not None and clinic.id is not None and doctor.id is not None
            revoke_permit(
                session,
                caller=Caller(
                    doctor.id, "doctor", clinic.id, clinic.code, clinic.kind, doctor.role_set
                ),
                permit_id=issued_id(ids["doctor_visit"]),
                reason="car changed",
                now=NOW + timedelta(hours=1),
            )
            session.expire_all()
            view = service.certificate_view(
                session, caller=None, ref=ids["doctor_visit"], now=NOW + timedelta(hours=2)
            )
            path = out_dir / "revoked-doctor_visit.png"
            path.write_bytes(_page_png(service.render_pdf(view).content))
            written.append(path)
            path = out_dir / "phone-revoked.png"
            path.write_bytes(_small_png(service.render_png(view).content))
            written.append(path)
        engine.dispose()
    return written


def issued_id(text: str) -> Any:
    """The permit id of `text` as a UUID."""
    import uuid

    return uuid.UUID(text)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/certificates")
    for written_path in write_samples(target):
        print(written_path, f"{written_path.stat().st_size // 1024} KB")
