"""Demo organisations, users, keys and tokens for `make run` (never used in production)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from permits.accounts.passwords import hash_password
from permits.accounts.roles import ISSUER, ORG_HEAD, POLICE, REGIONAL_ADMIN
from permits.accounts.service import create_user
from permits.accounts.tokens import create_token
from permits.organisations.models import Organisation
from permits.organisations.service import create_organisation
from permits.trust.keys import create_key
from permits.trust.keystore import KeyStore

DEMO_ORGANISATIONS = [
    {
        "code": "MRN-CLINIC",
        "kind": "clinic",
        "names": {
            "ka": "მარნეულის სამედიცინო ცენტრი",
            "az": "Marneuli Tibb Mərkəzi",
            "en": "Marneuli Medical Centre",
        },
        "municipality": 5,
        "address": "Marneuli, 26 May Street 1",
        "head_name": "თამარ გელაშვილი",
    },
    {
        "code": "SHM-DOCTOR",
        "kind": "village_doctor",
        "names": {
            "ka": "სოფელ შაუმიანის სოფლის ექიმი",
            "az": "Şaumyan kəndinin kənd həkimi",
            "en": "Shaumiani village doctor practice",
        },
        "municipality": 5,
        "address": "Shaumiani village, Marneuli municipality",
        "head_name": "ელნურ ალიევი",
    },
    {
        "code": "BOL-MUNI",
        "kind": "municipality",
        "names": {
            "ka": "ბოლნისის მუნიციპალიტეტის მერია",
            "az": "Bolnisi Bələdiyyəsinin Meriyası",
            "en": "Bolnisi Municipality City Hall",
        },
        "municipality": 1,
        "address": "Bolnisi, Rustaveli Street 115",
    },
    {
        "code": "MEPA",
        "kind": "ministry",
        "names": {
            "ka": "საქართველოს გარემოს დაცვისა და სოფლის მეურნეობის სამინისტრო",
            "az": "Gürcüstanın Ətraf Mühitin Mühafizəsi və Kənd Təsərrüfatı Nazirliyi",
            "en": "Ministry of Environmental Protection and Agriculture of Georgia",
        },
        "municipality": 8,
        "address": "Tbilisi, Marshal Gelovani Avenue 6",
    },
    {
        "code": "KK-ADMIN",
        "kind": "regional_administration",
        "names": {
            "ka": "სახელმწიფო რწმუნებულის ადმინისტრაცია ქვემო ქართლის მხარეში",
            "az": "Kvemo Kartli regionunda Dövlət Rəhbərinin Administrasiyası",
            "en": "Administration of the State Representative in Kvemo Kartli",
        },
        "municipality": 7,
        "address": "Rustavi, Kostava Street 2",
    },
]

# username, full name, organisation, roles
DEMO_USERS = [
    ("doctor", "ნინო ბერიძე", "MRN-CLINIC", [ISSUER]),
    ("head", "თამარ გელაშვილი", "MRN-CLINIC", [ISSUER, ORG_HEAD]),
    ("village", "ელნურ ალიევი", "SHM-DOCTOR", [ISSUER, ORG_HEAD]),
    ("bolnisi", "გიორგი კაპანაძე", "BOL-MUNI", ["municipality_officer"]),
    ("ministry", "ლევან მაისურაძე", "MEPA", ["ministry_officer"]),
    ("admin", "მარიამ ჯაფარიძე", "KK-ADMIN", [REGIONAL_ADMIN, ISSUER]),
    ("police", "რაშად მამედოვი", "KK-ADMIN", [POLICE]),
]


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A demo user's login, printed at start-up."""

    username: str
    password: str
    organisation: str
    roles: list[str]
    token: str


def seed_demo(session: Session, *, keystore: KeyStore, now: datetime) -> list[DemoLogin]:
    """Create the demo organisations (each with a key), users and API tokens; return the logins.

    Does nothing and returns [] when any organisation exists already.
    """
    if session.exec(select(Organisation)).first() is not None:
        return []
    organisations = {}
    for spec in DEMO_ORGANISATIONS:
        organisation = create_organisation(session, now=now, actor=None, **spec)  # type: ignore[arg-type]
        create_key(session, organisation=organisation, keystore=keystore, now=now, actor=None)
        organisations[organisation.code] = organisation
    logins = []
    for username, full_name, code, roles in DEMO_USERS:
        password = f"{username}-" + secrets.token_urlsafe(6)
        user = create_user(
            session,
            username=username,
            full_name=full_name,
            organisation=organisations[code],
            roles=roles,
            now=now,
            actor=None,
            password_hash=hash_password(password),
            must_change_password=False,
        )
        token = create_token(session, user=user, role=roles[0], name="demo", now=now)
        session.commit()
        logins.append(DemoLogin(username, password, code, roles, token))
    return logins
