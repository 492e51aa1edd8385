"""The Hive metastore's database: Derby's network server under the home, or the user's server.

Embedded Derby lets one JVM open a database; a second process (``lakehouse sql`` while a job
writes) would wait on it and fail. So the embedded default is Derby's *network server*, started
on demand on loopback for the home (``<home>/metastore_db``), detached from the process that
started it and shared by every Spark session of that home. Its port and process id are kept in
``<home>/metastore-server.json``; a file lock makes concurrent starters start one server. Its
logs are ``<home>/logs/derby.log`` (Derby's) and ``<home>/logs/metastore-server.log`` (console).

Production sets ``LAKEHOUSE_METASTORE_URL`` to a PostgreSQL or MySQL/MariaDB database (plus
``LAKEHOUSE_METASTORE_USER`` / ``_PASSWORD``), used as it is; no server is started then.

Nothing runs at import; :func:`connection` is what a session needs (it starts the server when
the default is in use), :func:`stop_server` and :func:`running_server` serve ``lakehouse
metastore``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lake.config.settings import Settings, parse_connection
from lake.errors import ConfigError, MetastoreError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # loopback only: the server has no authentication
SERVER_CLASS = "org.apache.derby.drda.NetworkServerControl"
CLIENT_DRIVER = "org.apache.derby.jdbc.ClientDriver"
START_TIMEOUT_S = 90.0  # a JVM's start on a busy 2-core machine
# driver class per JDBC URL prefix (MySQL through MariaDB's driver, the one in .jars)
DRIVERS = {"jdbc:derby://": CLIENT_DRIVER,
           "jdbc:derby:": "org.apache.derby.jdbc.EmbeddedDriver",
           "jdbc:postgresql:": "org.postgresql.Driver",
           "jdbc:mariadb:": "org.mariadb.jdbc.Driver",
           "jdbc:mysql:": "org.mariadb.jdbc.Driver"}
# JDBC drivers the metastore client loads: they must be on the driver's class path at JVM
# start (Hive's client classloader does not see spark.jars)
DRIVER_JARS = ("derbyclient-*.jar", "postgresql-*.jar", "mariadb-java-client-*.jar")
ENGINE_JARS = ("derby-[0-9]*.jar", "derbyshared-*.jar", "derbytools-*.jar")  # come with pyspark
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


@dataclass(frozen=True)
class Server:
    """A running Derby network server of a home."""

    port: int
    pid: int
    home: Path

    @property
    def url(self) -> str:
        return f"jdbc:derby://{HOST}:{self.port}/{self.home / 'metastore_db'};create=true"


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


def connection(settings: Settings, *, timeout: float = START_TIMEOUT_S) -> Connection:
    """The metastore for a new Spark session: the user's, else the home's Derby server (started
    when it is not running). Raises :class:`MetastoreError` if the server does not start."""
    return user_connection(settings) or Connection(ensure_server(settings, timeout=timeout).url,
                                                   CLIENT_DRIVER)


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


# --- the home's Derby network server -------------------------------------------------------

def state_file(home: Path) -> Path:
    return home / "metastore-server.json"


def log_files(home: Path) -> tuple[Path, Path]:
    """Derby's log and the server's console output."""
    return home / "logs" / "derby.log", home / "logs" / "metastore-server.log"


def ping(port: int, timeout: float = 5.0) -> bool:
    """Whether a Derby network server answers on loopback ``port`` (its "test connection"
    command, as ``NetworkServerControl ping`` sends it)."""
    empty = struct.pack(">H", 0)
    command = b"CMD:" + bytes([0, 1, 0, 0, 4]) + empty * 3  # version 1, no locale, ping
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(command)
            reply = b""
            while len(reply) < 5:
                chunk = sock.recv(16)
                if not chunk:
                    break
                reply += chunk
    except OSError:
        return False
    return reply[:5] == b"RPY:\x00"


def running_server(settings: Settings) -> Server | None:
    """The home's server if it answers, else None."""
    state = _read_state(settings.home)
    if state is None or not ping(state.port):
        return None
    return state


def ensure_server(settings: Settings, *, timeout: float = START_TIMEOUT_S) -> Server:
    """The home's running server, started (once, whoever else is starting it) if needed."""
    server = running_server(settings)
    if server is not None:
        return server
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    with _locked(home):
        server = running_server(settings)  # another process may have started it meanwhile
        if server is not None:
            return server
        stale = _read_state(home)
        if stale is not None:
            _terminate(stale.pid)  # not answering: a hung or half-dead server of this home
        port = stale.port if stale is not None and _port_free(stale.port) else _free_port()
        for attempt in range(3):
            server = _start(settings, port)
            state_file(home).write_text(json.dumps({"port": server.port, "pid": server.pid}))
            if _wait_until_answering(server, timeout):
                log.info("metastore: Derby network server on %s:%s (pid %s)", HOST, port, server.pid)
                return server
            if _alive(server.pid) or attempt == 2:
                break
            port = _free_port()  # the port was taken between the check and the start: retry
        _terminate(server.pid)
        state_file(home).unlink(missing_ok=True)
        derby_log, console_log = log_files(home)
        raise MetastoreError(
            f"the metastore's Derby network server for {home} did not answer on {HOST}:{port} "
            f"within {timeout:.0f} s; see {console_log} and {derby_log}. "
            f"Check that `java` runs and the jars are resolved (make jars), or set "
            "LAKEHOUSE_METASTORE_URL to a PostgreSQL or MySQL database")


