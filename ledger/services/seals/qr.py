"""QR images of a seal (ISO/IEC 18004), written with segno and read back with zxing-cpp.

The URL form is two segments: the ``<host>/s/`` prefix in byte mode, then the
seal's digits in numeric mode (10 bits per 3 digits), like SMART Health
Cards' ``shc:/``. The ``HS1:`` form is one alphanumeric segment, like the EU
DCC's ``HC1:``. Error correction is Q (25 % of codewords recoverable), never
boosted, so the version depends on the content alone.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Final

import segno
import zxingcpp
from PIL import Image, UnidentifiedImageError
from segno import consts

from ledger.core.errors import MalformedError
from ledger.core.seal import HS1_PREFIX, URL_PATH, SealMalformed

ERROR_LEVEL: Final = "q"
MAX_URL_VERSION: Final = 13


class SealImageUnreadable(MalformedError):
    """The image holds no readable QR code."""

    check = "seal.image"


def make_qr(text: str) -> segno.QRCode:
    """The QR code of a seal text form (URL or HS1), at level Q, with the segments above."""
    if text.startswith(HS1_PREFIX):
        return segno.make(text, error=ERROR_LEVEL, micro=False, boost_error=False)
    head, sep, digits = text.rpartition(URL_PATH)
    if not sep or not digits.isdigit():
        raise SealMalformed("not a seal URL or HS1 text")
    segments = [(head + sep, consts.MODE_BYTE), (digits, consts.MODE_NUMERIC)]
    # segno takes a list of (content, mode) segments; its stub names only one content.
    return segno.make(segments, error=ERROR_LEVEL, micro=False, boost_error=False)  # type: ignore[arg-type]


def png_bytes(qr: segno.QRCode, *, scale: int = 6) -> bytes:
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def svg_text(
    qr: segno.QRCode, *, scale: int = 4, title: str | None = None, scalable: bool = False
) -> str:
    """The SVG; ``scalable`` gives a viewBox instead of a fixed size (for CSS sizing)."""
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=scale, border=4, xmldecl=False, title=title, omitsize=scalable)
    return out.getvalue().decode("utf-8")


def read_qr(data: bytes, *, where: str = "image") -> str:
    """The text of the one QR code in an image (PNG, JPEG, ... — whatever Pillow opens)."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as err:
        raise SealImageUnreadable(f"not an image Pillow can read: {err}", where=where) from err
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    found = zxingcpp.read_barcodes(image.convert("L"), formats=qr_only)
    texts = [b.text for b in found if b.valid]
    if len(texts) != 1:
        raise SealImageUnreadable(f"expected one QR code, found {len(texts)}", where=where)
    return texts[0]


def read_qr_file(path: Path) -> str:
    return read_qr(path.read_bytes(), where=str(path))
