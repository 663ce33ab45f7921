"""The PDF and the phone image of every sample category: the QR code read back by a real
decoder verifies with the verifier library; the facts are printed; medical detail is not."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from permits.certificates import service
from permits.trust.keystore import KeyStore
from tests.certificates.conftest import dump, moment_inside
from tests.certificates.readback import pdf_pages, pdf_text, png_image, read_qr_texts
from tests.factories import SAMPLES
from tests.helpers import device_verifier
from verifier.model import Status


@pytest.mark.parametrize("category", sorted(SAMPLES))
def test_pdf_and_phone_image_qr_verify(
    category: str,
    issued: dict[str, dict[str, Any]],
    client: TestClient,
    session: Session,
    keystore: KeyStore,
    clock: Any,
) -> None:
    permit = issued[category]
    view = service.certificate_view(session, caller=None, ref=permit["id"], now=clock())
    pdf = service.render_pdf(view).content
    png = service.render_png(view).content
    dump(f"{category}.pdf", pdf)
    dump(f"{category}.png", png)
    verifier = device_verifier(client, keystore)
    at = moment_inside(permit)
    pages = pdf_pages(pdf)
    assert len(pages) == 1
    texts = read_qr_texts(pages[0])
    assert texts == [permit["qr_text"]]
    image = png_image(png)
    assert 1000 <= image.width <= 1100
    assert read_qr_texts(image) == [permit["qr_text"]]
    result = verifier.verify(texts[0], at=at)
    assert result.status is Status.VALID, result.reason
    assert result.control_code == permit["control_code"]
    text = pdf_text(pdf)
    assert permit["serial"] in text
    assert permit["control_code"] in text
