"""Every verdict in every language, rendered by the app from the golden vectors.

    .venv/bin/python -m tests.checkpoint.verdicts [OUTDIR]    (default docs/checkpoint)

writes one 360x640 screenshot per verdict and language (and the scanning screen), kept small.
The browser test runs the same code into a temporary folder.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

from tests.browser import chromium
from tests.checkpoint.camera import camera_file
from tests.checkpoint.static_site import VECTORS, static_site

LANGS = ("ka", "az", "en")
CATALOGS = Path(__file__).parents[2] / "verifier" / "web" / "i18n"
VERDICT_VECTORS = {
    "valid": "permit-valid-doctor-visit-azerbaijani-names.json",
    "revoked": "permit-revoked-1.json",
    "replaced": "permit-replaced-1.json",
    "expired": "permit-expired-days.json",
    "not_yet_valid": "permit-not-yet-valid-days.json",
    "outside_window": "permit-farm-1200-outside-window.json",
    "category_not_allowed": "permit-category-not-allowed-clinic-farm.json",
    "unknown_issuer": "permit-unknown-issuer-stranger.json",
    "bad_signature": "permit-tampered-payload-bad-signature.json",
    "malformed": "permit-tampered-header-malformed.json",
}
COLOURS = {"valid": "green", "not_yet_valid": "amber", "outside_window": "amber"}


def _small_png(path: Path) -> None:
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def render_verdicts(
    out_dir: Path, *, work_dir: Path, launch: Callable[..., Any] = chromium
) -> list[dict[str, Any]]:
    """Show each verdict in each language; write `<status>-<lang>.png` and `scan-<lang>.png`
    into `out_dir`. Returns what each screen showed (status, colour, word, reason, overflow).
    `launch(flags)` starts Chromium (the tests pass their own launcher)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    video = camera_file(work_dir / "blank.y4m", None)
    shown: list[dict[str, Any]] = []
    args = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    with static_site(work_dir / "site") as url, launch(args) as browser:
        context = browser.new_context(
            viewport={"width": 360, "height": 640}, permissions=["camera"], device_scale_factor=1
        )
        context.clock.set_fixed_time(datetime.fromisoformat("2026-11-03T10:00:00+04:00"))
        page = context.new_page()
        page.goto(f"{url}/")
        page.evaluate("async () => { await window.checkpoint.ready; }")
        for lang in LANGS:
            page.locator(f"#langs button[data-lang='{lang}']").click()
            page.locator("#next").wait_for(state="hidden")
            page.screenshot(path=out_dir / f"scan-{lang}.png")
            _small_png(out_dir / f"scan-{lang}.png")
            for status, name in VERDICT_VECTORS.items():
                vector = json.loads((VECTORS / name).read_text(encoding="utf-8"))
                context.clock.set_fixed_time(datetime.fromisoformat(vector["at"]))
                page.evaluate("(qr) => window.checkpoint.verifyText(qr)", vector["qr"])
                page.locator("#verdict:not([hidden])").wait_for()
                path = out_dir / f"{status}-{lang}.png"
                page.screenshot(path=path)
                _small_png(path)
                shown.append(
                    {
                        "lang": lang,
                        "expected": status,
                        "status": page.locator("#verdict").get_attribute("data-status"),
                        "colour": page.locator("#verdict").get_attribute("class"),
                        "word": page.locator("#verdict-word").inner_text(),
                        "reason": page.locator("#verdict-reason").inner_text(),
                        "details": page.locator("#verdict-details").inner_text(),
                        "overflow": page.evaluate(
                            "() => document.documentElement.scrollWidth > window.innerWidth"
                        ),
                        "next_visible": page.locator("#next").is_visible(),
                    }
                )
                page.locator("#next").click()
        context.close()
    return shown


def main(argv: list[str]) -> int:
    """Write the screenshots into argv[1] (default docs/checkpoint)."""
    out_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).parents[2] / "docs" / "checkpoint"
    with tempfile.TemporaryDirectory() as work:
        shown = render_verdicts(out_dir, work_dir=Path(work))
    print(f"wrote {len(shown) + len(LANGS)} screenshots to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
