"""The Hive metastore's database for a Spark session: the home's Derby server, or the user's.

By default the catalog is a Derby database under the home, served to every process of the home
by Derby's network server (:mod:`lake.platform.derby_server`; embedded Derby serves one JVM).
Production sets ``LAKEHOUSE_METASTORE_URL`` to a PostgreSQL database (plus
``LAKEHOUSE_METASTORE_USER`` / ``_PASSWORD``), used as it is; no server is started then.

Nothing runs at import; :func:`connection` is what a new session needs (it starts the server
when the default is in use), :func:`schema_created` lets one process create a new metastore's
tables.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lake.config.settings import Settings, parse_connection
from lake.errors import ConfigError, MetastoreError
from lake.platform.derby_server import ensure_server

CLIENT_DRIVER = "org.apache.derby.jdbc.ClientDriver"
DRIVERS = {"jdbc:derby://": CLIENT_DRIVER,
           "jdbc:derby:": "org.apache.derby.jdbc.EmbeddedDriver",
           "jdbc:postgresql:": "org.postgresql.Driver",
           "jdbc:mariadb:": "org.mariadb.jdbc.Driver",
           "jdbc:mysql:": "org.mariadb.jdbc.Driver"}
# JDBC drivers the metastore client loads: they must be on the driver's class path at JVM
# start (Hive's client classloader does not see spark.jars)
DRIVER_JARS = ("derbyclient-*.jar", "postgresql-*.jar", "mariadb-java-client-*.jar")
SCHEMA_MARKER = "metastore-schema-created"  # beside metastore_db: Derby's folder is Derby's
SCHEMA_WAIT_S = 900.0  # another process creating a new metastore's schema (JVM start included)
# Hive's metastore model (package.jdo of hive-metastore 2.3): DataNucleus creates every table
# when it starts, not a few each time a class is first used (two processes doing that at once
# deadlock in Derby's catalog)
_MODEL = ("MDatabase MFieldSchema MType MTable MConstraint MSerDeInfo MOrder MColumnDescriptor "
          "MStringList MStorageDescriptor MPartition MIndex MRole MRoleMap MGlobalPrivilege "
          "MDBPrivilege MTablePrivilege MPartitionPrivilege MTableColumnPrivilege "
          "MPartitionColumnPrivilege MPartitionEvent MMasterKey MDelegationToken "
          "MTableColumnStatistics MPartitionColumnStatistics MVersionTable MResourceUri MFunction "
          "MNotificationLog MNotificationNextId").split()
SCHEMA_CONF = {
    "spark.hadoop.datanucleus.schema.autoCreateAll": "true",
    "spark.hadoop.hive.metastore.schema.verification": "false",
    "spark.hadoop.datanucleus.autoStartMechanism": "Classes",
    "spark.hadoop.datanucleus.autoStartClassNames": ",".join(
        f"org.apache.hadoop.hive.metastore.model.{name}" for name in _MODEL),
}


@dataclass(frozen=True)
class Connection:
    """The metastore database a Spark session's Hive client opens."""

    url: str
    driver: str
    user: str = ""
    password: str = ""

    def __repr__(self) -> str:  # never print a password
        return f"Connection({self.url!r}, {self.driver!r})"

    def spark_conf(self) -> dict[str, str]:
        conf = {"spark.hadoop.javax.jdo.option.ConnectionURL": self.url,
                "spark.hadoop.javax.jdo.option.ConnectionDriverName": self.driver}
        if self.user:
            conf["spark.hadoop.javax.jdo.option.ConnectionUserName"] = self.user
        if self.driver == DRIVERS["jdbc:mariadb:"]:
            # DataNucleus 4 knows MySQL, not the name MariaDB's driver reports (its generic
            # SQL fails there)
            conf["spark.hadoop.datanucleus.rdbms.datastoreAdapterClassName"] = (
                "org.datanucleus.store.rdbms.adapter.MySQLAdapter")
        if self.driver != CLIENT_DRIVER:  # a user's database: the password given, even none
            # (unset, Hive would send its default password, "mine")
            conf["spark.hadoop.javax.jdo.option.ConnectionPassword"] = self.password
        return conf


def user_connection(settings: Settings) -> Connection | None:
    """The metastore the user set (``LAKEHOUSE_METASTORE_URL``), or None for the default."""
    if not settings.metastore_url:
        return None
    parsed = parse_connection("metastore", settings.metastore_url)
    url = parsed.url
    driver = next((d for prefix, d in DRIVERS.items() if url.startswith(prefix)), "")
    if not driver:
        raise ConfigError(
            f"LAKEHOUSE_METASTORE_URL={url.split('?')[0]}: expected a PostgreSQL or MySQL/MariaDB "
            "database (jdbc:postgresql://HOST:PORT/DB, jdbc:mariadb://..., "
            "postgresql://USER:PASSWORD@HOST:PORT/DB) or a jdbc:derby: URL; unset it for the "
            "embedded Derby server under LAKEHOUSE_HOME")
    if url.startswith("jdbc:mysql:") and "permitMysqlScheme" not in url:
        url += ("&" if "?" in url else "?") + "permitMysqlScheme"  # MariaDB's driver needs it
    return Connection(url, driver,
                      settings.metastore_user or parsed.properties.get("user", ""),
                      settings.metastore_password or parsed.properties.get("password", ""))


def connection(settings: Settings) -> Connection:
    """The metastore for a new Spark session: the user's, else the home's Derby server (started
    when it is not running). Raises :class:`MetastoreError` if the server does not start."""
    return user_connection(settings) or Connection(ensure_server(settings).url, CLIENT_DRIVER)


def driver_class_path(settings: Settings) -> list[str]:
    """The JDBC driver jars the metastore client needs on the driver's class path."""
    if not settings.jars_dir.is_dir():
        return []
    return sorted(str(p) for pattern in DRIVER_JARS for p in settings.jars_dir.glob(pattern))


@contextlib.contextmanager
def schema_created(settings: Settings) -> Iterator[bool]:
    """Around the start of a Spark session: one process at a time creates a new home metastore's
    schema. Yields True to the process that must create it (by using the catalog inside the
    block; the schema counts as created when the block ends without error), False to the others,
    which wait at the end of the block (their JVM started meanwhile) until it exists. A user's
    metastore (``LAKEHOUSE_METASTORE_URL``) yields False at once."""
    if settings.metastore_url or _schema_marked(settings.home):
        yield False
        return
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / "metastore-schema.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            creator = True
        except BlockingIOError:
            creator = False  # another process creates it
        try:
            creating = creator and not _schema_marked(settings.home)
            yield creating
            if creating:
                _mark_schema(settings.home)
            elif not creator:
                _wait_for_lock(lock, settings.home)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _schema_marked(home: Path) -> bool:
    """Whether this home's metastore database (the one on disk now) has its schema."""
    try:
        return (home / SCHEMA_MARKER).read_text() == str((home / "metastore_db").stat().st_ino)
    except (OSError, ValueError):
        return False


def _mark_schema(home: Path) -> None:
    with contextlib.suppress(FileNotFoundError):  # no database: nothing used the catalog
        (home / SCHEMA_MARKER).write_text(str((home / "metastore_db").stat().st_ino))


def _wait_for_lock(lock: IO[str], home: Path) -> None:
    deadline = time.monotonic() + SCHEMA_WAIT_S
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise MetastoreError(
                    f"another process has been creating the metastore's schema in {home} for "
                    f"{SCHEMA_WAIT_S:.0f} s; if none runs, delete {home / 'metastore-schema.lock'}"
                ) from None
            time.sleep(0.2)
