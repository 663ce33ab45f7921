"""The certificate font covers every character the certificates can print: the labels in
every language, the policy's names, the demo organisations, the test data, Babel's month
names, the literal strings of the rendering code, and the whole Georgian and Azerbaijani
alphabets (reportlab draws a missing glyph as a silent blank)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

import pytest
from babel.dates import get_month_names
from babel.messages.pofile import read_po

from permits.certificates import fonts
from permits.certificates.words import WEEKDAY_NAMES
from permits.demo import DEMO_ORGANISATIONS
from permits.i18n import LOCALES
from permits.policy.rules import ROLE_SLUGS, VEHICLE_SLUGS
from permits.policy.service import DEFAULT_POLICY_FILE
from tests.certificates import test_layout
from tests.factories import SAMPLES

ROOT = Path(__file__).resolve().parents[2]
GEORGIAN = "".join(chr(c) for c in range(0x10D0, 0x10F1))  # Mkhedruli ა..ჰ
AZERBAIJANI = "ƏəŞşĞğİıÇçÖöÜü"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def _catalog_strings() -> list[str]:
    texts = []
    shared = {*(r.replace("_", " ") for r in ROLE_SLUGS), *VEHICLE_SLUGS, *WEEKDAY_NAMES}
    shared |= {"every day"}
    for language in ("ka", "az", "en"):
        folder = LOCALES / language / "LC_MESSAGES"
        with (folder / "certificates.po").open("rb") as handle:
            texts += [m.string for m in read_po(handle) if m.id]
        with (folder / "messages.po").open("rb") as handle:
            texts += [m.string for m in read_po(handle) if m.id in shared]
        texts += list(get_month_names("wide", "format", locale=language).values())
    return [str(t) for t in texts]


def _code_literals() -> list[str]:
    texts = []
    for path in (ROOT / "permits" / "certificates").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts.append(node.value)
    return texts


def _data_strings() -> list[str]:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, tzinfo=UTC)
    texts = _strings(tomllib.loads(DEFAULT_POLICY_FILE.read_text(encoding="utf-8")))
    texts += _strings(DEMO_ORGANISATIONS)
    for _user, make in SAMPLES.values():
        texts += _strings(make(now))
    texts += _strings(test_layout._long_funeral(now))
    texts += [test_layout.LONG_KA, test_layout.LONG_AZ]
    from permits.certificates import samples

    texts += _strings([make(now) for _user, make in samples.SAMPLE_REQUESTS.values()])
    return texts


@pytest.mark.parametrize("face", fonts.FACES, ids=lambda f: f.name)
def test_font_covers_every_character_we_print(face: fonts.Face) -> None:
    covered = fonts.coverage(face)
    text = "".join(_catalog_strings() + _code_literals() + _data_strings())
    text += GEORGIAN + AZERBAIJANI
    missing = sorted({ch for ch in text if ch.isprintable() and ord(ch) not in covered})
    assert missing == [], f"{face.file} lacks {''.join(missing)!r}"
    assert len(covered) > 3000


def test_a_missing_glyph_shows_as_a_visible_mark() -> None:
    assert fonts.printable("ნინო Əli") == "ნინო Əli"
    assert fonts.printable("漢字 ok") == "\ufffd\ufffd ok"


def test_fonts_come_from_the_npm_package_not_the_system() -> None:
    path = fonts.font_path(fonts.REGULAR)
    assert "node_modules/dejavu-fonts-ttf" in path.as_posix()
    assert not path.as_posix().startswith("/usr/share/fonts")
