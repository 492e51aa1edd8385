"""Row statements the metadata store makes many times per event, made cheap and portable.

* :func:`insert_missing`: insert link rows in one statement, skipping those already there
  (``ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL, a no-op ``ON DUPLICATE KEY UPDATE`` on
  MySQL/MariaDB), instead of a lookup and an insert per row.
* :func:`find`, :func:`find_row`, :func:`insert_row`, :func:`update_row`: each statement shape is
  built once and reused with parameters, so SQLAlchemy skips building and hashing the expression
  on every call (that was most of the cost of recording an event).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Connection, Table, UniqueConstraint, and_, bindparam, insert, select, update

from lineage.store import schema as t


def insert_missing(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` in one statement, skipping any whose unique key (primary
    key or unique constraint) is already there, on SQLite, PostgreSQL and MySQL/MariaDB."""
    unique = {}
    for row in rows:  # the same link twice in one event (a dataset listed twice) goes in once
        unique.setdefault(tuple(sorted(row.items())), row)
    rows = list(unique.values())
    if not rows:
        return
    dialect = conn.dialect.name
    # executemany of one parameterless statement: compiled once per table and cached by
    # SQLAlchemy (an insert with the rows inlined in .values() is compiled anew every time).
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        conn.execute(dialect_insert(table).on_conflict_do_nothing(), rows)
    elif dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        statement = mysql_insert(table)
        column = next(iter(rows[0]))  # a no-op update: the row stays as it is
        conn.execute(statement.on_duplicate_key_update({column: statement.inserted[column]}),
                     rows)
    else:  # any other database: look each row up first
        key = _unique_columns(table)
        for row in rows:
            if find(conn, table, **{name: row[name] for name in key}) is None:
                conn.execute(insert(table).values(**row))


def find(conn: Connection, table: Table, **values: Any) -> int | None:
    """The id (or first key column) of the row matching ``values``, or None."""
    statement = _lookup(table.name, tuple(values), whole_row=False)
    return conn.execute(statement, _keys(values)).scalar()


def find_row(conn: Connection, table: Table, **values: Any) -> Any:
    """The whole row matching ``values`` (a mapping), or None."""
    statement = _lookup(table.name, tuple(values), whole_row=True)
    return conn.execute(statement, _keys(values)).mappings().first()


def insert_row(conn: Connection, table: Table, **values: Any) -> int:
    """Insert one row; its id."""
    return int(conn.execute(_insert_into(table.name), values).inserted_primary_key[0])


def update_row(conn: Connection, table: Table, row_id: int, **values: Any) -> None:
    """Set ``values`` on the row with id ``row_id``."""
    conn.execute(_update_by_id(table.name), {"row_id": row_id, **values})


def _keys(values: dict[str, Any]) -> dict[str, Any]:
    return {f"key_{name}": value for name, value in values.items()}


@functools.cache
def _lookup(table_name: str, columns: tuple[str, ...], *, whole_row: bool) -> Any:
    table = t.metadata.tables[table_name]
    if whole_row:
        query = select(table)
    else:
        query = select(table.c.id if "id" in table.c else next(iter(table.primary_key.columns)))
    condition = and_(*(table.c[name] == bindparam(f"key_{name}") for name in columns))
    return query.where(condition).limit(1)


@functools.cache
def _insert_into(table_name: str) -> Any:
    return insert(t.metadata.tables[table_name])


@functools.cache
def _update_by_id(table_name: str) -> Any:
    table = t.metadata.tables[table_name]
    return update(table).where(table.c.id == bindparam("row_id"))


def _unique_columns(table: Table) -> list[str]:
    """The columns that identify a row: the primary key, or the unique constraint when the
    primary key is a surrogate ``id``."""
    primary = [c.name for c in table.primary_key.columns]
    if primary != ["id"]:
        return primary
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            return [c.name for c in constraint.columns]
    return primary
