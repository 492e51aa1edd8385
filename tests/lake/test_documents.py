"""Metadata of unstructured files: sniffed types, image sizes, PDF pages and text, failures."""

from __future__ import annotations

import dataclasses
import hashlib
import io

import pytest
from PIL import Image
from pypdf import PdfWriter

from examples.retail.generator.documents import product_image, text_pdf
from lake.ingest.documents import DOCUMENT_INFO_DDL, MAX_TEXT_CHARS, DocumentInfo, describe


def _image(fmt: str, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(buffer, format=fmt)
    return buffer.getvalue()


def test_png_size_hash_and_dimensions():
    content = product_image("P007", 37, 21)
    info = describe("product_P007.png", content)
    assert info == DocumentInfo(
        mime_type="image/png",
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        width=37,
        height=21,
        page_count=None,
        text=None,
        error=None,
    )


@pytest.mark.parametrize(
    ("fmt", "mime_type"), [("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("PNG", "image/png")]
)
def test_content_beats_a_misleading_file_name(fmt, mime_type):
    info = describe("upload.txt", _image(fmt, (64, 48)))
    assert (info.mime_type, info.width, info.height, info.text, info.error) == (
        mime_type,
        64,
        48,
        None,
        None,
    )


def test_pdf_page_count_and_text():
    info = describe("invoice_O20260103-00042.pdf", text_pdf(["Order: O20260103-00042", "12.50"]))
    assert info.mime_type == "application/pdf"
    assert info.page_count == 1
    assert info.text.splitlines() == ["Order: O20260103-00042", "12.50"]
    assert info.error is None


def test_pdf_with_several_blank_pages():
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    info = describe("blank.bin", buffer.getvalue())
    assert (info.mime_type, info.page_count, info.text.strip(), info.error) == (
        "application/pdf",
        3,
        "",
        None,
    )


def test_pdf_text_is_escaped_correctly():
    info = describe("x.pdf", text_pdf(["a (b) c \\ d"]))
    assert info.text == "a (b) c \\ d"


def test_text_file_is_decoded():
    content = "Ticket: 10001\nOrder: O20260101-00001\nCafé crème\n".encode()
    info = describe("ticket_10001.txt", content)
    assert (info.mime_type, info.text, info.error) == ("text/plain", content.decode(), None)


def test_text_with_invalid_utf8_is_replaced_not_rejected():
    info = describe("notes.txt", b"price \xff 12")
    assert info.text == "price \ufffd 12"
    assert info.error is None


def test_text_is_capped():
    info = describe("big.log", b"x" * (MAX_TEXT_CHARS + 10))
    assert info.mime_type == "text/plain"
    assert len(info.text) == MAX_TEXT_CHARS
    assert info.size_bytes == MAX_TEXT_CHARS + 10


def test_file_name_is_the_fallback_for_unknown_content():
    assert describe("orders.csv", b"a,b\n1,2\n").mime_type == "text/csv"
    assert describe("orders.csv", b"a,b\n1,2\n").text == "a,b\n1,2\n"


def test_undecodable_binary_without_known_name():
    info = describe("blob", bytes(range(256)))
    assert (info.mime_type, info.text, info.width, info.page_count, info.error) == (
        "application/octet-stream",
        None,
        None,
        None,
        None,
    )


def test_truncated_png_reports_an_error_and_keeps_what_it_knows():
    content = product_image("P001", 300, 200)[:-200]
    info = describe("product_P001.png", content)
    assert info.error == "image could not be decoded: OSError: image file is truncated"
    assert (info.mime_type, info.width, info.height) == ("image/png", 300, 200)
    assert info.size_bytes == len(content)
    assert info.sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(
    ("keep", "error"),
    [
        (8, "image could not be opened: no image format recognises its header"),
        (20, "image could not be opened: OSError: Truncated File Read"),
    ],
)
def test_png_with_damaged_header_reports_an_error(keep, error):
    info = describe("x.png", product_image("P001", 30, 20)[:keep])
    assert info.error == error
    assert (info.mime_type, info.width, info.height) == ("image/png", None, None)


def test_empty_file_named_like_an_image():
    info = describe("empty.png", b"")
    assert info.mime_type == "image/png"
    assert info.size_bytes == 0
    assert info.error.startswith("image could not be opened")


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_pdf_reports_an_error(keep):
    full = text_pdf(["Order: O20260101-00001"])
    content = full[: int(len(full) * keep)]
    info = describe("invoice.pdf", content)
    assert info.error.startswith("PDF could not be parsed: ")
    assert (info.mime_type, info.page_count, info.text) == ("application/pdf", None, None)
    assert info.sha256 == hashlib.sha256(content).hexdigest()


def test_ddl_matches_the_dataclass_fields():
    columns = [part.split()[0] for part in DOCUMENT_INFO_DDL.split(", ")]
    assert columns == [field.name for field in dataclasses.fields(DocumentInfo)]
