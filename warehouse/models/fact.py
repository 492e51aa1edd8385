"""Facts: the SELECT that builds them from silver, with a header saying what they are, in
``warehouse/<name>.sql``::

    /*
    fact: fact_orders
    description: One row per order line
    grain: [order_id]                  # the columns that identify one fact row
    event_time: order_ts               # when the event happened: dimension versions are looked
                                       # up as of this time, so a late fact gets the version
                                       # valid then
    lookups:
      - {dimension: dim_customer, on: {customer_id: customer_id}}   # fact column: key column
      - {dimension: dim_product, on: [product_id]}                  # same names on both sides
    unknown_members: infer             # a key the dimension does not know yet: infer (add an
                                       # inferred member, filled in when the member arrives)
                                       # or fail
    measures: [quantity, amount]
    layout: {cluster_by: [order_ts]}   # optional: see warehouse.models.layout
    */
    SELECT order_id, order_ts, customer_id, product_id, quantity, amount
    FROM retail_silver.orders

Each load reads only the new batches of the table the facts come from (``incremental``, by
default the one silver table of the SELECT), runs this SELECT on them, joins the lookups and
MERGEs on the grain: a corrected re-delivery of a fact replaces it. The SQL that runs is
generated from this file and is what column lineage reads (:mod:`warehouse.facts`).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lake.config.project import check_name
from lake.errors import ConfigError
from warehouse.models.layout import Layout

HEADER = re.compile(r"^\s*/\*(.*?)\*/", re.S)


class Lookup(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dimension: str
    on: dict[str, str]  # fact column -> dimension key column
    role: str | None = Field(default=None, description="a name for the foreign key column when "
                             "one dimension is looked up twice (e.g. ship_to, bill_to)")

    @field_validator("on", mode="before")
    @classmethod
    def _same_names(cls, value: object) -> object:
        if isinstance(value, str):
            return {value: value}
        if isinstance(value, (list, tuple)):
            return {v: v for v in value}
        return value

    @property
    def column_prefix(self) -> str:
        return self.role or self.dimension.removeprefix("dim_")


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    fact: str
    description: str = ""
    grain: tuple[str, ...]
    event_time: str | None = None
    incremental: str | None = None
    lookups: tuple[Lookup, ...] = ()
    unknown_members: Literal["infer", "fail"] = "infer"
    measures: tuple[str, ...] = ()
    dag: str = "warehouse"
    layout: Layout = Layout()
    sql: str = ""

    @field_validator("grain", "measures", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("fact")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, "fact")

    @field_validator("incremental")
    @classmethod
    def _dataset(cls, value: str | None) -> str | None:
        if value is not None and len(value.split(".")) != 2:
            raise ValueError(f"incremental {value!r} must be SOURCE.DATASET, e.g. shop.orders")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Fact:
        if not self.grain:
            raise ValueError("grain: name the columns that identify one row")
        roles = [lk.column_prefix for lk in self.lookups]
        if len(set(roles)) != len(roles):
            raise ValueError("lookups: a dimension looked up twice needs a role for each "
                             "(e.g. role: ship_to)")
        return self

    @property
    def name(self) -> str:
        return self.fact

    @property
    def table(self) -> str:
        return f"warehouse.{self.fact}"


def split_header(text: str, origin: str) -> tuple[object, str]:
    """(the header's parsed YAML or None, the SQL after it)."""
    from lake.config.loading import load_yaml_text

    match = HEADER.match(text)
    if not match:
        return None, text.strip()
    header = load_yaml_text(match.group(1), f"{origin} (header)")
    return header, text[match.end():].strip().rstrip(";").strip()


def parse_fact(text: str, origin: str, name: str) -> Fact:
    from lake.config.loading import parse

    header, sql = split_header(text, origin)
    if header is None:
        raise ConfigError(f"{origin}: a fact starts with a /* ... */ header saying its grain, "
                          "event_time and lookups (see `lakehouse init` for an example)")
    if not isinstance(header, dict):
        raise ConfigError(f"{origin}: the header must be YAML keys and values")
    data = {"fact": name, **header, "sql": sql}
    fact = parse(Fact, data, origin)
    if fact.fact != name:
        raise ConfigError(f"{origin}: fact: says {fact.fact!r} but the file is named for "
                          f"{name!r}; make them equal")
    return fact
