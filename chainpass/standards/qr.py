"""QR codes of a passport's GS1 Digital Link, as SVG or PNG, drawn with segno (pure Python).

The QR code carries the passport's Digital Link URI and nothing from the chain: a phone
opens the link at the resolver, and a GS1 scanner reads the GTIN and serial or lot out
of it. So a QR code can be printed offline, before or without a node.

Choices, fixed so that every label of a passport is the same:

- QR Code (ISO/IEC 18004), never Micro QR: a Digital Link does not fit one, and GS1
  Digital Link is carried in QR Code (or Data Matrix).
- Error correction level **M**: about 15 % of the symbol can be damaged or dirty and it
  still reads; the usual compromise between robustness and size for printed labels.
  segno is told not to raise the level when there is room (``boost_error=False``), so
  the level is always M.
- A quiet zone of **4 modules** of light on every side, the minimum ISO/IEC 18004 sets
  for QR Code: scanners need it to find the symbol. It is part of the image.
- Dark modules black on white: the light background is drawn, so the code also scans
  when shown on a dark page.
- SVG: sized by its ``viewBox``, one unit per module (quiet zone included), with no fixed
  width or height: it scales to any label without blurring. Its ``<title>`` is the link.
  PNG: ``scale`` pixels per module, 1-bit greyscale.

The format follows the file's suffix, ``.svg`` or ``.png``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import segno

from chainpass.errors import InvalidInput
from chainpass.files import write_bytes_atomic

#: Error correction level of every QR code chainpass draws.
ERROR_CORRECTION = "M"
#: Light modules around the symbol on every side (ISO/IEC 18004's minimum for QR Code).
QUIET_ZONE = 4
#: Pixels per module in a PNG unless told otherwise (a version 4 code: 410 px square).
DEFAULT_SCALE = 10

QrFormat = Literal["svg", "png"]


@dataclass(frozen=True)
class QrFile:
    """A QR code written to a file."""

    path: Path
    format: QrFormat
    #: The QR version segno chose (1 to 40): the symbol has 17 + 4 * version modules a side.
    version: int
    #: Modules a side, quiet zone included: the SVG's viewBox size.
    modules: int
    #: Pixels a side of a PNG; for an SVG, equal to ``modules`` (one unit per module).
    pixels: int


def qr_code(content: str) -> segno.QRCode:
    """The QR code of ``content``: QR Code (not Micro QR), error correction level M."""
    return segno.make(content, error=ERROR_CORRECTION, micro=False, boost_error=False)


def qr_format(path: Path) -> QrFormat:
    """``svg`` or ``png``, from the suffix of ``path``."""
    suffix = path.suffix.lower()
    if suffix == ".svg":
        return "svg"
    if suffix == ".png":
        return "png"
    raise InvalidInput(f"Cannot tell the QR code's format from {path.name!r}: name the file *.svg or *.png.")


def render(content: str, fmt: QrFormat, *, scale: int = DEFAULT_SCALE) -> bytes:
    """The QR code of ``content`` as an SVG or PNG document (see the module's notes)."""
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise InvalidInput(f"The scale of a QR code is a whole number of pixels per module, at least 1, not {scale!r}.")
    buffer = io.BytesIO()
    code = qr_code(content)
    if fmt == "svg":
        code.save(buffer, kind="svg", border=QUIET_ZONE, omitsize=True, dark="#000", light="#fff", title=content)
    else:
        code.save(buffer, kind="png", border=QUIET_ZONE, scale=scale, dark="#000", light="#fff")
    return buffer.getvalue()


def write_qr(content: str, path: Path, *, scale: int = DEFAULT_SCALE) -> QrFile:
    """Write the QR code of ``content`` to ``path`` (``.svg`` or ``.png``), atomically."""
    fmt = qr_format(path)
    data = render(content, fmt, scale=scale)
    try:
        write_bytes_atomic(path, data)
    except OSError as exc:
        raise InvalidInput(f"Cannot write the QR code to {path}: {exc.strerror or exc}.") from None
    code = qr_code(content)
    modules = int(code.symbol_size(scale=1, border=QUIET_ZONE)[0])
    return QrFile(path, fmt, int(code.version), modules, modules * (scale if fmt == "png" else 1))
