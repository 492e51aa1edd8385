"""Files from a folder or an object-store prefix.

``source.yaml``::

    deliveries:
      connector: files
      root: "{source_root}/retail"     # or s3://bucket/prefix; {source_root}, {project}, {home}
      layout: "ds={ds}/"               # one delivery's folder: {ds} {ds_nodash} {yyyy} {mm} {dd};
                                       # "" (the default): every new file under root
      complete_when: {marker: _SUCCESS}   # or {stable_seconds: 30}; default: present = complete
      wait: {timeout_minutes: 360, poke_seconds: 60}
    datasets:
      orders: {files: "orders*.ndjson"}            # a glob relative to the delivery folder
      customers: {files: "crm/customers_*.csv", csv: {delimiter: ";"}}
      documents: {files: "documents/**", unstructured: true}

A dataset takes every file of the delivery that its glob matches (``*`` within a folder, ``**``
across folders, ``?``, ``[abc]``); several files per dataset, any names. Files whose name starts
with ``.`` or ``_`` are in progress or markers and are never landed. A file matching no dataset,
and a hidden one, is reported in the batch (``unmatched``) and in the logs; a delivery whose files
match nothing is an error. Landing copies each new file once (see :mod:`lake.ingest.landing`):
bytes already landed from the same delivered path are a re-delivery and are skipped; new bytes at
a path already seen (a corrected file) land as a new batch.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from lake.errors import IngestError
from lake.ingest import storage
from lake.ingest.landing import Batch, LandedFile, Ledger, batch_dir, safe_relative

log = logging.getLogger(__name__)
NEEDS_SPARK = False
_LAYOUT_FIELDS = ("ds", "ds_nodash", "yyyy", "mm", "dd")


class Completion(BaseModel):
    """When a delivery is complete: a marker file is there, or sizes stopped changing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    marker: str | None = None
    stable_seconds: int | None = Field(default=None, ge=1, le=3600)

    @model_validator(mode="after")
    def _one(self) -> Completion:
        if (self.marker is None) == (self.stable_seconds is None):
            raise ValueError("give exactly one of marker (e.g. _SUCCESS) or stable_seconds")
        if self.marker is not None and ("/" in self.marker or self.marker in (".", "..")):
            raise ValueError(f"marker {self.marker!r} must be a file name in the delivery folder")
        return self


