"""`permits render`: PDFs, phone images, a batch PDF and a ZIP, by id or serial."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from permits.cli import main
from permits.settings import get_settings
from tests.certificates.readback import pdf_pages, png_image, read_qr_texts
from tests.conftest import TEST_PASSPHRASE


@pytest.fixture
def cli_env(tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERMITS_ENV", "test")
    monkeypatch.setenv("PERMITS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PERMITS_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("PERMITS_KEY_PASSPHRASE", TEST_PASSPHRASE)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_render_writes_every_kind(
    cli_env: Path, issued: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    staff, visit = issued["medical_staff"], issued["doctor_visit"]
    out = cli_env / "out"
    code = main(
        [
            "render",
            staff["serial"],
            visit["id"],
            "--pdf",
            "--png",
            "--batch",
            "--zip",
            "--languages",
            "ka,az,en",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            f"{staff['serial']}.pdf",
            f"{staff['serial']}.png",
            f"{visit['serial']}.pdf",
            f"{visit['serial']}.png",
            "certificates.pdf",
            "certificates.zip",
        ]
    )
    [page] = pdf_pages((out / f"{staff['serial']}.pdf").read_bytes())
    assert read_qr_texts(page) == [staff["qr_text"]]
    assert read_qr_texts(png_image((out / f"{visit['serial']}.png").read_bytes())) == [
        visit["qr_text"]
    ]
    assert len(pdf_pages((out / "certificates.pdf").read_bytes(), dpi=72)) == 2
    with zipfile.ZipFile(out / "certificates.zip") as archive:
        assert len(archive.namelist()) == 2


def test_render_names_the_missing_permit(
    cli_env: Path, issued: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["render", issued["funeral"]["serial"], "NO-SUCH-000001", "--out", "out"])
    assert code == 1
    assert "NO-SUCH-000001" in capsys.readouterr().err
    assert not (cli_env / "out").exists()
