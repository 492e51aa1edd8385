"""The SQL endpoint the warehouse's SQL tests connect to: on the shared Spark session, on a free
loopback port, recorded in a home of its own (where `lakehouse sql` finds it)."""

from __future__ import annotations

import pytest

ENDPOINT_PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def sql_endpoint(spark, session_settings, tmp_path_factory):
    from warehouse.sql.endpoint.server import EndpointConfig, SqlEndpoint

    home = tmp_path_factory.mktemp("endpoint-home")
    config = EndpointConfig.from_settings(session_settings, port=0, password=ENDPOINT_PASSWORD,
                                          statement_timeout=60.0, row_limit=1000,
                                          max_connections=8)
    endpoint = SqlEndpoint(spark, config).start(home)
    yield endpoint
    endpoint.close()


def connect(endpoint, **options):
    """A psycopg connection to ``endpoint`` (autocommit unless told otherwise)."""
    import psycopg

    host, port = endpoint.address
    options = {"user": "analyst", "password": ENDPOINT_PASSWORD, "dbname": "warehouse",
               "autocommit": True, "connect_timeout": 10, **options}
    return psycopg.connect(host=host, port=port, **options)
