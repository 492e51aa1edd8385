"""``lakehouse metastore status|stop``: the home's Derby server that holds the catalog.

Spark sessions start it when they need it (lake.platform.derby_server); it keeps running for the
next command. ``stop`` ends it (the catalog stays on disk; the next session starts it again)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    metastore = sub.add_parser(
        "metastore", help="status or stop of the catalog's metastore server",
        description="The catalog (Hive metastore) of LAKEHOUSE_HOME is a Derby database served "
                    "on loopback by a server that the first Spark session starts and every "
                    "later one shares (an analyst's query while a job writes). `status` shows "
                    "it; `stop` ends it, e.g. before deleting or moving the home. With "
                    "LAKEHOUSE_METASTORE_URL set (PostgreSQL, MySQL) there is no such server.")
    cmds = metastore.add_subparsers(dest="metastore_command", required=True)
    for name, helptext, func in (("status", "where the catalog is and whether its server runs",
                                  cmd_status),
                                 ("stop", "stop the home's Derby server", cmd_stop)):
        cmd = cmds.add_parser(name, help=helptext)
        cmd.add_argument("--format", choices=("text", "json"), default="text")
        cmd.set_defaults(func=func)


def cmd_status(args: argparse.Namespace) -> int:
    from lake.config.settings import load_settings
    from lake.platform import derby_server, metastore
    from lakehouse.cli.context import print_json

    settings = load_settings()
    user = metastore.user_connection(settings)
    server = None if user else derby_server.running_server(settings)
    derby_log, console_log = derby_server.log_files(settings.home)
    report = {
        "metastore": user.url.split("?")[0] if user else str(settings.home / "metastore_db"),
        "server": ({"running": True, "url": server.url, "port": server.port, "pid": server.pid}
                   if server else {"running": False}) if not user else None,
        "logs": [str(derby_log), str(console_log)] if not user else [],
    }
    if args.format == "json":
        print_json(report)
    elif user:
        print(f"metastore: {report['metastore']} (LAKEHOUSE_METASTORE_URL; no local server)")
    elif server:
        print(f"metastore: {report['metastore']}\nserver: running on {derby_server.HOST}:"
              f"{server.port} (pid {server.pid})\nlogs: {derby_log}, {console_log}")
    else:
        print(f"metastore: {report['metastore']}\nserver: not running (the next Spark session "
              "starts it)")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from lake.config.settings import load_settings
    from lake.platform import derby_server, metastore
    from lakehouse.cli.context import print_json

    settings = load_settings()
    if metastore.user_connection(settings):
        print("LAKEHOUSE_METASTORE_URL is set: the metastore is that database, no local server")
        return 0
    stopped = derby_server.stop_server(settings)
    if args.format == "json":
        print_json({"stopped": stopped is not None,
                    "pid": stopped.pid if stopped else None})
    else:
        print(f"stopped the metastore server (pid {stopped.pid})" if stopped
              else "no metastore server was running")
    return 0
