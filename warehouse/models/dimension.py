"""Dimensions: one table per business entity, its history kept as SCD type 2 (or overwritten,
type 1), declared in ``warehouse/<name>.yaml``::

    dimension: dim_customer
    description: Customers, one row per version
    from: retail.customers             # source.dataset: its validated (silver) rows
    key: [customer_id]                 # business key; several columns for a composite key
    scd: 2                             # 2: a change opens a new version; 1: overwrite in place
    tracked: [name, email, city, segment]
    input: snapshot                    # snapshot: each batch is every member; changes: only
                                       # what changed (e.g. an incremental database extract)
    deletes: invalidate                # what a member missing from a snapshot, or a change
                                       # matching deleted_when, means: ignore | invalidate
                                       # (close it) | new_record (close it and add a deleted
                                       # version, SCD 2)
    changed_at: updated_at             # changes: when each change happened (its valid_from);
                                       # default: the batch's logical date
    deleted_when: "deleted_at IS NOT NULL"   # changes: the rows that mean "deleted"
    sql: |                             # optional: the SELECT giving key and tracked columns
      SELECT customer_id, initcap(name) AS name, ... FROM retail_silver.customers
    layout: {cluster_by: [customer_id]}   # optional: see warehouse.models.layout

A row of a snapshot that validation quarantined (or dropped as a duplicate) never counts as a
delete: its key is present in the batch (see :mod:`warehouse.scd2`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lake.config.project import check_name
from warehouse.models.layout import Layout


def _key_list(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


class Dimension(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    dimension: str
    description: str = ""
    from_: str = Field(alias="from")
    key: tuple[str, ...]
    scd: Literal[1, 2] = 2
    tracked: tuple[str, ...]
    input: Literal["snapshot", "changes"] = "snapshot"
    deletes: Literal["ignore", "invalidate", "new_record"] = "invalidate"
    changed_at: str | None = None
    deleted_when: str | None = None
    sql: str | None = None
    surrogate_key: str | None = None
    dag: str = "warehouse"
    layout: Layout = Layout()

    @field_validator("key", "tracked", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return _key_list(value) if isinstance(value, (str, list, tuple)) else value

    @field_validator("dimension")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, "dimension")

    @field_validator("from_")
    @classmethod
    def _dataset(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) != 2:
            raise ValueError(f"from {value!r} must be SOURCE.DATASET, e.g. shop.customers")
        for part in parts:
            check_name(part, "source or dataset")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Dimension:
        if not self.key:
            raise ValueError("key: name at least one column")
        if not self.tracked:
            raise ValueError("tracked: name at least one column (what a change is made of)")
        both = sorted(set(self.key) & set(self.tracked))
        if both:
            raise ValueError(f"columns {both} are in both key and tracked; a key never changes")
        for name in (*self.key, *self.tracked, *([self.changed_at] if self.changed_at else [])):
            check_name(name, "column")
        if self.input == "snapshot" and (self.changed_at or self.deleted_when):
            raise ValueError("changed_at and deleted_when are for input: changes; a snapshot's "
                             "deletes are the members it lacks")
        if self.scd == 1 and self.deletes == "new_record":
            raise ValueError("deletes: new_record adds a version, which SCD type 1 does not "
                             "keep; use invalidate (flag is_deleted) or ignore")
        return self

    @property
    def name(self) -> str:
        return self.dimension

    @property
    def table(self) -> str:
        return f"warehouse.{self.dimension}"

    @property
    def source(self) -> str:
        return self.from_.split(".")[0]

    @property
    def dataset(self) -> str:
        return self.from_.split(".")[1]

    @property
    def input_table(self) -> str:
        """The silver table the dimension is built from."""
        return f"{self.source}_silver.{self.dataset}"

    @property
    def sk(self) -> str:
        return self.surrogate_key or f"{self.dimension.removeprefix('dim_')}_sk"

    def select_sql(self) -> str:
        """The SELECT the dimension reads: its ``sql`` or the key and tracked columns."""
        if self.sql:
            return self.sql.strip().rstrip(";")
        columns = [*self.key, *self.tracked]
        for extra in ([self.changed_at] if self.changed_at else []) + self.deleted_columns():
            if extra not in columns:
                columns.append(extra)
        return f"SELECT {', '.join(columns)} FROM {self.input_table}"

    def deleted_columns(self) -> list[str]:
        """The columns ``deleted_when`` reads."""
        if not self.deleted_when:
            return []
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(self.deleted_when, read="spark")
        return sorted({c.name for c in tree.find_all(exp.Column)})
