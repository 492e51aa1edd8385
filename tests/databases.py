"""Throwaway PostgreSQL and MariaDB servers on loopback, shared by all tests (the metadata store
on PostgreSQL/MariaDB, the JDBC connector, the crm example). The session fixtures ``postgresql``
and ``mariadb`` in ``tests/conftest.py`` start one of each per test run.

Each server runs from Debian's packages (installed by ``infra/ci/install-databases.sh`` when
missing) out of a fresh data folder on a free loopback port, and is stopped and deleted when the
``with`` block ends. Both servers refuse to run as root, so as root they run as the packages'
own system users (``postgres``, ``mysql``).

    with postgres_server() as server:
        url = server.create_database("lineage_1")  # postgresql+psycopg://...@127.0.0.1:PORT/...
        server.create_user("reader", "s3cret")      # PostgreSQL: a user that must give its password

The PostgreSQL server trusts its superuser ``lakehouse`` (no password); users made with
``create_user`` must authenticate (SCRAM over TCP), so a wrong password is refused as in
production.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).parents[1]
INSTALL_DATABASES = REPO / "infra" / "ci" / "install-databases.sh"
MARIADBD = "/usr/sbin/mariadbd"
_START_TIMEOUT_S = 60


class DatabaseSetupError(RuntimeError):
    """A test database server could not be installed or started; the message says why."""


PASSWORD_ROLE = "password_login"  # PostgreSQL: members must give their password


@dataclass
class Server:
    """A running test server: ``base_url`` without a database, ``create_database(name)`` adds one
    (MariaDB's also takes ``collation=``, default ``utf8mb4_bin``); PostgreSQL's
    ``create_user(name, password)`` adds a login that must authenticate with its password."""

    kind: str
    base_url: str
    create_database: Callable[..., str]
    create_user: Callable[[str, str], None] | None = None
    port: int = 0


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def ensure_installed() -> None:
    """Run the install script when a server binary is missing; :class:`DatabaseSetupError` if
    that fails."""
    if postgres_bin() is not None and Path(MARIADBD).exists():
        return
    result = subprocess.run(["bash", str(INSTALL_DATABASES)], capture_output=True, text=True,
                            check=False, timeout=1200)
    if result.returncode != 0 or postgres_bin() is None or not Path(MARIADBD).exists():
        raise DatabaseSetupError(
            f"{INSTALL_DATABASES} could not install postgresql and mariadb-server (exit "
            f"{result.returncode}): {result.stderr[-2000:]}"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_user(user: str) -> tuple[list[str], str | None]:
    """The command prefix that runs as ``user`` when we are root (else nothing), and the owner."""
    if os.geteuid() != 0:
        return [], None
    pwd.getpwnam(user)  # KeyError if the package did not create its user
    return ["runuser", "-u", user, "--"], user


def _data_dir(prefix: str, owner: str | None) -> Path:
    # Not under pytest's tmp dirs: those are 0700 root, so the server's user could not enter.
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    if owner:
        shutil.chown(folder, owner, owner)
    return folder


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DatabaseSetupError(f"server exited with {process.returncode}: "
                                     f"{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise DatabaseSetupError(f"server did not listen on 127.0.0.1:{port} within "
                             f"{_START_TIMEOUT_S}s: {_tail(log)}")


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if result.returncode != 0:
        raise DatabaseSetupError(f"{what} failed (exit {result.returncode}): "
                                 f"{(result.stderr or result.stdout)[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def postgres_server() -> Iterator[Server]:
    """A PostgreSQL server (trust auth, user ``lakehouse``) on a free loopback port."""
    ensure_installed()
    bin_dir = postgres_bin()
    prefix, owner = _as_user("postgres")
    data = _data_dir("lakehouse-pg-", owner)
    log = data / "server.log"
    port = free_port()
    process = None
    try:
        _run([*prefix, str(bin_dir / "initdb"), "-D", str(data / "db"), "-U", "lakehouse",
              "--auth=trust", "-E", "UTF8", "--no-sync"], "initdb")
        _require_passwords(data / "db" / "pg_hba.conf")
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [*prefix, str(bin_dir / "postgres"), "-D", str(data / "db"), "-p", str(port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={data}",
                 "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=200"],
                stdout=out, stderr=subprocess.STDOUT,
            )
        _wait_for_port(port, process, log)
        base = f"postgresql+psycopg://lakehouse@127.0.0.1:{port}"
        admin = f"host=127.0.0.1 port={port} user=lakehouse dbname=postgres"

        def create_database(name: str) -> str:
            import psycopg

            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            return f"{base}/{name}"

        def create_user(name: str, password: str) -> None:
            import psycopg
            from psycopg import sql

            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {} IN ROLE {}").format(
                    sql.Identifier(name), sql.Literal(password), sql.Identifier(PASSWORD_ROLE)))

        _wait_for_login(lambda: _create_password_role(admin), log)
        yield Server("postgresql", f"{base}/postgres", create_database, create_user, port)
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def mariadb_server() -> Iterator[Server]:
    """A MariaDB server (user ``root`` without password over TCP) on a free loopback port."""
    ensure_installed()
    prefix, owner = _as_user("mysql")
    data = _data_dir("lakehouse-mariadb-", owner)
    log = data / "server.log"
    port = free_port()
    user_flag = [f"--user={owner}"] if owner else []
    process = None
    try:
        _run(["mariadb-install-db", "--no-defaults", f"--datadir={data / 'db'}", *user_flag,
              "--auth-root-authentication-method=normal", "--skip-test-db",
              "--skip-name-resolve"], "mariadb-install-db")
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [MARIADBD, "--no-defaults", f"--datadir={data / 'db'}", f"--port={port}",
                 "--bind-address=127.0.0.1", f"--socket={data / 'mysqld.sock'}",
                 f"--pid-file={data / 'mysqld.pid'}", "--skip-name-resolve",
                 "--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=64M",
                 "--skip-log-bin", "--character-set-server=utf8mb4",
                 "--collation-server=utf8mb4_bin", "--max-connections=200", *user_flag],
                stdout=out, stderr=subprocess.STDOUT,
            )
        _wait_for_port(port, process, log)
        base = f"mysql+pymysql://root@127.0.0.1:{port}"
        _wait_for_login(lambda: _mariadb_login(port), log)

        def create_database(name: str, collation: str = "utf8mb4_bin") -> str:
            import pymysql

            conn = pymysql.connect(host="127.0.0.1", port=port, user="root")
            try:
                with conn.cursor() as cursor:
                    cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                                   f"COLLATE {collation}")
            finally:
                conn.close()
            return f"{base}/{name}?charset=utf8mb4"

        yield Server("mariadb", f"{base}/mysql", create_database, port=port)
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(data, ignore_errors=True)


def _require_passwords(hba: Path) -> None:
    """Put a rule first in ``pg_hba.conf``: members of :data:`PASSWORD_ROLE` log in over TCP with
    their password (the rules initdb wrote trust everyone else)."""
    rule = f"host all +{PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
    text = hba.read_text()
    try:
        hba.write_text(rule + text)
    except PermissionError as err:  # the data folder belongs to the server's user
        raise DatabaseSetupError(f"cannot edit {hba}: {err}") from err


def _create_password_role(admin: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True, connect_timeout=2) as conn:
        conn.execute(f"CREATE ROLE {PASSWORD_ROLE} NOLOGIN")


def _mariadb_login(port: int) -> None:
    import pymysql

    pymysql.connect(host="127.0.0.1", port=port, user="root", connect_timeout=2).close()


def _wait_for_login(login: Callable[[], None], log: Path) -> None:
    """A server listens before it accepts logins; retry ``login`` until it works."""
    deadline = time.monotonic() + _START_TIMEOUT_S
    while True:
        try:
            login()
            return
        except Exception as err:  # psycopg's and pymysql's errors alike
            if time.monotonic() > deadline:
                raise DatabaseSetupError(f"cannot log in: {err}; {_tail(log)}") from err
            time.sleep(0.3)