class Wait(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_minutes: int = Field(default=360, ge=1, le=7 * 24 * 60)
    poke_seconds: int = Field(default=60, ge=1, le=3600)


class Delivery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    connector: Literal["files"] = "files"
    root: str
    layout: str = ""
    complete_when: Completion | None = None
    wait: Wait = Wait()

    @field_validator("layout")
    @classmethod
    def _layout(cls, value: str) -> str:
        fields = set(re.findall(r"{(\w*)}", value))
        unknown = sorted(fields - set(_LAYOUT_FIELDS))
        if unknown:
            raise ValueError(f"layout names {unknown}; it may use {{{'}, {'.join(_LAYOUT_FIELDS)}}}")
        if value.startswith("/") or ".." in value.split("/"):
            raise ValueError("layout is a folder relative to root, without '..'")
        return value

    @field_validator("root")
    @classmethod
    def _root(cls, value: str) -> str:
        unknown = sorted(set(re.findall(r"{(\w*)}", value)) - {"source_root", "project", "home"})
        if unknown:
            raise ValueError(f"root names {unknown}; it may use {{source_root}}, {{project}}, "
                             "{home}")
        return value

    def folder(self, settings: Any, project_root: str, logical_date: date) -> str:
        """The delivery folder of ``logical_date``."""
        root = self.root.format(source_root=settings.source_root, project=project_root,
                                home=settings.home)
        layout = self.layout.format(ds=logical_date.isoformat(),
                                    ds_nodash=f"{logical_date:%Y%m%d}", yyyy=f"{logical_date:%Y}",
                                    mm=f"{logical_date:%m}", dd=f"{logical_date:%d}")
        return (storage.join(root, layout) if layout else root).rstrip("/")


class DatasetBase(BaseModel):
    """A dataset of a files source: the files it takes from each delivery and how to read them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    files: str
    format: str | None = None
    unstructured: bool = False
    optional: bool = False

    @field_validator("files")
    @classmethod
    def _relative(cls, value: str) -> str:
        if not value or value.startswith("/") or "\\" in value or ".." in value.split("/"):
            raise ValueError(f"files {value!r} must be a glob relative to the delivery folder, "
                             "without '..' or '\\', e.g. 'orders*.csv' or 'docs/**'")
        glob_regex(value)
        return value

    @model_validator(mode="after")
    def _format(self) -> DatasetBase:
        from lake.ingest.formats.registry import FORMATS, format_for

        given = [name for name in FORMATS if getattr(self, option_field(name), None) is not None]
        if self.unstructured:
            if self.format or given:
                raise ValueError("an unstructured dataset keeps whole files: it takes no format "
                                 "or format options")
            return self
        fmt = self.format or format_for(self.files)
        if fmt is None:
            raise ValueError(f"cannot tell the format of {self.files!r} from its extension; add "
                             f"format: one of {', '.join(FORMATS)}")
        if fmt not in FORMATS:
            raise ValueError(f"format {fmt!r} is unknown; use one of {', '.join(FORMATS)}")
        for other in given:
            if other != fmt:
                raise ValueError(f"{other} options are given but the format is {fmt}")
        object.__setattr__(self, "format", fmt)
        return self

    @property
    def options(self) -> BaseModel:
        """This dataset's options of its format (defaults where none are given)."""
        from lake.ingest.formats.registry import format_module

        given = getattr(self, option_field(self.format), None)
        return given if given is not None else format_module(self.format).Options()

    def matches(self, relative: str) -> bool:
        return glob_regex(self.files).match(relative) is not None


def option_field(format_name: str) -> str:
    """The field holding a format's options (``json`` is a pydantic method name: ``json_``)."""
    return f"{format_name}_" if hasattr(BaseModel, format_name) else format_name


@functools.cache
def dataset_model() -> type[DatasetBase]:
    """The dataset model, with one options key per registered format (``csv:``, ``json:``...)."""
    from lake.ingest.formats.registry import FORMATS, format_module

    options = {option_field(name): (format_module(name).Options | None, Field(None, alias=name))
               for name in FORMATS}
    return create_model("FilesDataset", __base__=DatasetBase, **options)


@functools.cache
def glob_regex(pattern: str) -> re.Pattern:
    """A compiled regex for a file glob: ``**`` any folders, ``*`` and ``?`` within one name."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                raise ValueError(f"files {pattern!r}: '[' without a closing ']'")
            body = pattern[i + 1:end].replace("\\", "\\\\")
            out.append(f"[^{body[1:]}]" if body.startswith("!") else f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True)
class DeliveryFiles:
    """What a delivery folder holds: the files each dataset takes, and the rest."""

    folder: str
    by_dataset: dict[str, list[storage.Listed]]
    unmatched: list[str]


def scan(source: Any, folder: str) -> DeliveryFiles:
    """Match every file of the delivery ``folder`` to the source's datasets.

    IngestError when a file matches two datasets, when files are there but none matches, or when
    a dataset that is not ``optional`` has no file.
    """
    marker = source.deliveries.complete_when.marker if source.deliveries.complete_when else None
    everything = [f for f in storage.list_files(folder, hidden=True) if f.relative != marker]
    listed = [f for f in everything if not f.hidden]
    by_dataset: dict[str, list[storage.Listed]] = {name: [] for name in source.datasets}
    unmatched = [f.relative for f in everything if f.hidden]
    for name in unmatched:
        log.warning("%s: %s is hidden (a name starting with . or _: work in progress or a "
                    "marker) and is not landed", folder, name)
    for f in listed:
        hits = [name for name, d in source.datasets.items() if d.matches(f.relative)]
        if len(hits) > 1:
            raise IngestError(f"{storage.join(folder, f.relative)} matches the files of several "
                              f"datasets ({', '.join(hits)}); make their patterns disjoint in "
                              f"{source.project.relative(source.file)}")
        if hits:
            by_dataset[hits[0]].append(f)
        else:
            unmatched.append(f.relative)
    if listed and not any(by_dataset.values()):
        patterns = ", ".join(f"{n}: {d.files}" for n, d in source.datasets.items())
        raise IngestError(f"the delivery {folder} holds {len(listed)} file(s) "
                          f"({', '.join(f.relative for f in listed[:5])}) but none matches a "
                          f"dataset of {source.name} ({patterns}); fix the patterns in "
                          f"{source.project.relative(source.file)} or the delivery")
    missing = [n for n, files in by_dataset.items() if not files and not source.datasets[n].optional]
    if missing:
        raise IngestError(
            f"the delivery {folder} has no file for dataset(s) "
            + ", ".join(f"{n} ({source.datasets[n].files})" for n in missing)
            + (f"; it holds: {', '.join(f.relative for f in listed[:10])}" if listed else
               "; it is empty or missing")
            + "; deliver the files, or mark a dataset optional: true if deliveries may lack it")
    for name in unmatched:
        if not name.startswith((".", "_")) and "/." not in name and "/_" not in name:
            log.warning("%s: %s matches no dataset of %s; it is not landed", folder, name,
                        source.name)
    return DeliveryFiles(folder, by_dataset, sorted(unmatched))


def is_complete(source: Any, folder: str, *, sleep=time.sleep) -> tuple[bool, str]:
    """Whether the delivery ``folder`` is complete by the source's ``complete_when``, and why not."""
    rule = source.deliveries.complete_when
    if not storage.is_dir(folder):
        return False, f"{folder} does not exist yet"
    if rule is None:
        return True, ""
    if rule.marker is not None:
        marker = storage.join(folder, rule.marker)
        return (True, "") if storage.exists(marker) else (False, f"no {rule.marker} in {folder}")
    before = storage.sizes(folder)
    sleep(rule.stable_seconds)
    after = storage.sizes(folder)
    if before != after or not after:
        return False, f"files in {folder} still changing (or none yet)"
    return True, ""


def land(settings: Any, source: Any, logical_date: date, *, landed_at: datetime | None = None
         ) -> list[Batch]:
    """Land the new files of ``logical_date``'s delivery as one new batch; every batch of that
    date (the new one last), or ``[]`` when nothing was ever delivered for it."""
    folder = source.deliveries.folder(settings, str(source.project.root), logical_date)
    if not storage.is_dir(folder):
        raise IngestError(f"no {source.name} delivery for {logical_date}: {folder} does not "
                          "exist; deliver the files there, or run a date that has a delivery")
    complete, why = is_complete(source, folder, sleep=lambda _s: None)
    if not complete and (source.deliveries.complete_when is None or
                         source.deliveries.complete_when.marker is not None):
        raise IngestError(f"the {source.name} delivery for {logical_date} is not complete: {why}")
    found = scan(source, folder)
    ledger = Ledger(settings.landing_root, source.name)
    batch_id = ledger.next_batch_id(logical_date)
    files: list[LandedFile] = []
    for dataset, listed in found.by_dataset.items():
        for f in listed:
            delivered = storage.join(folder, f.relative)
            target = storage.join(batch_dir(settings.landing_root, source.name, dataset,
                                            logical_date, batch_id), safe_relative(f.relative))
            earlier = None
            if ledger.landed_size(delivered, f.size):  # maybe the same bytes: hash, do not copy
                earlier = ledger.landed(delivered, storage.sha256(delivered)[0])
            if earlier is not None:
                log.info("%s: already landed in batch %s, skipped", delivered, earlier.batch_id)
                continue
            digest, size = storage.copy_hashing(delivered, target)
            files.append(LandedFile(dataset, target, delivered, size, digest,
                                    f.modified_at.isoformat() if f.modified_at else None))
    if files:
        batch = Batch(source.name, batch_id, logical_date, landed_at or datetime.now(UTC),
                      folder, tuple(files), (), tuple(found.unmatched))
        ledger.commit(batch)
        log.info("landed batch %s of %s: %s file(s) of %s", batch_id, source.name, len(files),
                 ", ".join(batch.datasets))
    else:
        _drop_empty(settings.landing_root, source, logical_date, batch_id)
        log.info("no new files in %s: nothing to land", folder)
    return ledger.of_date(logical_date)


def _drop_empty(landing_root: str, source: Any, logical_date: date, batch_id: str) -> None:
    """Remove the folders a landing run made for a batch that got no new file."""
    for dataset in source.datasets:
        folder = batch_dir(landing_root, source.name, dataset, logical_date, batch_id)
        if storage.is_dir(folder) and not storage.list_files(folder):
            storage.remove(folder)


def dataset_root(landing_root: str, source: str, dataset: str) -> str:
    """Where every batch of ``dataset`` lands (the lineage dataset of landing)."""
    return storage.join(landing_root, source, dataset)
