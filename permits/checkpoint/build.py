"""Write the checkpoint app as plain static files, for any web server.

    python -m permits.checkpoint.build OUTDIR --root-key keys/root-public-key.pem \
        [--lists-url URL] [--api-url URL]

OUTDIR then holds index.html, the service worker, the decoder (copied from node_modules) and
config.json with the pinned root key. Serve the folder over HTTPS (a service worker and the
camera need a secure origin); point --lists-url at the folder or route that serves
trust-list.cose and revocation-list.cose, and --api-url at the permits API (for typed
control codes and uploading check records).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from permits.checkpoint.bundle import DEFAULT_API_URL, DEFAULT_LISTS_URL, app_config, build_bundle
from verifier.keys import load_public_key_pem


def build(out_dir: Path, *, root_key_pem: Path, lists_url: str, api_url: str) -> list[Path]:
    """Write every file of the app into `out_dir`; return the paths written."""
    root = load_public_key_pem(root_key_pem.read_bytes())
    bundle = build_bundle(app_config(root, lists_url=lists_url, api_url=api_url))
    written = []
    for name, file in sorted(bundle.items()):
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file.data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: build the static app."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--root-key", type=Path, default=Path("keys/root-public-key.pem"))
    parser.add_argument("--lists-url", default=DEFAULT_LISTS_URL)
    parser.add_argument("--api-url", default=DEFAULT_API_URL)
    args = parser.parse_args(argv)
    written = build(
        args.out_dir, root_key_pem=args.root_key, lists_url=args.lists_url, api_url=args.api_url
    )
    print(f"wrote {len(written)} files to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
