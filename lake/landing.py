"""The landing zone: raw files exactly as received, one immutable folder per batch.

Layout: ``<landing_root>/<source>/<dataset>/ds=<logical date>/batch=<batch id>/<file>``.
Landing a file twice with the same bytes is a no-op; landing different bytes over an existing file
is refused, because the landing zone is never rewritten by the pipeline.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import quote

from lake.errors import IngestError
from lake.settings import Settings

log = logging.getLogger(__name__)
DOCUMENTS = "documents"


@dataclass(frozen=True)
class LandedFile:
    dataset: str
    path: Path
    sha256: str
    size_bytes: int
    already_landed: bool


def batch_id_for(logical_date: date) -> str:
    """The batch id of a daily drop: its logical date without dashes (``20260103``)."""
    return logical_date.strftime("%Y%m%d")


def batch_dir(landing_root: str | Path, source: str, dataset: str, logical_date: date,
              batch_id: str) -> Path:
    return Path(landing_root) / source / dataset / f"ds={logical_date.isoformat()}" / f"batch={batch_id}"


def safe_name(name: str) -> str:
    """A file name safe to store: percent-encodes anything outside ``[A-Za-z0-9._-]`` (reversible).

    A leading dot is encoded too, so no landed file is hidden or names a parent folder.
    """
    encoded = quote(name, safe="._-")
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    return encoded


def land_file(src: Path, dest_dir: Path, dataset: str) -> LandedFile:
    """Copy ``src`` into ``dest_dir`` atomically; refuse to change an already landed file."""
    digest = _sha256(src)
    dest = dest_dir / safe_name(src.name)
    if dest.exists():
        if _sha256(dest) != digest:
            raise IngestError(
                f"{dest} is already landed with different content than {src}; the landing zone is "
                "immutable: deliver the corrected file as a new batch"
            )
        return LandedFile(dataset, dest, digest, dest.stat().st_size, already_landed=True)
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".landing-", dir=dest_dir)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o444)
        os.replace(tmp, dest)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise IngestError(f"cannot land {src} into {dest_dir}: {err}") from err
    log.info("landed %s -> %s", src, dest)
    return LandedFile(dataset, dest, digest, dest.stat().st_size, already_landed=False)


def land_drop(drop_dir: Path, landing_root: str | Path, source: str, files: dict[str, str],
              logical_date: date, batch_id: str) -> list[LandedFile]:
    """Land one day's drop: ``files`` maps dataset -> file name; ``documents/`` is landed whole.

    A missing structured file is an error naming the file and the drop folder.
    """
    landed: list[LandedFile] = []
    for dataset, file_name in files.items():
        src = drop_dir / file_name
        if not src.is_file():
            raise IngestError(
                f"{src} is missing from the {source} drop for {logical_date}; "
                f"expected files: {sorted(files.values())}"
            )
        dest = batch_dir(landing_root, source, dataset, logical_date, batch_id)
        landed.append(land_file(src, dest, dataset))
    docs = drop_dir / DOCUMENTS
    if docs.is_dir():
        dest = batch_dir(landing_root, source, DOCUMENTS, logical_date, batch_id)
        for src in sorted(p for p in docs.iterdir() if p.is_file()):
            landed.append(land_file(src, dest, DOCUMENTS))
    return landed


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def land_source(settings: Settings, source: str, logical_date: date) -> list[LandedFile]:
    """Land ``source``'s drop for ``logical_date`` (its contracts name the expected files)."""
    from lake.contract import source_contracts

    files = {name: c.file for name, c in source_contracts(source).items()}
    return land_drop(settings.source_drop(source, logical_date), settings.landing_root, source,
                     files, logical_date, batch_id_for(logical_date))
