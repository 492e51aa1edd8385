"""Upgrading a metadata store's schema in place with the Alembic migrations in ``migrations/``.

:func:`upgrade` brings a store at any older revision to :data:`HEAD` in place, keeping its data.
A store made by the walking skeleton (tables, but no ``alembic_version``) is recognised as
revision ``0001`` and upgraded from there. Nothing is imported or opened until it is called; a
store already at :data:`HEAD` costs one small query.

Add a migration: a new file under ``migrations/versions/`` whose ``down_revision`` is the current
head, the same change in :mod:`lineage.store.schema`, and :data:`HEAD` moved to it
(``tests/lineage/store/test_migrations.py`` checks all three agree).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from lineage.errors import StoreUnavailableError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

HEAD = "0003"
"""The revision this code reads and writes."""
FIRST = "0001"
REVISIONS = ("0001", "0002", "0003")
"""Every revision, oldest first."""
SCRIPTS = Path(__file__).resolve().parent / "migrations"
"""The Alembic script folder (``env.py``, ``script.py.mako``, ``versions/``), shipped inside the
package."""
VERSION_TABLE = "alembic_version"


def current_revision(conn: Connection) -> str | None:
    """The store's revision: ``alembic_version``'s, ``0001`` for a skeleton-made store, None for
    an empty database."""
    from sqlalchemy import inspect, text

    tables = set(inspect(conn).get_table_names())
    if VERSION_TABLE in tables:
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    if "ol_event" in tables:
        return FIRST
    return None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the store behind ``engine`` to ``revision`` (default: the newest), in place.

    Raises :class:`StoreUnavailableError` for a store written by a newer version of this code.
    Two processes upgrading at once is fine: the loser sees the winner's result.
    """
    from sqlalchemy.exc import SQLAlchemyError

    with engine.connect() as conn:
        current = current_revision(conn)
    if current is not None and current not in REVISIONS:
        raise StoreUnavailableError(
            f"the metadata store is at schema revision {current!r}, which this version of the "
            f"lineage package does not know (it knows {', '.join(REVISIONS)}): upgrade the "
            "lakehouse package, or point the lineage URL at another store"
        )
    if current == HEAD and revision in ("head", HEAD):
        return
    try:
        _migrate(engine, current, revision)
    except SQLAlchemyError:
        with engine.connect() as conn:
            if current_revision(conn) != HEAD or revision not in ("head", HEAD):
                raise
        log.info("another process upgraded the lineage store first")


def _migrate(engine: Engine, current: str | None, revision: str) -> None:
    from alembic import command

    with engine.begin() as conn:
        config = alembic_config(conn)
        if current == FIRST and not _stamped(conn):
            command.stamp(config, FIRST)  # a skeleton-made store: it is 0001 in all but name
        log.info("upgrading the lineage store from revision %s to %s", current, revision)
        command.upgrade(config, revision)


def alembic_config(conn: Connection):  # noqa: ANN201 (alembic.config.Config, imported lazily)
    """An Alembic config that runs the packaged scripts on ``conn``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = conn
    return config


def _stamped(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return VERSION_TABLE in set(inspect(conn).get_table_names())
