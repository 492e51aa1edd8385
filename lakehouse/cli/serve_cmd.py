"""``lakehouse serve sql``: the warm SQL endpoint for BI tools, notebooks and ``lakehouse sql``."""

from __future__ import annotations

import argparse
import signal
from typing import Any


def add_parser(sub: Any) -> None:
    serve = sub.add_parser("serve", help="serve the warehouse to SQL clients",
                           description="Long-running services of the platform.")
    what = serve.add_subparsers(dest="service", required=True, metavar="SERVICE")
    sql = what.add_parser(
        "sql", help="a warm SQL endpoint speaking PostgreSQL's wire protocol",
        description="Keep one Spark application up and answer read-only queries over "
                    "PostgreSQL's wire protocol: psql, psycopg, JDBC/ODBC and BI tools connect "
                    "with their PostgreSQL driver. Every query passes the same read-only checks "
                    "as `lakehouse sql` (which uses this endpoint while it runs). Clients log in "
                    "with LAKEHOUSE_SQL_ENDPOINT_USER and LAKEHOUSE_SQL_ENDPOINT_PASSWORD "
                    "(SCRAM-SHA-256); without a password setting one is generated and kept in "
                    "<home>/sql-endpoint.json, readable only by you. Queries are in "
                    "LAKEHOUSE_SQL_ENDPOINT_DIALECT (default postgres; a client may SET "
                    "lakehouse.dialect), return at most LAKEHOUSE_SQL_ENDPOINT_ROW_LIMIT rows and "
                    "run at most LAKEHOUSE_SQL_STATEMENT_TIMEOUT seconds; a client's cancel "
                    "request stops its query. Ctrl-C stops the endpoint.",
        epilog="example: lakehouse serve sql --port 15432 &  "
               "psql 'postgresql://analyst@127.0.0.1:15432/warehouse' -c 'SHOW TABLES'")
    sql.add_argument("--host", default=None,
                     help="address to listen on (default: LAKEHOUSE_SQL_ENDPOINT_HOST, "
                          "127.0.0.1; 0.0.0.0 opens it to the network)")
    sql.add_argument("--port", type=int, default=None,
                     help="TCP port (default: LAKEHOUSE_SQL_ENDPOINT_PORT, 15432; 0: any free)")
    sql.add_argument("--format", choices=("text", "json"), default="text",
                     help="how to announce the endpoint once it listens")
    sql.set_defaults(func=cmd_serve_sql)


def cmd_serve_sql(args: argparse.Namespace) -> int:
    from lake.config.settings import load_settings
    from lake.platform.catalog import ensure_databases
    from lakehouse.cli.context import analyst_spark, print_json, progress
    from warehouse.sql.endpoint.server import SPARK_CONF, EndpointConfig, SqlEndpoint

    settings = load_settings()
    config = EndpointConfig.from_settings(settings, host=args.host, port=args.port)
    progress("starting Spark ...")
    spark = analyst_spark(settings, "sql-endpoint", conf=SPARK_CONF)
    ensure_databases(spark, settings)
    endpoint = SqlEndpoint(spark, config).start(settings.home)
    host, port = endpoint.address
    url = f"postgresql://{config.user}@{host}:{port}/{config.database}"
    secret = (f"the password is in {settings.home / 'sql-endpoint.json'} (set "
              "LAKEHOUSE_SQL_ENDPOINT_PASSWORD to choose one)" if endpoint.generated_password
              else "password: LAKEHOUSE_SQL_ENDPOINT_PASSWORD")
    if args.format == "json":
        print_json({"url": url, "host": host, "port": port, "user": config.user,
                    "database": config.database, "dialect": config.dialect,
                    "state_file": str(settings.home / "sql-endpoint.json")})
    else:
        print(f"SQL endpoint ready: {url} ({secret}); queries in {config.dialect} SQL, at most "
              f"{config.row_limit:,} rows and {config.statement_timeout:g} s each; Ctrl-C stops "
              "it", flush=True)

    def stop(signum: int, frame: Any) -> None:
        import threading

        threading.Thread(target=endpoint.close, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    endpoint.wait()
    progress("SQL endpoint stopped")
    return 0
