"""The landing zone and its ledger: every file received, exactly as received, once.

Layout (under ``LAKEHOUSE_LANDING_ROOT``)::

    <source>/<dataset>/ds=<logical date>/batch=<batch id>/<file>   the files of one batch
    <source>/_batches/<batch id>.json                             the batch's manifest

A **batch** is one delivery of a source: every new file (or database extract) that arrived for a
logical date in one landing run. Its id is ``<yyyymmdd>-<nnn>``: the logical date and the
delivery's number for that date, so a corrected or late file for a past date lands as a new batch
of that date and never overwrites an earlier one. Ids sort in (date, delivery) order.

The **manifest** lists each file of the batch (dataset, where it came from, where it landed, size,
SHA-256) and each extract (rows, watermark range). It is written last, atomically: a batch exists
once its manifest does, so a landing run that dies half-way left no batch and the next run lands
the same files again. The manifests are the ledger: a delivered file whose bytes were already
landed from the same place is a re-delivery and is not landed again (a corrected file, new bytes
at the same place, lands as a new batch; the same bytes in another day's delivery are that day's
data and land), and a database extract continues from the highest watermark a committed batch
recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from lake.errors import IngestError
from lake.ingest import storage
from lake.platform.batch_ids import batch_id_for, check_batch_id, delivery_number

BATCHES_DIR = "_batches"


@dataclass(frozen=True)
class LandedFile:
    dataset: str
    path: str  # where it landed
    source_path: str  # where it was delivered
    size: int
    sha256: str
    modified_at: str | None = None


@dataclass(frozen=True)
class Extract:
    """One dataset's database extract in a batch.

    ``low`` and ``high`` are the watermark range it read (``low`` < column <= ``high``) as the
    connector wrote them (for JDBC ``<kind>:<the database's own text of the value>``, so no
    precision or time zone is lost); ``fingerprint`` identifies a full extract's content, so an
    unchanged table is not landed again."""

    dataset: str
    rows: int
    mode: str  # "full" or "incremental"
    column: str | None = None
    low: Any = None  # exclusive lower bound (None: from the start)
    high: Any = None  # inclusive upper bound: the next extract starts after it
    fingerprint: str | None = None


@dataclass(frozen=True)
class Batch:
    source: str
    batch_id: str
    logical_date: date
    landed_at: datetime
    delivery: str
    files: tuple[LandedFile, ...] = ()
    extracts: tuple[Extract, ...] = ()
    unmatched: tuple[str, ...] = field(default_factory=tuple)

    @property
    def datasets(self) -> tuple[str, ...]:
        """Datasets with data in this batch, in first-seen order."""
        seen = [f.dataset for f in self.files] + [e.dataset for e in self.extracts]
        return tuple(dict.fromkeys(seen))

    def files_of(self, dataset: str) -> list[str]:
        return [f.path for f in self.files if f.dataset == dataset]

    def to_json(self) -> str:
        data = asdict(self)
        data["logical_date"] = self.logical_date.isoformat()
        data["landed_at"] = self.landed_at.isoformat()
        return json.dumps(data, indent=1, default=str)

    @classmethod
    def from_json(cls, text: str) -> Batch:
        data = json.loads(text)
        return cls(
            source=data["source"], batch_id=data["batch_id"],
            logical_date=date.fromisoformat(data["logical_date"]),
            landed_at=datetime.fromisoformat(data["landed_at"]), delivery=data["delivery"],
            files=tuple(LandedFile(**f) for f in data.get("files", ())),
            extracts=tuple(Extract(**e) for e in data.get("extracts", ())),
            unmatched=tuple(data.get("unmatched", ())))


def safe_name(name: str) -> str:
    """One path component, safe to store: percent-encodes anything outside ``[A-Za-z0-9._-]``
    (reversible); a leading dot is encoded too, so no landed file is hidden or names a parent."""
    encoded = quote(name, safe="._-")
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    return encoded


def safe_relative(path: str) -> str:
    """A delivered file's relative path with every component made safe."""
    return "/".join(safe_name(part) for part in path.split("/") if part)


