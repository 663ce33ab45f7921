"""The app as static files (any web server): every golden vector reaches the Python library's
outcome inside the browser, and every verdict shows in ka, az and en on a 360x640 screen."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.checkpoint.conftest import Launcher
from tests.checkpoint.static_site import VECTORS, static_site
from tests.checkpoint.verdicts import CATALOGS, COLOURS, LANGS, VERDICT_VECTORS, render_verdicts

pytestmark = pytest.mark.browser

RUN_VECTORS = """
async ({ vectors, files }) => {
  const base = new URL("./", location.href);
  const { loadTrustList, loadRevocationList, acceptUpdate, ListError } =
    await import(new URL("src/lists.js", base));
  const { Verifier } = await import(new URL("src/verify.js", base));
  const { claimsToJson } = await import(new URL("src/claims.js", base));
  const root = window.checkpoint.app.root;  // the key the app pinned from its config.json
  const bytes = (name) => Uint8Array.from(atob(files[name]), (c) => c.charCodeAt(0));
  const out = {};
  for (const [name, v] of Object.entries(vectors)) {
    if (v.kind === "permit") {
      const trust = await loadTrustList(bytes(v.trust_list), root);
      const revocation = v.revocation_list
        ? await loadRevocationList(bytes(v.revocation_list), root) : null;
      const r = await new Verifier(trust, revocation).verify(v.qr, Date.parse(v.at));
      const got = { status: r.status, warnings: r.warnings };
      if (r.claims) { got.control_code = r.controlCode; got.claims = claimsToJson(r.claims); }
      out[name] = got;
    } else {
      const load = v.kind === "trust_list" ? loadTrustList : loadRevocationList;
      try {
        const list = await load(bytes(v.file), root);
        out[name] = acceptUpdate(v.current_version, list.version) ? "accepted" : "rollback";
      } catch (e) {
        out[name] = e instanceof ListError ? e.reason : `error: ${e}`;
      }
    }
  }
  return out;
}
"""


def test_every_vector_in_the_browser(tmp_path: Path, browser: Any) -> None:
    index = json.loads((VECTORS / "index.json").read_text(encoding="utf-8"))
    vectors = {n: json.loads((VECTORS / n).read_text(encoding="utf-8")) for n in index["vectors"]}
    files = {
        p.name: base64.b64encode(p.read_bytes()).decode() for p in sorted(VECTORS.glob("*.cose"))
    }
    with static_site(tmp_path / "site") as url:
        page = browser.new_page()
        page.goto(f"{url}/")
        page.evaluate("async () => { await window.checkpoint.ready; }")
        got: dict[str, Any] = page.evaluate(RUN_VECTORS, {"vectors": vectors, "files": files})
        page.close()
    assert len(got) == len(vectors) > 60
    for name, vector in vectors.items():
        assert got[name] == vector["expected"], (name, vector["description"])


def test_every_verdict_in_every_language(tmp_path: Path, launch_chromium: Launcher) -> None:
    shown = render_verdicts(tmp_path / "shots", work_dir=tmp_path, launch=launch_chromium)
    catalogs = {
        lang: json.loads((CATALOGS / f"{lang}.json").read_text(encoding="utf-8")) for lang in LANGS
    }
    assert len(shown) == len(VERDICT_VECTORS) * len(LANGS)
    for screen in shown:
        catalog = catalogs[screen["lang"]]
        assert screen["status"] == screen["expected"], screen
        assert screen["colour"] == COLOURS.get(screen["expected"], "red"), screen
        assert screen["word"] == catalog["status"][screen["expected"]], screen
        assert screen["reason"] and "\n" not in screen["reason"], screen  # one line why
        assert "{" not in screen["reason"], screen  # every placeholder filled
        assert not screen["overflow"] and screen["next_visible"], screen
    valid_en = next(s for s in shown if s["lang"] == "en" and s["expected"] == "valid")
    for expected in ("Məmmədov Əli", "01001012345", "C01X00T47", "AA-123-BB", "Toyota Prius"):
        assert expected in valid_en["details"], expected
    replaced_ka = next(s for s in shown if s["lang"] == "ka" and s["expected"] == "replaced")
    assert replaced_ka["reason"] == catalogs["ka"]["reason"]["replaced"]
    for path in (tmp_path / "shots").glob("*.png"):
        with Image.open(path) as image:
            assert image.size == (360, 640), path.name
    assert len(list((tmp_path / "shots").glob("*.png"))) == 33


def test_stale_lists_warn_and_still_verify_and_the_language_is_remembered(
    tmp_path: Path, browser: Any
) -> None:
    stale = json.loads((VECTORS / "permit-valid-stale-lists.json").read_text(encoding="utf-8"))
    with static_site(tmp_path / "site") as url:
        context = browser.new_context(viewport={"width": 360, "height": 640}, locale="en-GB")
        context.clock.set_fixed_time(datetime.fromisoformat(stale["at"]))  # day 8: past 7 days
        page = context.new_page()
        page.goto(f"{url}/")
        page.evaluate("async () => { await window.checkpoint.ready; }")
        assert page.locator("#lists-age").inner_text() == "Lists: 8 d old"
        assert "stale" in (page.locator("#lists-age").get_attribute("class") or "")
        assert "older than the limit (7 d)" in page.locator("#banners").inner_text()
        page.locator("#langs button[data-lang='az']").click()
        page.evaluate("(qr) => window.checkpoint.verifyText(qr)", stale["qr"])
        page.locator("#verdict:not([hidden])").wait_for()
        assert page.locator("#verdict").get_attribute("data-status") == "valid"
        assert page.locator("#verdict").get_attribute("class") == "green"
        assert "limitdən" in page.locator("#verdict-warning").inner_text()
        page.reload()
        page.evaluate("async () => { await window.checkpoint.ready; }")
        assert page.evaluate("() => document.documentElement.lang") == "az"
        assert page.locator("#lists-age").inner_text() == "Siyahılar: 8 gün əvvəl"
        context.close()
