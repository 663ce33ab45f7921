"""A fake camera for Chromium: QR codes rendered with segno into Y4M video files.

Chromium plays the file in a loop as the camera (`--use-fake-device-for-media-stream
--use-file-for-fake-video-capture=FILE.y4m`), so the app scans real pixels of a real QR code.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import segno
from PIL import Image

WIDTH, HEIGHT = 640, 480


def qr_image(text: str, *, size: int = 360) -> Image.Image:
    """The QR code of `text` (ECC Q, as printed on certificates) as a grey image `size` wide."""
    code = segno.make(text, error="q", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=8, border=4)
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    return image.resize((size, size), Image.Resampling.NEAREST)


def frame(text: str | None, *, marker: bool = True, size: int = 360) -> Image.Image:
    """One 640x480 camera frame: the QR of `text` in the middle on a grey desk, or no QR.

    A frame that shows a QR carries a black square in its top-left corner, a blank one a
    white square: the benchmark watches that corner to know when the QR came into view.
    """
    image = Image.new("L", (WIDTH, HEIGHT), 150)
    if text is not None:
        qr = qr_image(text, size=size)
        image.paste(qr, ((WIDTH - qr.width) // 2, (HEIGHT - qr.height) // 2))
    if marker:
        image.paste(0 if text is not None else 255, (0, 0, 24, 24))
    return image


def write_y4m(path: Path, frames: Sequence[Image.Image], *, fps: int = 15) -> Path:
    """Write `frames` (640x480) as a 4:2:0 Y4M video that Chromium can use as its camera."""
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for image in frames:
            out.write(b"FRAME\n")
            out.write(image.convert("L").tobytes())
            out.write(chroma)
            out.write(chroma)
    return path


def camera_file(
    path: Path, text: str | None, *, blank_frames: int = 0, qr_frames: int = 15
) -> Path:
    """A looping camera video: `blank_frames` without a QR, then `qr_frames` showing `text`."""
    frames = [frame(None)] * blank_frames + [frame(text)] * qr_frames
    return write_y4m(path, frames)
