"""Very long names, addresses and organisation names wrap or shrink inside their boxes: no
text runs off the page, no two characters overlap, nothing covers the QR code. Checked on
what pdfium extracts from the rendered PDF (character boxes), in both label languages and
with English, valid and revoked (the revoked page carries a banner and a watermark)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from permits.certificates import service
from permits.certificates.pdf import MARGIN, PAGE_HEIGHT, PAGE_WIDTH, QR_BLOCK
from tests.certificates.conftest import dump
from tests.certificates.readback import pdf_char_boxes, pdf_pages, read_qr_texts
from tests.factories import World, day, person
from tests.helpers import issue

LONG_KA = "ვახტანგ-ალექსანდრე გოგოლაძე-მაისურაძე-ჯავახიშვილი"  # 50 letters and dashes
LONG_AZ = "Şəhriyar-Gülşən Əliağazadə-Çələbiyeva-Hüseynqızı"
WATERMARK_HEIGHT = 30.0  # points: only the diagonal NOT VALID watermark is this tall


def _long_funeral(now: Any) -> dict[str, Any]:
    names = [LONG_KA, LONG_AZ] * 4
    persons = [
        person("family_member", names[i][:30], names[i + 1][:55], f"0100801{i:04d}")
        for i in range(7)
    ]
    persons.append(person("driver", LONG_AZ[:40], LONG_KA[:58], "01008019999"))
    return {
        "category": "funeral",
        "persons": persons,
        "vehicle": {
            "kind": "minibus",
            "make_model": "Mercedes-Benz Sprinter 316 CDI Maxi Hoch",
            "plate": "TT-404-TT",
        },
        "route": {
            "from_address": ("მარნეული, აღმაშენებლის გამზირი " * 7)[:200],
            "from_municipality": 5,
            "to_address": ("Bolnisi, Kvemo Bolnisi kəndi, qəbiristanlıq yolu " * 5)[:200],
            "to_municipality": 1,
            "note": "via Kazreti, Ratevani and Rachisubani",
        },
        "schedule": {"valid_from": day(now), "valid_until": day(now, 2)},
        "reference_document": (
            "DC-2026-0042 / გარდაცვალების ცნობა No. 77-1234-5678, Marneuli civil registry"
        ),
    }


def _check(pdf: bytes, *, with_qr: bool) -> None:
    chars, (width, height) = pdf_char_boxes(pdf)
    assert (width, height) == pytest.approx((PAGE_WIDTH, PAGE_HEIGHT), abs=0.5)
    boxes = []
    for ch, position, (left, bottom, right, top) in chars:
        if top - bottom > WATERMARK_HEIGHT:
            continue
        assert left >= MARGIN - 1 and right <= PAGE_WIDTH - MARGIN + 1, (ch, left, right)
        assert bottom >= MARGIN - 1 and top <= PAGE_HEIGHT - MARGIN + 1, (ch, bottom, top)
        if with_qr:
            qr_left = PAGE_WIDTH - MARGIN - QR_BLOCK
            qr_bottom = PAGE_HEIGHT - MARGIN - QR_BLOCK
            inside = right > qr_left + 0.5 and top > qr_bottom + 0.5
            assert not inside, f"{ch!r} over the QR code at {left:.1f},{bottom:.1f}"
        boxes.append((left, bottom, right, top, ch, position))
    boxes.sort()
    for index, (left, bottom, right, top, ch, position) in enumerate(boxes):
        for other in boxes[index + 1 :]:
            if other[0] >= right - 0.3:
                break
            if abs(other[5] - position) == 1:
                continue  # neighbours in one line may touch (glyph boxes, not advances)
            overlap_x = min(right, other[2]) - max(left, other[0])
            overlap_y = min(top, other[3]) - max(bottom, other[1])
            assert overlap_x <= 0.3 or overlap_y <= 0.6, f"{ch!r} overlaps {other[4]!r}"
    assert len(boxes) > 300


@pytest.mark.parametrize("languages", ["ka,az", "ka,az,en"])
def test_longest_texts_stay_inside_their_boxes(
    languages: str,
    client: TestClient,
    world: World,
    session: Session,
    clock: Any,
) -> None:
    organisation = world.organisations["MRN-CLINIC"]
    organisation.name_ka = (
        "ქვემო ქართლის რეგიონული კლინიკური საავადმყოფო და დიაგნოსტიკური ცენტრი " * 4
    )[:300]
    organisation.name_az = ("Kvemo Kartli Regional Klinik Xəstəxanası və Diaqnostika Mərkəzi " * 5)[
        :300
    ]
    organisation.name_en = ("Kvemo Kartli Regional Clinical Hospital and Diagnostic Centre " * 5)[
        :300
    ]
    organisation.address = ("Marneuli, Rustaveli Street 1, building 2, entrance 3, floor 4 " * 5)[
        :300
    ]
    session.add(organisation)
    session.commit()
    permit = issue(client, world, _long_funeral(clock()))
    view = service.certificate_view(
        session, caller=None, ref=permit["id"], languages=languages, now=clock()
    )
    pdf = service.render_pdf(view).content
    dump(f"long-{languages}.pdf", pdf)
    _check(pdf, with_qr=True)
    [page] = pdf_pages(pdf, dpi=200)
    assert read_qr_texts(page) == [permit["qr_text"]]
    # Revoked: the banner and the watermark come on top of the same content.
    revoked = client.post(
        f"/api/v1/permits/{permit['id']}/revoke",
        json={"reason": "test"},
        headers=world.auth("doctor"),
    )
    assert revoked.status_code == 200
    session.rollback()  # end the read snapshot taken before the revocation
    view = service.certificate_view(
        session, caller=None, ref=permit["id"], languages=languages, now=clock()
    )
    pdf = service.render_pdf(view).content
    dump(f"long-revoked-{languages}.pdf", pdf)
    assert view.status == "revoked"
    _check(pdf, with_qr=False)
    # The phone image fits its width too: it is 1080 px wide whatever the names.
    from tests.certificates.readback import png_image

    assert png_image(service.render_png(view).content).width == 1080


def test_fit_shrinks_then_cuts_with_an_ellipsis() -> None:
    from permits.certificates.fonts import REGULAR, width
    from permits.certificates.textfit import fit

    short = fit("ნინო ბერიძე", REGULAR, box_width=200, box_height=20, size=12, min_size=6)
    assert short.lines == ("ნინო ბერიძე",) and short.size == 12 and not short.cut
    long_text = " ".join([LONG_KA, LONG_AZ] * 6)
    fitted = fit(long_text, REGULAR, box_width=150, box_height=30, size=12, min_size=6)
    assert fitted.cut and fitted.size == 6 and fitted.lines[-1].endswith("…")
    assert fitted.height <= 30 + 0.01
    assert all(width(line, REGULAR, fitted.size) <= 150 + 0.01 for line in fitted.lines)
    unbroken = fit("Ə" * 80, REGULAR, box_width=100, box_height=40, size=10, min_size=8)
    assert all(width(line, REGULAR, unbroken.size) <= 100 + 0.01 for line in unbroken.lines)