def batch_dir(landing_root: str, source: str, dataset: str, logical_date: date,
              batch_id: str) -> str:
    return storage.join(landing_root, source, dataset, f"ds={logical_date.isoformat()}",
                        f"batch={batch_id}")


class Ledger:
    """The committed batches of one source (read once from their manifests)."""

    def __init__(self, landing_root: str, source: str) -> None:
        self.landing_root = landing_root
        self.source = source
        self.folder = storage.join(landing_root, source, BATCHES_DIR)
        self._batches: dict[str, Batch] | None = None

    def batches(self) -> list[Batch]:
        """Every committed batch, in id order."""
        if self._batches is None:
            found = {}
            for f in storage.list_files(self.folder):
                if f.relative.endswith(".json") and "/" not in f.relative:
                    batch = Batch.from_json(storage.read_text(storage.join(self.folder,
                                                                           f.relative)))
                    found[batch.batch_id] = batch
            self._batches = dict(sorted(found.items()))
        return list(self._batches.values())

    def get(self, batch_id: str) -> Batch:
        check_batch_id(batch_id)
        for batch in self.batches():
            if batch.batch_id == batch_id:
                return batch
        raise IngestError(f"source {self.source} has no landed batch {batch_id}; landed batches: "
                          + (", ".join(b.batch_id for b in self.batches()[-10:]) or "none"))

    def of_date(self, logical_date: date) -> list[Batch]:
        return [b for b in self.batches() if b.logical_date == logical_date]

    def landed(self, source_path: str, sha256: str) -> Batch | None:
        """The batch that already landed these bytes from this delivered path, if any."""
        for batch in self.batches():
            if any(f.source_path == source_path and f.sha256 == sha256 for f in batch.files):
                return batch
        return None

    def landed_size(self, source_path: str, size: int) -> bool:
        """Whether a file landed from ``source_path`` had ``size`` bytes (else: new bytes for
        sure, no need to hash them twice)."""
        return any(f.source_path == source_path and f.size == size
                   for b in self.batches() for f in b.files)

    def extracts(self, dataset: str) -> list[tuple[Batch, Extract]]:
        """Every committed extract of ``dataset`` with its batch, in the order they landed."""
        found = [(b, e) for b in self.batches() for e in b.extracts if e.dataset == dataset]
        return sorted(found, key=lambda be: (be[0].landed_at, be[0].batch_id))

    def watermark(self, dataset: str, column: str | None = None,
                  order: Callable[[Any], Any] | None = None) -> Any:
        """Where the next incremental extract of ``dataset`` (by ``column``, when given)
        starts: the highest ``high`` of its committed extracts, compared with ``order`` (default:
        the newest extract's). None when no extract committed one: read from the start.

        Only committed manifests count, so an extract whose run died before its manifest is read
        again by the next run: a crash re-reads, it never skips."""
        highs = [e.high for _, e in self.extracts(dataset)
                 if e.high is not None and (column is None or e.column == column)]
        if not highs:
            return None
        return max(highs, key=order) if order is not None else highs[-1]

    def next_batch_id(self, logical_date: date) -> str:
        taken = [delivery_number(b.batch_id) for b in self.of_date(logical_date)]
        return batch_id_for(logical_date, max(taken, default=0) + 1)

    def commit(self, batch: Batch) -> None:
        """Write ``batch``'s manifest: from now on the batch exists."""
        path = storage.join(self.folder, f"{batch.batch_id}.json")
        if storage.exists(path):
            raise IngestError(f"batch {batch.batch_id} of {self.source} is already committed; "
                              "two landing runs of one source must not overlap")
        storage.write_text_atomic(path, batch.to_json())
        if self._batches is not None:
            self._batches[batch.batch_id] = batch
