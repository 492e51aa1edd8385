"""Files on a folder or an object store through one code path: pyarrow's file systems.

A location is a local path, ``file://…``, ``s3://bucket/prefix`` (``s3a://`` as Spark writes it
is the same bucket), ``gs://…`` or ``hdfs://…``. Landing runs in the Airflow worker without a JVM,
so it uses pyarrow's file systems (local, S3, GCS, HDFS) rather than Hadoop's; Spark reads the
same locations through Hadoop. S3 credentials and endpoint come from the usual ``AWS_*``
environment variables (``AWS_ENDPOINT_URL`` for an S3-compatible store).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lake.errors import IngestError

if TYPE_CHECKING:
    from pyarrow.fs import FileSystem

CHUNK = 1 << 20


@dataclass(frozen=True)
class Listed:
    """A file found under a folder: its path relative to the folder, size and modification time,
    and whether a part of its path starts with ``.`` or ``_`` (work in progress, a marker)."""

    relative: str
    size: int
    modified_at: datetime | None
    hidden: bool = False


def filesystem(location: str) -> tuple[FileSystem, str]:
    """The file system of ``location`` and the path inside it."""
    from pyarrow import fs

    if "://" not in location:
        return fs.LocalFileSystem(), os.path.abspath(location)
    scheme, rest = location.split("://", 1)
    if scheme in ("s3a", "s3n", "s3"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        filesystem_ = fs.S3FileSystem(endpoint_override=endpoint) if endpoint else fs.S3FileSystem()
        return filesystem_, rest
    try:
        return fs.FileSystem.from_uri(location)
    except (ValueError, OSError) as err:
        raise IngestError(f"cannot open {location}: {err}; use a local path, file://, s3://, "
                          "gs:// or hdfs://") from err


def join(location: str, *parts: str) -> str:
    """``location`` with ``parts`` appended (keeps a ``scheme://`` prefix)."""
    if "://" in location:
        scheme, rest = location.split("://", 1)
        return f"{scheme}://{posixpath.join(rest, *parts)}"
    return os.path.join(location, *parts)


def is_dir(location: str) -> bool:
    from pyarrow.fs import FileType

    fs_, path = filesystem(location)
    return fs_.get_file_info(path).type == FileType.Directory


def exists(location: str) -> bool:
    from pyarrow.fs import FileType

    fs_, path = filesystem(location)
    return fs_.get_file_info(path).type != FileType.NotFound


def list_files(location: str, hidden: bool = False) -> list[Listed]:
    """Every file under folder ``location``, recursively, sorted by relative path. Files and
    folders whose name starts with ``.`` or ``_`` are left out, as Spark and Hadoop do (work in
    progress, markers such as ``_SUCCESS``), unless ``hidden``."""
    from pyarrow.fs import FileSelector, FileType

    fs_, root = filesystem(location)
    if fs_.get_file_info(root).type != FileType.Directory:
        return []
    out = []
    for info in fs_.get_file_info(FileSelector(root, recursive=True)):
        if info.type != FileType.File:
            continue
        relative = posixpath.relpath(info.path, root) if "://" in location or os.sep == "/" \
            else os.path.relpath(info.path, root).replace(os.sep, "/")
        is_hidden = any(part.startswith((".", "_")) for part in relative.split("/"))
        if is_hidden and not hidden:
            continue
        modified = info.mtime.astimezone(UTC) if info.mtime is not None else None
        out.append(Listed(relative, info.size or 0, modified, is_hidden))
    return sorted(out, key=lambda f: f.relative)


def sizes(location: str) -> dict[str, int]:
    """Relative path -> size of every file under ``location`` (for stable-size checks)."""
    return {f.relative: f.size for f in list_files(location)}


def copy_hashing(source: str, destination: str) -> tuple[str, int]:
    """Copy ``source`` to ``destination`` in one pass, returning (SHA-256, size).

    The copy is written under a temporary name beside ``destination`` and then renamed, so a
    reader never sees half a file; an existing ``destination`` is replaced.
    """
    src_fs, src = filesystem(source)
    dst_fs, dst = filesystem(destination)
    tmp = posixpath.join(posixpath.dirname(dst), f".landing-{uuid.uuid4().hex}")
    digest = hashlib.sha256()
    size = 0
    try:
        dst_fs.create_dir(posixpath.dirname(dst), recursive=True)
        with src_fs.open_input_stream(src) as reader, dst_fs.open_output_stream(tmp) as writer:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                writer.write(chunk)
                size += len(chunk)
        dst_fs.move(tmp, dst)
    except OSError as err:
        _remove_quietly(dst_fs, tmp)
        raise IngestError(f"cannot copy {source} to {destination}: {err}") from err
    if "://" not in destination:
        os.chmod(dst, 0o444)  # landed files are read-only
    return digest.hexdigest(), size


def sha256(location: str) -> tuple[str, int]:
    """SHA-256 and size of the file at ``location`` (streamed)."""
    fs_, path = filesystem(location)
    digest = hashlib.sha256()
    size = 0
    with fs_.open_input_stream(path) as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def read_text(location: str) -> str:
    fs_, path = filesystem(location)
    with fs_.open_input_stream(path) as reader:
        return reader.read().decode("utf-8")


def write_text_atomic(location: str, text: str) -> None:
    """Write ``text`` to ``location`` under a temporary name, then rename it into place."""
    fs_, path = filesystem(location)
    fs_.create_dir(posixpath.dirname(path), recursive=True)
    tmp = posixpath.join(posixpath.dirname(path), f".tmp-{uuid.uuid4().hex}")
    with fs_.open_output_stream(tmp) as writer:
        writer.write(text.encode("utf-8"))
    fs_.move(tmp, path)


def remove(location: str) -> None:
    """Delete the file or folder at ``location`` if it exists."""
    from pyarrow.fs import FileType

    fs_, path = filesystem(location)
    kind = fs_.get_file_info(path).type
    if kind == FileType.Directory:
        fs_.delete_dir(path)
    elif kind == FileType.File:
        fs_.delete_file(path)


def _remove_quietly(fs_: FileSystem, path: str) -> None:
    try:
        fs_.delete_file(path)
    except OSError:
        pass
