"""The phone image sets names, numbers and plates from cached glyphs: the result must look like
FreeType's rendering of the whole line, and text that needs shaping must be rendered whole."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from permits.certificates import phone
from permits.certificates.fonts import BOLD, REGULAR, Face

LINES = [
    "ნინო ბერიძე-კაპანაძე",
    "Gülşən Məmmədov İlqar Çələbi Öz Ğ",
    "AB-123-CD",
    "7KQ-9XW-2MF",
    "პ/ნ / ş/n: 10000055433",
    "AVATAR Wave LT To",  # pairs a font kerns
]


@pytest.mark.parametrize("face", [REGULAR, BOLD], ids=["regular", "bold"])
@pytest.mark.parametrize("size", [32, 56, 100])
def test_glyph_set_lines_match_freetype(face: Face, size: int) -> None:
    for text in LINES:
        phone._text_mask.cache_clear()
        composed, left, top = phone._text_mask(text, face, size)
        whole, whole_left, whole_top = phone._render(text, face, size)
        assert abs(left - whole_left) <= 1 and abs(top - whole_top) <= 1, text
        assert abs(composed.width - whole.width) <= 2, text
        assert abs(composed.height - whole.height) <= 1, text
        # Same ink, within rounding: pixels that differ noticeably are a sliver of the line.
        width = min(composed.width, whole.width)
        height = min(composed.height, whole.height)
        box = (0, 0, width, height)
        shifted = whole.crop(
            (
                left - whole_left,
                top - whole_top,
                left - whole_left + width,
                top - whole_top + height,
            )
        )
        differ = ImageChops.difference(composed.crop(box), shifted).point(lambda v: v > 128)
        inked = whole.point(lambda v: v > 128)
        assert differ.histogram()[1] <= 0.1 * inked.histogram()[1], text


def test_text_that_needs_shaping_is_rendered_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    render = phone._render

    def spy(text: str, face: Face, size: int) -> tuple[Image.Image, int, int]:
        calls.append(text)
        return render(text, face, size)

    monkeypatch.setattr(phone, "_render", spy)
    phone._text_mask.cache_clear()
    decomposed = "S\u0327ahin"  # S + combining cedilla
    phone._text_mask(decomposed, REGULAR, 40)
    phone._text_mask("Şahin", REGULAR, 40)
    assert decomposed in calls  # whole
    assert "Şahin" not in calls  # from glyphs (only single letters rendered)
    assert all(len(text) == 1 for text in calls if text != decomposed)
