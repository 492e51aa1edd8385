"""The catalog's metastore serves several processes at once: Spark sessions in separate
processes on one home share its Derby network server (started once, whoever asks first), an
analyst's `lakehouse sql` runs while a job writes, and nobody sees Derby's stack traces. A
user's PostgreSQL is used as the metastore as it is.

Every Spark session here is a subprocess of its own (a test process has one session, and these
are about several); they are few and run side by side."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lake.config.settings import load_settings
from lake.errors import ConfigError
from lake.platform import derby_server, metastore
from lakehouse.cli.main import main

REPO = Path(__file__).resolve().parents[2]
DERBY_TRACES = ("ERROR XJ040", "Another instance of Derby", "at org.apache.derby", "XSDB6",
                "ERROR Datastore", "ERROR Schema")
TIMEOUT_S = 900  # a JVM per process on a busy 2-core machine

# A job with the platform's session on LAKEHOUSE_HOME: creates <db>.t and appends to it until
# <home>/stop-<db> exists. Meanwhile, once the table <other>.t of another such job has rows, it
# reads them (the other is still writing: it stops only when this one says so, by creating
# stop-<other>). Prints what it wrote, read and saw in the catalog.
SESSION_SCRIPT = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from lake.config.settings import load_settings
    from lake.platform.session import get_session

    db, other = sys.argv[1], sys.argv[2]
    settings = load_settings()
    started = time.monotonic()
    spark = get_session(settings, app_name=f"test-{db}")
    print(f"{db}: session in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {db}")
    spark.sql(f"CREATE TABLE {db}.t (n INT) USING delta")
    n, seen = 0, 0
    while not Path(settings.home, f"stop-{db}").exists():
        if time.monotonic() - started > 600:
            sys.exit(f"{db}: nobody said stop")
        n += 1
        spark.sql(f"INSERT INTO {db}.t VALUES ({n})")
        Path(settings.home, f"wrote-{db}").write_text(str(n))
        print(f"{db}: insert {n} at {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        if other and not seen and spark.catalog.tableExists(f"{other}.t"):
            seen = spark.table(f"{other}.t").count()
            if seen:
                Path(settings.home, f"stop-{other}").touch()
    print(json.dumps({"own": spark.table(f"{db}.t").count(), "written": n, "seen": seen,
                      "tables": [t.name for t in spark.catalog.listTables(other or db)]}))
""")


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    return {**env, "LAKEHOUSE_HOME": str(home), "LAKEHOUSE_SHUFFLE_PARTITIONS": "2",
            "PYTHONPATH": str(REPO), **extra}


