"""Shared fixtures: one test-tuned Spark session per test process, a fresh lakehouse per test."""

from __future__ import annotations

import pytest

from lake.config.settings import Settings, load_settings


@pytest.fixture(scope="session", autouse=True)
def _metastore_servers_stopped(tmp_path_factory):
    """Every Spark session starts its home's Derby metastore server (a detached JVM); at the end
    of the run, stop those of every home under this run's temporary folder (the shared
    session's, and those of `lakehouse` commands the tests ran in subprocesses)."""
    yield
    from lake.platform import derby_server

    base = tmp_path_factory.getbasetemp()
    for state in base.rglob(derby_server.state_file(base).name):
        derby_server.stop_server(load_settings(env={}, home=state.parent))


@pytest.fixture(scope="session")
def session_settings(tmp_path_factory) -> Settings:
    """Settings for the shared Spark session: its own home, metastore and storage roots."""
    home = tmp_path_factory.mktemp("lakehouse")
    return load_settings(env={}, home=home, shuffle_partitions=2, spark_master="local[2]")


@pytest.fixture(scope="session")
def spark(session_settings):
    """One Spark session (Delta, Hive catalog on the home's Derby server) for the whole test run."""
    from lake.platform.catalog import ensure_databases
    from lake.platform.session import get_session
    from warehouse.sql.endpoint.server import SPARK_CONF

    # the SQL endpoint's scheduler (FAIR) too: its tests share this session
    session = get_session(session_settings, app_name="lakehouse-tests", conf=SPARK_CONF)
    ensure_databases(session, session_settings)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def postgresql():
    """One PostgreSQL server on loopback for the whole test run (installed when missing); see
    :mod:`tests.databases`."""
    from tests.databases import DatabaseSetupError, postgres_server

    try:
        with postgres_server() as server:
            yield server
    except DatabaseSetupError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def mariadb():
    """One MariaDB server on loopback for the whole test run (installed when missing)."""
    from tests.databases import DatabaseSetupError, mariadb_server

    try:
        with mariadb_server() as server:
            yield server
    except DatabaseSetupError as err:
        pytest.fail(str(err))
