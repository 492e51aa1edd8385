"""How a warehouse table is laid out for analytical queries, declared with its model::

    layout:
      cluster_by: [order_date, customer_sk]   # Delta liquid clustering: files grouped by these
      target_file_size: 128mb                 # the size OPTIMIZE compacts files to

or, for a table partitioned by a low-cardinality column::

    layout:
      partition_by: [order_date]
      zorder_by: [customer_sk]                # OPTIMIZE … ZORDER BY inside each partition

Clustering and partitioning exclude each other (Delta refuses both on one table). The layout is
applied when the table is created; the maintenance DAG (:mod:`lake.platform.maintenance`)
compacts and clusters the files daily appends leave.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

_SIZE = re.compile(r"^(\d{1,6})\s*(kb|mb|gb)$", re.I)
_UNITS = {"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30}
MAX_CLUSTER_COLUMNS = 4  # Delta's limit for liquid clustering


class Layout(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cluster_by: tuple[str, ...] = ()
    partition_by: tuple[str, ...] = ()
    zorder_by: tuple[str, ...] = ()
    target_file_size: str | None = None

    @field_validator("cluster_by", "partition_by", "zorder_by", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("target_file_size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is None:
            return None
        m = _SIZE.match(value.strip())
        if not m or not 1 << 20 <= int(m[1]) * _UNITS[m[2].lower()] <= 4 << 30:
            raise ValueError(f"target_file_size {value!r} must be a size between 1mb and 4gb, "
                             "e.g. 128mb")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Layout:
        if self.cluster_by and (self.partition_by or self.zorder_by):
            raise ValueError("layout: cluster_by (liquid clustering) cannot be combined with "
                             "partition_by or zorder_by; choose one")
        if len(self.cluster_by) > MAX_CLUSTER_COLUMNS:
            raise ValueError(f"layout: cluster_by takes at most {MAX_CLUSTER_COLUMNS} columns")
        overlap = set(self.partition_by) & set(self.zorder_by)
        if overlap:
            raise ValueError(f"layout: {', '.join(sorted(overlap))} is a partition column; "
                             "zorder_by names columns inside partitions")
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.cluster_by, *self.partition_by, *self.zorder_by)

    @property
    def target_file_bytes(self) -> int | None:
        if self.target_file_size is None:
            return None
        m = _SIZE.match(self.target_file_size.strip())
        return int(m[1]) * _UNITS[m[2].lower()] if m else None
