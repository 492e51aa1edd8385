"""Metadata of unstructured files (images, PDFs, text) for the bronze layer.

:func:`describe` is pure: bytes in, :class:`DocumentInfo` out. A file that cannot be decoded does
not raise; its ``error`` says what failed and the fields that could be computed (size, hash, MIME
type, image dimensions from the header) are still filled, so the bronze row keeps the file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import mimetypes
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 100_000
OCTET_STREAM = "application/octet-stream"

# Spark schema of DocumentInfo, field for field (a DDL string, so this module needs no pyspark).
DOCUMENT_INFO_DDL = (
    "mime_type STRING, size_bytes BIGINT, sha256 STRING, width INT, height INT, "
    "page_count INT, text STRING, error STRING"
)

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
_TEXT_TYPES = ("application/json", "application/xml", "application/x-ndjson", "image/svg+xml")


@dataclass(frozen=True)
class DocumentInfo:
    """What the bronze layer records about one unstructured file."""

    mime_type: str
    size_bytes: int
    sha256: str
    width: int | None = None
    height: int | None = None
    page_count: int | None = None
    text: str | None = None
    error: str | None = None


def sniff_mime_type(name: str, content: bytes) -> str:
    """The MIME type: magic bytes first, then the file name, then ``text/plain`` if it decodes."""
    for magic, mime_type in _MAGIC:
        if content.startswith(magic):
            return mime_type
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    if guessed:
        return guessed
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return OCTET_STREAM
    return "text/plain" if b"\x00" not in content else OCTET_STREAM


def _failure(what: str, err: Exception) -> str:
    detail = str(err) or "no detail"
    return f"{what}: {type(err).__name__}: {detail}"


def _describe_image(content: bytes) -> dict[str, object]:
    from PIL import Image, UnidentifiedImageError  # heavy import, only for images

    try:
        image = Image.open(io.BytesIO(content))
    except UnidentifiedImageError:
        # Pillow's message names the in-memory buffer; say what it means instead.
        return {"error": "image could not be opened: no image format recognises its header"}
    except Exception as err:  # Pillow raises several types on unreadable input
        return {"error": _failure("image could not be opened", err)}
    with image:
        width, height = image.size
        try:
            image.load()  # decode every pixel: a truncated file fails here, not at open
        except Exception as err:  # any decoder failure is a property of the file
            error = _failure("image could not be decoded", err)
            return {"width": width, "height": height, "error": error}
    return {"width": width, "height": height}


def _describe_pdf(content: bytes) -> dict[str, object]:
    from pypdf import PdfReader  # heavy import, only for PDFs

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            return {"error": "PDF is encrypted with a password; pages and text are unreadable"}
        page_count = len(reader.pages)
    except Exception as err:  # pypdf raises many types on malformed input
        return {"error": _failure("PDF could not be parsed", err)}
    try:
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as err:  # a damaged content stream fails only here
        return {"page_count": page_count, "error": _failure("PDF text could not be extracted", err)}
    return {"page_count": page_count, "text": text[:MAX_TEXT_CHARS]}


def _is_text(mime_type: str) -> bool:
    return mime_type.startswith("text/") or mime_type in _TEXT_TYPES


def describe(name: str, content: bytes) -> DocumentInfo:
    """Describe the file ``name`` from its ``content``; never raises on a malformed file."""
    mime_type = sniff_mime_type(name, content)
    fields: dict[str, object] = {}
    if _is_text(mime_type):
        fields = {"text": content.decode("utf-8", errors="replace")[:MAX_TEXT_CHARS]}
    elif mime_type.startswith("image/"):
        fields = _describe_image(content)
    elif mime_type == "application/pdf":
        fields = _describe_pdf(content)
    if fields.get("error"):
        log.warning("document %s (%s): %s", name, mime_type, fields["error"])
    return DocumentInfo(
        mime_type=mime_type,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        **fields,
    )


DOCUMENTS_DDL = (
    "path STRING NOT NULL, file_name STRING NOT NULL, size_bytes BIGINT NOT NULL, "
    "modified_at TIMESTAMP, sha256 STRING NOT NULL, mime_type STRING, width INT, height INT, "
    "page_count INT, text STRING, extraction_error STRING, "
    "_source_file STRING NOT NULL, _ingested_at TIMESTAMP NOT NULL, _batch_id STRING NOT NULL"
)


def read_documents(spark, paths: list[str], batch_id: str, ingested_at):
    """Landed unstructured files with their metadata and extracted text (one row per file).

    Extraction needs Python libraries (Pillow, pypdf), so it runs in ``mapInPandas`` batches.
    """
    from pyspark.sql import functions as F

    files = spark.read.format("binaryFile").load(paths)
    info_schema = f"path STRING, modified_at TIMESTAMP, {DOCUMENT_INFO_DDL}"
    columns = ["path", "modified_at", *DocumentInfo.__dataclass_fields__]

    def extract(batches):
        import pandas as pd

        for pdf in batches:
            rows = [
                {"path": path, "modified_at": modified,
                 **describe(path.rsplit("/", 1)[-1], bytes(content)).__dict__}
                for path, modified, content in zip(
                    pdf["path"], pdf["modificationTime"], pdf["content"], strict=True)
            ]
            yield pd.DataFrame(rows, columns=columns)

    described = files.select("path", "modificationTime", "content").mapInPandas(extract, info_schema)
    return described.select(
        F.col("path"),
        F.element_at(F.split("path", "/"), -1).alias("file_name"),
        F.col("size_bytes").cast("bigint"),
        "modified_at", "sha256", "mime_type",
        F.col("width").cast("int"), F.col("height").cast("int"),
        F.col("page_count").cast("int"), "text",
        F.col("error").alias("extraction_error"),
        F.col("path").alias("_source_file"),
        F.lit(ingested_at).cast("timestamp").alias("_ingested_at"),
        F.lit(batch_id).alias("_batch_id"),
    )
