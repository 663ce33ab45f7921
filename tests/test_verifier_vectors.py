"""The golden test vectors in tests/vectors/ (shared with the browser verifier), and fresh ones."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.vectors.generate import generate
from verifier import codec, keys, lists
from verifier.errors import ListError
from verifier.model import RevocationList, TrustList
from verifier.verify import Verifier

VECTORS = Path(__file__).parent / "vectors"
GOLDEN = sorted(p.name for p in VECTORS.glob("*.json") if p.name.startswith(("permit-", "list-")))
STATUSES = {
    "valid", "malformed", "unknown_issuer", "bad_signature", "category_not_allowed",
    "not_yet_valid", "expired", "outside_window", "revoked", "replaced",
}  # fmt: skip


def _load(directory: Path, name: str, kind: str) -> TrustList | RevocationList:
    root = keys.load_public_key_pem((directory / "root-public-key.pem").read_bytes())
    data = (directory / name).read_bytes()
    if kind == "trust_list":
        return lists.load_trust_list(data, root_public_key=root)
    return lists.load_revocation_list(data, root_public_key=root)


def check_vector(directory: Path, name: str) -> dict[str, Any]:
    """Run the Python verifier over one vector file and assert its expected result."""
    vector = json.loads((directory / name).read_text(encoding="utf-8"))
    if vector["kind"] == "permit":
        trust = _load(directory, vector["trust_list"], "trust_list")
        revocation = (
            _load(directory, vector["revocation_list"], "revocation_list")
            if vector["revocation_list"]
            else None
        )
        assert isinstance(trust, TrustList)
        assert revocation is None or isinstance(revocation, RevocationList)
        at = datetime.fromisoformat(vector["at"])
        assert at.utcoffset() is not None, "`at` carries an offset"
        result = Verifier(trust, revocation).verify(vector["qr"], at=at)
        expected = vector["expected"]
        assert result.status.value == expected["status"], (name, result.reason)
        assert list(result.warnings) == expected["warnings"], name
        assert result.control_code == expected.get("control_code"), name
        claims = None if result.claims is None else codec.claims_to_json(result.claims)
        assert claims == expected.get("claims"), name
    else:
        root = keys.load_public_key_pem((directory / "root-public-key.pem").read_bytes())
        load = (
            lists.load_trust_list if vector["kind"] == "trust_list" else lists.load_revocation_list
        )
        try:
            loaded = load((directory / vector["file"]).read_bytes(), root_public_key=root)
        except ListError as exc:
            verdict = exc.reason
        else:
            accepted = lists.accept_update(vector["current_version"], loaded.version)
            verdict = "accepted" if accepted else "rollback"
        assert verdict == vector["expected"], name
    return vector


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_vector(name: str) -> None:
    check_vector(VECTORS, name)


def test_the_golden_vectors_cover_every_status_and_list_verdict() -> None:
    assert len(GOLDEN) > 60
    vectors = [json.loads((VECTORS / n).read_text(encoding="utf-8")) for n in GOLDEN]
    statuses = [v["expected"]["status"] for v in vectors if v["kind"] == "permit"]
    assert set(statuses) == STATUSES
    assert all(statuses.count(s) >= 2 for s in STATUSES), statuses
    verdicts = {v["expected"] for v in vectors if v["kind"] != "permit"}
    assert verdicts == {"accepted", "rollback", "bad_signature", "malformed", "wrong_type"}


def test_index_names_every_vector_file() -> None:
    index = json.loads((VECTORS / "index.json").read_text(encoding="utf-8"))
    assert index["vectors"] == GOLDEN
    jwk = json.loads((VECTORS / index["root_public_key_jwk"]).read_text(encoding="utf-8"))
    pem = keys.load_public_key_pem((VECTORS / index["root_public_key"]).read_bytes())
    assert jwk == keys.public_key_jwk(pem)


def test_no_private_key_is_committed() -> None:
    for path in VECTORS.iterdir():
        if path.suffix in (".pem", ".json"):
            content = path.read_text(encoding="utf-8")
            assert "PRIVATE" not in content, path.name
    jwk = json.loads((VECTORS / "root-public-key.jwk.json").read_text(encoding="utf-8"))
    assert "d" not in jwk


def test_fresh_vectors_pass(tmp_path: Path) -> None:
    written = generate(tmp_path)
    assert sorted(p.name for p in written) == GOLDEN  # the same vectors, with new keys
    for path in written:
        check_vector(tmp_path, path.name)
    golden_root = (VECTORS / "root-public-key.pem").read_bytes()
    assert (tmp_path / "root-public-key.pem").read_bytes() != golden_root  # fresh keys


def test_golden_vectors_refuse_a_fresh_root(tmp_path: Path) -> None:
    """The golden trust list is signed by the golden root only."""
    generate(tmp_path)
    fresh_root = keys.load_public_key_pem((tmp_path / "root-public-key.pem").read_bytes())
    with pytest.raises(ListError) as caught:
        lists.load_trust_list(
            (VECTORS / "trust-list.cose").read_bytes(), root_public_key=fresh_root
        )
    assert caught.value.reason == "bad_signature"
