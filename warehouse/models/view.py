"""Views and marts: plain SQL in ``warehouse/views/<name>.sql``, created as
``warehouse.<name>``; an optional ``/* description: ... */`` header documents it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from lake.config.project import check_name
from lake.errors import ConfigError


class View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    view: str
    description: str = ""
    sql: str
    dag: str = "warehouse"

    @field_validator("view")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, "view")

    @property
    def name(self) -> str:
        return self.view

    @property
    def table(self) -> str:
        return f"warehouse.{self.view}"


def parse_view(text: str, origin: str, name: str) -> View:
    from lake.config.loading import parse
    from warehouse.models.fact import split_header

    header, sql = split_header(text, origin)
    if header is not None and not isinstance(header, dict):
        raise ConfigError(f"{origin}: the header must be YAML keys and values")
    return parse(View, {"view": name, **(header or {}), "sql": sql}, origin)
