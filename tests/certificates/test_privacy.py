"""Medical purpose detail never reaches a certificate: not the PDF, not the phone image's
view, not the holder page; a diagnosis category shows only its public name."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi.testclient import TestClient

from permits.certificates.view import CertificateView
from tests.certificates.readback import pdf_text
from tests.factories import World, day, person
from tests.helpers import issue


def test_the_view_has_no_purpose_field() -> None:
    names = {f.name for f in dataclasses.fields(CertificateView)}
    assert not {"purpose_detail", "purpose"} & names


def test_doctor_visit_purpose_detail_is_never_printed(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]]
) -> None:
    permit = issued["doctor_visit"]  # purpose_detail "dialysis session"
    pdf = client.get(
        f"/api/v1/permits/{permit['id']}/certificate.pdf?languages=ka,az,en",
        headers=world.auth("doctor"),
    ).content
    text = pdf_text(pdf)
    assert "dialysis" not in text.lower()
    assert "Doctor visit" in text
    html = client.get(permit["holder_path"]).text
    assert "dialysis" not in html.lower()


def test_special_needs_shows_medical_necessity_not_the_diagnosis(
    client: TestClient, world: World, clock: Any
) -> None:
    now = clock()
    permit = issue(
        client,
        world,
        {
            "category": "special_needs",
            "persons": [
                person("patient", "ლუკა", "ბერიძე", "01001099887"),
                person("escort", "ნინო", "ბერიძე", "01024054321"),
            ],
            "vehicle": {"kind": "car", "plate": "AB-321-CD"},
            "route": {"from_municipality": 5, "to_municipality": 5, "to_address": "Marneuli"},
            "schedule": {"valid_from": day(now), "valid_until": day(now, 7)},
            "purpose_detail": "autism spectrum disorder, weekly therapy",
        },
    )
    response = client.get(
        f"/api/v1/permits/{permit['id']}/certificate.pdf?languages=ka,az,en",
        headers=world.auth("doctor"),
    )
    text = pdf_text(response.content)
    assert "სამედიცინო აუცილებლობა" in text and "Tibbi zərurət" in text
    assert "Medical necessity" in text
    for word in ("autism", "აუტიზ", "autizm", "therapy"):
        assert word not in text.lower()
    html = client.get(permit["holder_path"]).text.lower()
    assert "autism" not in html and "აუტიზ" not in html and "autizm" not in html
