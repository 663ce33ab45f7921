"""The certificate routes: who may fetch what, the files they return, batches and the
holder link; QR codes read back from what the routes return verify."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from fastapi.testclient import TestClient

from permits.trust.keystore import KeyStore
from tests.certificates.conftest import moment_inside
from tests.certificates.readback import pdf_pages, pdf_text, png_image, read_qr_texts
from tests.factories import World, medical_staff
from tests.helpers import device_verifier, replace
from verifier.model import Status


def test_pdf_route_returns_a_certificate_whose_qr_verifies(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]], keystore: KeyStore
) -> None:
    permit = issued["doctor_visit"]
    response = client.get(
        f"/api/v1/permits/{permit['id']}/certificate.pdf", headers=world.auth("doctor")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="{permit["serial"]}.pdf"' in response.headers["content-disposition"]
    [page] = pdf_pages(response.content)
    [text] = read_qr_texts(page)
    result = device_verifier(client, keystore).verify(text, at=moment_inside(permit))
    assert result.status is Status.VALID
    assert result.control_code == permit["control_code"]


def test_png_route_by_serial(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]]
) -> None:
    permit = issued["medical_staff"]
    response = client.get(
        f"/api/v1/permits/{permit['serial']}/phone.png", headers=world.auth("doctor")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert read_qr_texts(png_image(response.content)) == [permit["qr_text"]]


def test_another_organisations_permit_is_not_found(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]]
) -> None:
    permit = issued["medical_staff"]  # issued by the Marneuli clinic
    for path in ("certificate.pdf", "phone.png", "holder-link"):
        response = client.get(
            f"/api/v1/permits/{permit['id']}/{path}", headers=world.auth("bolnisi")
        )
        assert response.status_code == 404, (path, response.text)
        assert response.json()["errors"][0]["code"] == "not_found"
    by_serial = client.get(
        f"/api/v1/permits/{permit['serial']}/certificate.pdf", headers=world.auth("other_doctor")
    )
    assert by_serial.status_code == 404
    # The regional administration sees every organisation's permits.
    admin = client.get(
        f"/api/v1/permits/{permit['id']}/certificate.pdf", headers=world.auth("admin")
    )
    assert admin.status_code == 200


def test_no_token_no_certificate(client: TestClient, issued: dict[str, dict[str, Any]]) -> None:
    permit = issued["medical_staff"]
    assert client.get(f"/api/v1/permits/{permit['id']}/certificate.pdf").status_code == 401
    assert (
        client.post("/api/v1/certificates/batch.pdf", json={"permits": [permit["id"]]}).status_code
        == 401
    )


def test_languages_setting_and_override(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]]
) -> None:
    permit = issued["medical_staff"]
    url = f"/api/v1/permits/{permit['id']}/certificate.pdf"
    default = pdf_text(client.get(url, headers=world.auth("doctor")).content)
    assert "სერიული ნომერი" in default and "Seriya nömrəsi" in default
    assert "Serial number" not in default
    english = pdf_text(
        client.get(f"{url}?languages=ka,az,en", headers=world.auth("doctor")).content
    )
    assert "Serial number" in english and "Seriya nömrəsi" in english
    bad = client.get(f"{url}?languages=ka,ru", headers=world.auth("doctor"))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "languages"


def test_organisation_default_languages(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]], session: Any
) -> None:
    organisation = world.organisations["MRN-CLINIC"]
    organisation.languages = "ka,az,en"
    session.add(organisation)
    session.commit()
    permit = issued["medical_staff"]
    text = pdf_text(
        client.get(
            f"/api/v1/permits/{permit['id']}/certificate.pdf", headers=world.auth("doctor")
        ).content
    )
    assert "Serial number" in text and "Movement permit" in text


def test_batch_pdf_one_page_per_permit_in_order(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]]
) -> None:
    chosen = [issued[c] for c in ("funeral", "medical_staff", "patient_delivery")]
    response = client.post(
        "/api/v1/certificates/batch.pdf",
        json={"permits": [chosen[0]["id"], chosen[1]["serial"], chosen[2]["id"]]},
        headers=world.auth("doctor"),
    )
    assert response.status_code == 200, response.text
    pages = pdf_pages(response.content, dpi=130)
    assert [read_qr_texts(page) for page in pages] == [[p["qr_text"]] for p in chosen]


def test_batch_refuses_a_permit_of_another_organisation(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]]
) -> None:
    farm = issued["farm_work"]  # Bolnisi municipality's
    response = client.post(
        "/api/v1/certificates/batch.zip",
        json={"permits": [issued["funeral"]["id"], farm["id"]]},
        headers=world.auth("doctor"),
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "permits[1]"
    empty = client.post(
        "/api/v1/certificates/batch.pdf", json={"permits": []}, headers=world.auth("doctor")
    )
    assert empty.status_code == 422


def test_batch_zip_holds_a_phone_image_per_permit(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]]
) -> None:
    chosen = [issued["medical_staff"], issued["doctor_visit"]]
    response = client.post(
        "/api/v1/certificates/batch.zip",
        json={"permits": [p["id"] for p in chosen]},
        headers=world.auth("doctor"),
    )
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.namelist() == [f"{p['serial']}.png" for p in chosen]
        for permit in chosen:
            image = png_image(archive.read(f"{permit['serial']}.png"))
            assert read_qr_texts(image) == [permit["qr_text"]]


def test_holder_link_and_page(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]]
) -> None:
    permit = issued["medical_staff"]
    link = client.get(f"/api/v1/permits/{permit['id']}/holder-link", headers=world.auth("doctor"))
    assert link.status_code == 200
    body = link.json()
    assert body["path"] == permit["holder_path"]
    assert body["url"].endswith(permit["holder_path"])
    page = client.get(body["path"])  # no login
    assert page.status_code == 200
    html = page.text
    assert permit["serial"] in html and permit["control_code"] in html
    assert "<svg" in html and "AA-123-BB" in html
    assert "სიკაშკაშე" in html and "parlaqlığını" in html  # asks to raise the brightness
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    image = client.get(f"{body['path']}/certificate.png")
    assert image.status_code == 200
    assert read_qr_texts(png_image(image.content)) == [permit["qr_text"]]
    worker = client.get("/h/sw.js")
    assert worker.status_code == 200 and "caches" in worker.text
    assert client.get("/h/not-a-real-token-0000000").status_code == 404


def test_revoked_permit_cannot_be_rendered_as_valid(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]]
) -> None:
    permit = issued["medical_staff"]
    revoked = client.post(
        f"/api/v1/permits/{permit['id']}/revoke",
        json={"reason": "lost phone"},
        headers=world.auth("doctor"),
    )
    assert revoked.status_code == 200, revoked.text
    pdf = client.get(
        f"/api/v1/permits/{permit['id']}/certificate.pdf", headers=world.auth("doctor")
    ).content
    [page] = pdf_pages(pdf)
    assert read_qr_texts(page) == []
    text = pdf_text(pdf)
    assert "LƏĞV EDİLİB" in text and "გაუქმებულია" in text and "ETİBARSIZDIR" in text
    png = client.get(
        f"/api/v1/permits/{permit['id']}/phone.png", headers=world.auth("doctor")
    ).content
    assert read_qr_texts(png_image(png)) == []
    html = client.get(permit["holder_path"]).text
    assert "LƏĞV EDİLİB" in html and "<svg" not in html


def test_replaced_permit_names_its_successor(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]], clock: Any
) -> None:
    permit = issued["medical_staff"]
    successor = replace(client, world, permit, medical_staff(clock()))
    text = pdf_text(
        client.get(
            f"/api/v1/permits/{permit['id']}/certificate.pdf", headers=world.auth("doctor")
        ).content
    )
    assert "ƏVƏZ EDİLİB" in text
    assert successor["serial"] in text


def test_delivery_certificate_names_the_head_and_carries_the_receipt(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]]
) -> None:
    permit = issued["patient_delivery"]
    url = f"/api/v1/permits/{permit['id']}/certificate.pdf"
    before = pdf_text(client.get(url, headers=world.auth("doctor")).content)
    assert "თამარ გელაშვილი" in before  # the clinic's head (demo data)
    assert "Əşyaların klinika tərəfindən qəbulunun təsdiqi" in before
    assert "Qəbul edən (adı, soyadı)" in before  # the blank to fill in
    recorded = client.post(
        f"/api/v1/permits/{permit['id']}/receipt",
        json={"received_by": "ნანა კვარაცხელია"},
        headers=world.auth("doctor"),
    )
    assert recorded.status_code == 200, recorded.text
    after = pdf_text(client.get(url, headers=world.auth("doctor")).content)
    assert "კლინიკამ დაადასტურა მიღება: ნანა კვარაცხელია" in after
    assert "Klinika qəbulu təsdiq edib: ნანა კვარაცხელია" in after
    other = pdf_text(
        client.get(
            f"/api/v1/permits/{issued['medical_staff']['id']}/certificate.pdf",
            headers=world.auth("doctor"),
        ).content
    )
    assert "qəbulunun təsdiqi" not in other


def test_expired_permit_says_so(
    client: TestClient, world: World, issued: dict[str, dict[str, Any]], clock: Any
) -> None:
    permit = issued["patient_delivery"]  # valid today 15:00-17:00
    clock.advance(days=2)
    pdf = client.get(
        f"/api/v1/permits/{permit['id']}/certificate.pdf", headers=world.auth("doctor")
    ).content
    [page] = pdf_pages(pdf)
    assert read_qr_texts(page) == []
    text = pdf_text(pdf)
    assert "MÜDDƏTİ BİTİB" in text and "ვადა გასულია" in text


def test_garbage_references_are_not_found(client: TestClient, world: World) -> None:
    for ref in ("%00abc", "a b", "ნინო", "x" * 64):
        response = client.get(
            f"/api/v1/permits/{ref}/certificate.pdf", headers=world.auth("doctor")
        )
        assert response.status_code == 404, (ref, response.text)
    assert client.get("/h/%00%01").status_code == 404
    batch = client.post(
        "/api/v1/certificates/batch.pdf",
        json={"permits": ["a b", "MRN-CLINIC-999999"]},
        headers=world.auth("doctor"),
    )
    assert batch.status_code == 404
    assert batch.json()["errors"][0]["field"] == "permits[0]"
    with_nul = client.post(  # refused before any look-up (PostgreSQL cannot hold NUL)
        "/api/v1/certificates/batch.pdf",
        json={"permits": ["\u0000", "MRN-CLINIC-999999"]},
        headers=world.auth("doctor"),
    )
    assert with_nul.status_code == 422
    assert with_nul.json()["errors"][0]["field"] == "permits[0]"