def stop_server(settings: Settings, *, timeout: float = 30.0) -> Server | None:
    """Stop the home's server (None if none was recorded); the metastore stays on disk."""
    home = settings.home
    state = _read_state(home)
    if state is None:
        return None
    with _locked(home):
        if ping(state.port):
            subprocess.run([_java(), "-cp", _server_class_path(settings), SERVER_CLASS, "shutdown",
                            "-h", HOST, "-p", str(state.port)],
                           capture_output=True, check=False, timeout=timeout)
        deadline = time.monotonic() + timeout
        while _alive(state.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        _terminate(state.pid)
        state_file(home).unlink(missing_ok=True)
    return state


def _start(settings: Settings, port: int) -> Server:
    home = settings.home
    derby_log, console_log = log_files(home)
    derby_log.parent.mkdir(parents=True, exist_ok=True)
    command = [_java(), "-Xmx512m", f"-Dderby.system.home={home}",
               f"-Dderby.stream.error.file={derby_log}", "-Dderby.infolog.append=true",
               "-cp", _server_class_path(settings), SERVER_CLASS, "start", "-h", HOST,
               "-p", str(port), "-noSecurityManager"]
    # A shell in a session of its own starts the server in the background and exits at once:
    # the server outlives this process and is no child of it (no zombie, no terminal signals).
    # A small shell stays with it: it ends the server when the home is deleted (a temporary
    # home of a script or a test), and reaps it when it stops.
    launcher = subprocess.run(
        ["/bin/sh", "-c", _WATCHDOG, str(home), str(console_log), *command],
        capture_output=True, text=True, check=False, start_new_session=True, timeout=30)
    if launcher.returncode != 0 or not launcher.stdout.strip().isdigit():
        raise MetastoreError(f"could not start the metastore's Derby network server: "
                             f"{launcher.stderr.strip() or launcher.stdout.strip()}")
    return Server(port, int(launcher.stdout.strip()), home)


_WATCHDOG = """(
  log=$1; shift
  "$@" </dev/null >>"$log" 2>&1 &
  pid=$!
  echo $pid
  exec >/dev/null 2>&1 </dev/null
  while [ -d "$0" ]; do
    sleep 5
    kill -0 $pid 2>/dev/null || exit 0
  done
  kill $pid
) &"""


def _wait_until_answering(server: Server, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ping(server.port, timeout=2.0):
            return True
        if not _alive(server.pid):
            return False
        time.sleep(0.2)
    return False


def _server_class_path(settings: Settings) -> str:
    jars = [*_engine_jars(), *sorted(settings.jars_dir.glob("derbynet-*.jar"))]
    if not any(p.name.startswith("derbynet-") for p in jars):
        raise MetastoreError(f"no derbynet jar in {settings.jars_dir}: run `make jars` (Derby's "
                             "network server serves the metastore to several processes)")
    return os.pathsep.join(str(p) for p in jars)


def _engine_jars() -> list[Path]:
    import importlib.util

    spark_home = os.environ.get("SPARK_HOME")
    if spark_home:
        folders = [Path(spark_home) / "jars"]
    else:
        spec = importlib.util.find_spec("pyspark")
        folders = [Path(p) / "jars" for p in (spec.submodule_search_locations or [])] if spec else []
    for folder in folders:
        jars = [p for pattern in ENGINE_JARS for p in sorted(folder.glob(pattern))]
        if len(jars) == len(ENGINE_JARS):
            return jars
    raise MetastoreError(f"Derby's jars ({', '.join(ENGINE_JARS)}) are not in "
                         f"{', '.join(map(str, folders)) or 'pyspark'}: is pyspark installed?")


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise MetastoreError("no `java` on PATH (nor JAVA_HOME/bin/java): Spark and the "
                             "metastore's Derby server need a Java 17 runtime")
    return java


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    with open(home / "metastore-server.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_state(home: Path) -> Server | None:
    try:
        state = json.loads(state_file(home).read_text())
        return Server(int(state["port"]), int(state["pid"]), home)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    """Whether a server can listen on ``port`` (as Java's does: connections of a server that
    ended, in TIME_WAIT, do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie (Linux) has exited
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1] != "Z"
    return True


def _is_server(pid: int) -> bool:
    """Whether ``pid`` is a Derby network server (where /proc says; elsewhere assume so)."""
    try:
        return SERVER_CLASS.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists() and _alive(pid)
    except OSError:
        return False


def _terminate(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM then SIGKILL ``pid`` if it is still a live Derby server."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not (_alive(pid) and _is_server(pid)):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
