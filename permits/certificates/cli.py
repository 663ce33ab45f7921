"""`permits render`: write certificates to files, by permit id or serial.

permits render MRN-CLINIC-000001 MRN-CLINIC-000002 --pdf --png --out var/certificates
permits render $(cat roster.txt) --batch --zip --languages ka,az,en
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from permits.settings import Settings


def cmd_render(args: argparse.Namespace, settings: Settings) -> int:
    """Write certificate PDFs, phone images, one batch PDF or a ZIP of phone images."""
    from sqlmodel import Session

    from permits.certificates import service
    from permits.db import make_engine
    from permits.timezone import utcnow

    wanted = {name for name in ("pdf", "png", "batch", "zip") if getattr(args, name)} or {"pdf"}
    out = Path(args.out)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            views = service.certificate_views(
                session, caller=None, refs=args.permits, languages=args.languages, now=utcnow()
            )
    finally:
        engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    files: list[service.Rendered] = []
    for view in views:
        if "pdf" in wanted:
            files.append(service.render_pdf(view))
        if "png" in wanted:
            files.append(service.render_png(view))
    if "batch" in wanted:
        files.append(service.render_batch_pdf(views))
    if "zip" in wanted:
        files.append(service.render_batch_zip(views))
    for rendered in files:
        path = out / rendered.filename
        path.write_bytes(rendered.content)
        print(path)
    for view in views:
        if not view.valid:
            print(f"note: {view.serial} is {view.status}: rendered as not valid, without its QR")
    return 0


def add_render_command(sub: Any) -> None:
    """Add `render` to the `permits` command's subparsers."""
    render = sub.add_parser("render", help=cmd_render.__doc__)
    render.add_argument("permits", nargs="+", help="permit ids or serials")
    render.add_argument("--pdf", action="store_true", help="one A4 PDF per permit (default)")
    render.add_argument("--png", action="store_true", help="one phone image per permit")
    render.add_argument("--batch", action="store_true", help="one PDF of all, a page each")
    render.add_argument("--zip", action="store_true", help="a ZIP of the phone images")
    render.add_argument("--languages", help="ka,az or ka,az,en (default: the issuer's setting)")
    render.add_argument(
        "--out", default="var/certificates", help="folder (default var/certificates)"
    )
    render.set_defaults(func=cmd_render)
