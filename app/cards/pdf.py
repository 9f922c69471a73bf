"""A one-page PDF writer for the card: text in Helvetica (one of the standard 14 fonts, so
nothing is embedded) with WinAnsiEncoding for the Italian accents, and the QR code drawn as
filled squares, one per dark module. No dependency beyond `qrcode`, which gives the matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import qrcode
from qrcode.constants import ERROR_CORRECT_M

MM = 72 / 25.4
A6 = (round(105 * MM, 2), round(148 * MM, 2))  # 297.64 x 419.53 points


@dataclass(frozen=True)
class Line:
    text: str
    x: float
    y: float
    size: float = 10
    bold: bool = False


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules of the QR code of `data`, without the quiet zone (True = dark)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def _literal(value: str) -> bytes:
    """A PDF string literal in WinAnsiEncoding (cp1252): à, è, é, ì, ò, ù, ’ and · included."""
    raw = value.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _number(value: float) -> bytes:
    return (f"{value:.2f}".rstrip("0").rstrip(".") or "0").encode()


def page_content(lines: Sequence[Line], matrix: list[list[bool]], x: float, top: float,
                 module: float) -> bytes:  # fmt: skip
    """The page's content stream: the texts, then one `re` per dark module of the QR code.
    The module at row r, column c is the square at (x + c·module, top − (r + 1)·module)."""
    out: list[bytes] = []
    for line in lines:
        font = b"/F2" if line.bold else b"/F1"
        out.append(
            b"BT %s %s Tf %s %s Td %s Tj ET"
            % (font, _number(line.size), _number(line.x), _number(line.y), _literal(line.text))
        )
    out.append(b"0 g")
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                out.append(
                    b"%s %s %s %s re f"
                    % (
                        _number(x + c * module),
                        _number(top - (r + 1) * module),
                        _number(module),
                        _number(module),
                    )
                )
    return b"\n".join(out) + b"\n"


def one_page_pdf(content: bytes, size: tuple[float, float] = A6, title: str = "") -> bytes:
    """A complete PDF file: catalog, one page of `size` points, Helvetica and Helvetica-Bold."""
    width, height = size
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
        % (_number(width), _number(height)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Title %s /Producer (Torino Solidale) >>" % _literal(title),
    ]
    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        body += b"%010d 00000 n \n" % offset
    body += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        len(objects),
        xref,
    )
    return bytes(body)
