"""Reading a QR code back from a PNG, as a phone's camera app would (zxing-cpp, a real decoder)."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def qr_text(png: bytes) -> str:
    """The text of the one QR code in the image; fails when there is none or more than one."""
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found.format == zxingcpp.BarcodeFormat.QRCode, found.format
    return str(found.text)