def _session(home: Path, db: str, other: str = "", **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SESSION_SCRIPT, db, other],
                            cwd=home, env=_env(home, **env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, processes: list[subprocess.Popen], timeout: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        for p in processes:
            if p.poll() is not None:
                out, err = p.communicate()
                pytest.fail(f"process ended (exit {p.returncode}) before {path.name}: {err[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {path.name} after {timeout} s")
        time.sleep(0.5)


def _derby_servers(home: Path) -> list[int]:
    """Process ids of Derby network servers (JVMs) of ``home`` (from /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if (args[0].endswith(b"java") and derby_server.SERVER_CLASS.encode() in args
                and f"-Dderby.system.home={home}".encode() in args):
            found.append(int(cmdline.parent.name))
    return found


def test_two_processes_starting_the_server_at_once_start_one(tmp_path, monkeypatch, capsys):
    script = ("import json; from lake.config.settings import load_settings; "
              "from lake.platform import derby_server; s = derby_server.ensure_server(load_settings()); "
              "print(json.dumps([s.port, s.pid]))")
    starters = [subprocess.Popen([sys.executable, "-c", script], env=_env(tmp_path),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
    settings = load_settings(env={}, home=tmp_path)
    try:
        results = [p.communicate(timeout=300) for p in starters]
        assert [p.returncode for p in starters] == [0, 0], [err for _, err in results]
        (port, pid), again = (json.loads(out) for out, _ in results)
        assert again == [port, pid]  # both use the one server
        assert _derby_servers(tmp_path) == [pid]
        assert derby_server.ping(port)
        running = derby_server.running_server(settings)
        assert running is not None and running.url == (
            f"jdbc:derby://127.0.0.1:{port}/{tmp_path / 'metastore_db'};create=true")
        monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path))
        capsys.readouterr()
        assert main(["metastore", "status", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["server"] == {
            "running": True, "url": running.url, "port": port, "pid": pid}
        assert main(["metastore", "stop"]) == 0
        assert capsys.readouterr().out == f"stopped the metastore server (pid {pid})\n"
    finally:
        derby_server.stop_server(settings)
    assert _derby_servers(tmp_path) == []
    assert main(["metastore", "status"]) == 0
    assert "server: not running" in capsys.readouterr().out
    assert not derby_server.ping(port) and derby_server.running_server(settings) is None
    # a server that died is started again, on its old port (sessions keep their URL)
    crashed = derby_server.ensure_server(settings)
    try:
        os.kill(crashed.pid, signal.SIGKILL)
        restarted = derby_server.ensure_server(settings)
        assert restarted.port == crashed.port and restarted.pid != crashed.pid
        assert _derby_servers(tmp_path) == [restarted.pid]
    finally:
        derby_server.stop_server(settings)
    assert _derby_servers(tmp_path) == []
    # a server whose home is deleted (a script's temporary home) ends within seconds
    deleted = tmp_path / "deleted"
    orphan = derby_server.ensure_server(load_settings(env={}, home=deleted))
    shutil.rmtree(deleted)
    deadline = time.monotonic() + 60
    while _derby_servers(deleted) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _derby_servers(deleted) == [] and not derby_server.ping(orphan.port)


def _outcomes(processes: list[subprocess.Popen]) -> list[tuple[dict, str]]:
    """Each process's printed result and its standard error, once all have ended."""
    try:
        ended = [p.communicate(timeout=TIMEOUT_S) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_, err) in zip(processes, ended, strict=True):
        assert p.returncode == 0, err[-3000:]
    return [(json.loads(out.strip().splitlines()[-1]), err) for out, err in ended]


def _no_derby_traces(*texts: str) -> None:
    for text in texts:
        assert not [trace for trace in DERBY_TRACES if trace in text], text[-3000:]


@pytest.mark.slow  # two Spark JVMs at once beside the suite's own: a minute on 2 cores
def test_two_jobs_on_a_new_home_create_write_and_read_each_others_tables(tmp_path):
    """Two jobs start at once on a new home (each the metastore's first user), each creates and
    fills a table, and each reads the other's while the other is still writing. Nobody waits on
    a lock or prints Derby traces; Derby's log is in the home's logs."""
    try:
        outcomes = _outcomes([_session(tmp_path, "one_bronze", "two_bronze"),
                              _session(tmp_path, "two_bronze", "one_bronze")])
    finally:
        derby_server.stop_server(load_settings(env={}, home=tmp_path))
    for (result, _), other in zip(outcomes, ("two_bronze", "one_bronze"), strict=True):
        assert result["own"] == result["written"] >= 1
        assert result["seen"] >= 1 and result["tables"] == ["t"], other
    _no_derby_traces(*(err for _, err in outcomes))
    assert (tmp_path / "logs" / "derby.log").is_file()
    assert not (tmp_path / "derby.log").exists()


@pytest.mark.slow  # two JVMs one after the other: minutes on a busy 2-core machine
def test_an_analyst_query_runs_while_a_job_writes(tmp_path):
    """`lakehouse sql` in its own process while a job appends to the table it reads: the query
    answers, the job goes on, and neither shows a Derby stack trace."""
    job = _session(tmp_path, "one_bronze")
    try:
        _wait_for(tmp_path / "wrote-one_bronze", [job])
        sql = subprocess.run(
            [sys.executable, "-m", "lakehouse.cli.main", "sql", "--format", "json",
             "SELECT count(*) AS n FROM one_bronze.t"],
            cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=TIMEOUT_S)
        writing = job.poll() is None
        (tmp_path / "stop-one_bronze").touch()
        ((result, err),) = _outcomes([job])
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
        derby_server.stop_server(load_settings(env={}, home=tmp_path))
    assert sql.returncode == 0, sql.stderr
    assert writing and 1 <= json.loads(sql.stdout)[0]["n"] <= result["written"]
    _no_derby_traces(sql.stderr, (tmp_path / "logs" / "lakehouse-sql.log").read_text(), err)


@pytest.mark.slow  # a Spark JVM of its own and a PostgreSQL server
def test_a_users_postgresql_is_the_metastore_as_it_is(tmp_path, postgresql):
    import psycopg

    url = postgresql.create_database("metastore_1")  # postgresql+psycopg://lakehouse@HOST:PORT/..
    postgresql.create_user("hive", "s3cret")
    jdbc = "jdbc:postgresql://" + url.split("@", 1)[1]
    job = _session(tmp_path, "pg", LAKEHOUSE_METASTORE_URL=jdbc,
                   LAKEHOUSE_METASTORE_USER="hive", LAKEHOUSE_METASTORE_PASSWORD="s3cret")
    try:
        _wait_for(tmp_path / "wrote-pg", [job])
        (tmp_path / "stop-pg").touch()
        ((result, _),) = _outcomes([job])
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    assert result["tables"] == ["t"]
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        tables = conn.execute('SELECT d."NAME", t."TBL_NAME" FROM "TBLS" t '
                              'JOIN "DBS" d ON d."DB_ID" = t."DB_ID"').fetchall()
    assert ("pg", "t") in tables  # the catalog is in PostgreSQL ...
    assert not (tmp_path / "metastore_db").exists()  # ... and no Derby was started for it
    assert not (tmp_path / derby_server.state_file(tmp_path).name).exists()


def test_metastore_settings_name_the_fix():
    with pytest.raises(ConfigError, match="LAKEHOUSE_METASTORE_URL: .*PostgreSQL or MySQL"):
        load_settings(env={"LAKEHOUSE_METASTORE_URL": "sqlite:///hive.db"})
    settings = load_settings(env={"LAKEHOUSE_METASTORE_URL": "postgresql://hive:pw@db:5432/hms"})
    conn = metastore.user_connection(settings)
    assert (conn.url, conn.driver, conn.user, conn.password) == (
        "jdbc:postgresql://db:5432/hms", "org.postgresql.Driver", "hive", "pw")
    assert "pw" not in repr(conn)
    mysql = metastore.user_connection(load_settings(env={
        "LAKEHOUSE_METASTORE_URL": "jdbc:mysql://db:3306/hms", "LAKEHOUSE_METASTORE_USER": "hive"}))
    assert (mysql.url, mysql.driver, mysql.user) == (
        "jdbc:mysql://db:3306/hms?permitMysqlScheme", "org.mariadb.jdbc.Driver", "hive")
    assert metastore.user_connection(load_settings(env={})) is None  # the home's Derby server
