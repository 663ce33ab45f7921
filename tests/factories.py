"""A demo-like world for tests (the demo organisations and users, each user with an API
token), and sample permit requests of every category with Georgian names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from permits.accounts.caller import Caller
from permits.accounts.models import User
from permits.accounts.service import create_user
from permits.accounts.tokens import create_token
from permits.demo import DEMO_ORGANISATIONS, DEMO_USERS
from permits.organisations.models import Organisation
from permits.organisations.service import create_organisation
from permits.policy.service import DEFAULT_POLICY_FILE, add_version, read_policy_file
from permits.timezone import LOCAL
from permits.trust.keys import create_key
from permits.trust.keystore import KeyStore


@dataclass
class World:
    """Organisations by code, and for each user name its user row, caller and API token."""

    organisations: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    callers: dict[str, Caller] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, username: str) -> dict[str, str]:
        """The Authorization header of a user's token."""
        return {"Authorization": f"Bearer {self.tokens[username]}"}


EXTRA_USERS = [("other_doctor", "ლაშა ხარაიშვილი", "SHM-DOCTOR", ["issuer"])]


def build_world(session: Session, *, keystore: KeyStore, now: datetime) -> World:
    """Load policy v1 and create the demo organisations (each with an active key) and users."""
    add_version(session, document=read_policy_file(DEFAULT_POLICY_FILE), now=now, actor=None)
    world = World()
    for spec in DEMO_ORGANISATIONS:
        organisation = create_organisation(session, now=now, actor=None, **spec)  # type: ignore[arg-type]
        create_key(session, organisation=organisation, keystore=keystore, now=now, actor=None)
        world.organisations[organisation.code] = organisation
    for username, full_name, code, roles in [*DEMO_USERS, *EXTRA_USERS]:
        organisation = world.organisations[code]
        user = create_user(
            session,
            username=username,
            full_name=full_name,
            organisation=organisation,
            roles=roles,
            now=now,
            actor=None,
        )
        world.tokens[username] = create_token(
            session, user=user, role=roles[0], name="test", now=now
        )
        session.commit()
        assert user.id is not None and organisation.id is not None
        world.users[username] = user
        world.callers[username] = Caller(
            user.id,
            username,
            organisation.id,
            organisation.code,
            organisation.kind,
            frozenset({roles[0]}),
        )
    return world


def day(now: datetime, days: int = 0, hour: int = 0, minute: int = 0) -> str:
    """An ISO time `days` after the local day of `now`, at hour:minute Tbilisi time."""
    base = now.astimezone(LOCAL).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (base + timedelta(days=days)).isoformat()


def person(role: str, first: str, last: str, pn: str, **extra: Any) -> dict[str, Any]:
    """A person entry of a request."""
    return {"role": role, "first_name": first, "last_name": last, "personal_number": pn, **extra}


def medical_staff(now: datetime) -> dict[str, Any]:
    """A nurse commuting Marneuli to Rustavi on weekdays for two weeks."""
    return {
        "category": "medical_staff",
        "persons": [person("staff_member", "ნინო", "ბერიძე", "01024054321", position="ექთანი")],
        "vehicle": {"kind": "car", "plate": "AA-123-BB"},
        "route": {"from_municipality": 5, "to_municipality": 7, "to_address": "Rustavi, Clinic 3"},
        "schedule": {
            "valid_from": day(now),
            "valid_until": day(now, 14),
            "weekdays": ["mon", "tue", "wed", "thu", "fri"],
        },
    }


def doctor_visit(now: datetime) -> dict[str, Any]:
    """A dialysis patient with escort and driver, tomorrow 09:00-13:00."""
    return {
        "category": "doctor_visit",
        "persons": [
            person("patient", "თამარ", "გელაშვილი", "01001012345"),
            person("escort", "ლევან", "მაისურაძე", "01001054321"),
            person("driver", "გიორგი", "კაპანაძე", "12345678901"),
        ],
        "vehicle": {"kind": "car", "make_model": "Toyota Prius", "plate": "ge-555-ab"},
        "route": {
            "from_address": "Shaumiani village 12",
            "from_municipality": 5,
            "to_address": "Marneuli, 26 May Street 1",
            "to_municipality": 5,
        },
        "schedule": {"valid_from": day(now, 1, 9), "valid_until": day(now, 1, 13)},
        "purpose_detail": "dialysis session",
    }


def patient_delivery(now: datetime) -> dict[str, Any]:
    """A family member bringing food to a hospitalised patient, today 15:00-17:00."""
    return {
        "category": "patient_delivery",
        "persons": [person("family_member", "მარიამ", "ჯაფარიძე", "01019076543")],
        "vehicle": {"kind": "car", "make_model": "Opel Astra", "plate": "MN 777 OP"},
        "route": {
            "from_address": "Marneuli, Aghmashenebeli Street 4",
            "from_municipality": 5,
            "to_address": "Marneuli, 26 May Street 1",
            "to_municipality": 5,
        },
        "schedule": {"valid_from": day(now, 0, 15), "valid_until": day(now, 0, 17)},
        "beneficiary": "ნანა ბერიძე, ward 3",
        "purpose_detail": "food and clothes",
    }


def funeral(now: datetime) -> dict[str, Any]:
    """Three family members travelling to a funeral in Bolnisi for two days."""
    return {
        "category": "funeral",
        "persons": [
            person("family_member", "ზურაბ", "ლომიძე", "01008011111"),
            person("family_member", "ეთერ", "ლომიძე", "01008022222"),
            person("driver", "Rəşad", "Məmmədov", "01008033333"),
        ],
        "vehicle": {"kind": "minibus", "make_model": "Ford Transit", "plate": "TT-404-TT"},
        "route": {"from_municipality": 5, "to_municipality": 1, "to_address": "Bolnisi cemetery"},
        "schedule": {"valid_from": day(now), "valid_until": day(now, 2)},
        "reference_document": "DC-2026-0042",
    }


def farm_work(now: datetime) -> dict[str, Any]:
    """A farmer's tractor for two weeks, in the policy's windows 06:00-08:00 and 18:00-19:00."""
    return {
        "category": "farm_work",
        "persons": [person("farmer", "ელნურ", "ალიევი", "01030011223")],
        "vehicle": {"kind": "tractor", "plate": "FF-100-AA"},
        "route": {
            "from_municipality": 1,
            "to_municipality": 1,
            "to_address": "Field near Kvemo Bolnisi",
        },
        "schedule": {"valid_from": day(now), "valid_until": day(now, 14)},
    }


SAMPLES = {
    "medical_staff": ("doctor", medical_staff),
    "doctor_visit": ("doctor", doctor_visit),
    "patient_delivery": ("doctor", patient_delivery),
    "funeral": ("doctor", funeral),
    "farm_work": ("bolnisi", farm_work),
}
