"""The home's Derby network server: the embedded default's metastore database, shared by every
process of the home.

Embedded Derby lets one JVM open a database; a second process (``lakehouse sql`` while a job
writes) would wait on it and fail. So the server is started on demand on loopback for the home
(``<home>/metastore_db``), detached from the process that started it (a small shell stays beside
it, ends it when the home is deleted and reaps it). Its port and process id are kept in
``<home>/metastore-server.json``; a file lock makes concurrent starters start one server. Its
logs are ``<home>/logs/derby.log`` (Derby's) and ``<home>/logs/metastore-server.log`` (console).

Nothing runs at import: :func:`ensure_server` starts it (for :mod:`lake.platform.metastore`),
:func:`running_server` and :func:`stop_server` serve ``lakehouse metastore``.
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

from lake.config.settings import Settings
from lake.errors import MetastoreError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # loopback only: the server has no authentication
SERVER_CLASS = "org.apache.derby.drda.NetworkServerControl"
START_TIMEOUT_S = 90.0  # a JVM's start on a busy 2-core machine
ENGINE_JARS = ("derby-[0-9]*.jar", "derbyshared-*.jar", "derbytools-*.jar")  # come with pyspark


@dataclass(frozen=True)
class Server:
    """A running Derby network server of a home."""

    port: int
    pid: int
    home: Path

    @property
    def url(self) -> str:
        return f"jdbc:derby://{HOST}:{self.port}/{self.home / 'metastore_db'};create=true"


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
