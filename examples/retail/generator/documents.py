"""Unstructured files of the demo source: product images, invoice PDFs and support tickets.

Pure byte builders used by :mod:`lake.demo_source`; the same arguments always give the same bytes.
The PDF writer is hand-rolled (one page, Helvetica text, exact cross-reference offsets) so the demo
needs no PDF library to produce files that pypdf reads in strict mode.
"""

from __future__ import annotations

import io
import random
from collections.abc import Mapping, Sequence

from PIL import Image, ImageDraw

_PAGE_WIDTH, _PAGE_HEIGHT = 595, 842  # A4 in points
_FONT_SIZE, _LEADING, _MARGIN = 12, 16, 72


def product_image(product_id: str, width: int, height: int) -> bytes:
    """A PNG of ``width`` x ``height`` pixels whose colours and shapes are derived from the id."""
    if width < 1 or height < 1:
        raise ValueError(f"width and height must be positive, got {width}x{height}")
    rng = random.Random(f"image-{product_id}")
    background = tuple(rng.randrange(256) for _ in range(3))
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = rng.randrange(x0, width + 1), rng.randrange(y0, height + 1)
        draw.ellipse((x0, y0, x1, y1), fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _pdf_literal(text: str) -> bytes:
    """``text`` as a PDF literal string: WinAnsi bytes with ``\\``, ``(`` and ``)`` escaped."""
    raw = text.encode("cp1252", errors="replace")
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


def text_pdf(lines: Sequence[str]) -> bytes:
    """A valid one-page PDF showing ``lines`` top to bottom in Helvetica."""
    shown = b" Tj T* ".join(_pdf_literal(line) for line in lines) + b" Tj" if lines else b""
    content = (
        b"BT /F1 %d Tf %d TL %d %d Td " % (_FONT_SIZE, _LEADING, _MARGIN, _PAGE_HEIGHT - _MARGIN)
        + shown
        + b" ET"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>" % (_PAGE_WIDTH, _PAGE_HEIGHT),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_offset = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"  # every entry is exactly 20 bytes
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


_TICKET_SUBJECTS = (
    "Parcel arrived damaged",
    "Wrong item delivered",
    "Refund not received",
    "Cannot change delivery address",
    "Invoice shows the wrong amount",
)


def invoice_pdf(order: Mapping[str, object]) -> bytes:
    """The invoice of one order: a one-page PDF naming the order id and the amount."""
    return text_pdf(
        [
            "Demo Retail Ltd. - Invoice",
            f"Order: {order['order_id']}",
            f"Customer: {order['customer_id']}",
            f"Date: {order['order_ts']}",
            f"Amount: {order['amount']:.2f} EUR",
        ]
    )


def support_ticket(number: int, order: Mapping[str, object], rng: random.Random) -> str:
    """A plain-text support ticket about one order."""
    subject = rng.choice(_TICKET_SUBJECTS)
    return (
        f"Ticket: {number}\n"
        f"Customer: {order['customer_id']}\n"
        f"Order: {order['order_id']}\n"
        f"Subject: {subject}\n"
        "\n"
        f"Hello, about order {order['order_id']}: {subject.lower()}. "
        "Please get back to me as soon as possible.\n"
    )


def day_documents(
    rng: random.Random,
    product_ids: Sequence[str],
    orders: Sequence[Mapping[str, object]],
    first_ticket: int,
) -> dict[str, bytes]:
    """File name -> bytes of one day's unstructured files.

    2-3 images ``product_<id>.png`` of varied sizes for products in ``product_ids``, 2 invoices
    ``invoice_<order_id>.pdf`` and 2 tickets ``ticket_<n>.txt`` (numbered from ``first_ticket``)
    about orders in ``orders``.
    """
    files = {}
    for product_id in rng.sample(list(product_ids), rng.randint(2, 3)):
        width, height = rng.randint(48, 320), rng.randint(32, 240)
        files[f"product_{product_id}.png"] = product_image(product_id, width, height)
    for order in rng.sample(list(orders), 2):
        files[f"invoice_{order['order_id']}.pdf"] = invoice_pdf(order)
    for number, order in enumerate(rng.sample(list(orders), 2), start=first_ticket):
        files[f"ticket_{number}.txt"] = support_ticket(number, order, rng).encode("utf-8")
    return files
