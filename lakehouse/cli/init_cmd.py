"""``lakehouse init DIR``: scaffold a project of declarations, with a small working example."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

PROJECT = """\
# The lakehouse project: defaults for every source and DAG.
name: {name}
description: ""
defaults:
  schedule: "@daily"          # cron or @hourly/@daily/...; a source may override it
  start_date: {today}
  timezone: UTC
  owner: data-platform
  retries: 1
"""

SOURCE = """\
# A source: where and how its data arrives. `lakehouse sources show {source}` prints what the
# platform makes of it; `lakehouse sources validate` checks it.
source: {source}
description: Example orders, one CSV file per day.
owner: you@example.com
schedule: "@daily"
deliveries:
  connector: files                    # files (a folder or s3://bucket/prefix) or jdbc
  root: "{{project}}/data/{source}"    # {{source_root}}, {{project}} and {{home}} are filled in
  layout: "ds={{ds}}/"                  # one delivery per logical date; "" = every new file
  # complete_when: {{marker: _SUCCESS}} # wait for a marker file (or {{stable_seconds: 30}})
datasets:
  orders:
    files: "orders*.csv"              # a glob in the delivery folder; several files are fine
    csv: {{delimiter: ",", header: true, encoding: utf-8}}
"""

CONTRACT = """\
# The contract of {source}.orders: columns, keys and rules every valid row meets. Rows that
# break a rule go to {source}_quarantine.orders with the rules they broke; the rest to
# {source}_silver.orders. `lakehouse contract infer {source}.orders` proposes one from files.
dataset: orders
version: 1
changelog:
  - {{version: 1, date: {today}, reason: first contract}}
evolution: rescue                     # add_columns | rescue | fail, for new or changed columns
columns:
  - {{name: order_id, type: string, nullable: false}}
  - {{name: customer, type: string, nullable: false}}
  - {{name: amount, type: "decimal(10,2)", nullable: false, min: 0}}
  - {{name: ordered_at, type: timestamp, nullable: false}}
keys: [order_id]
"""

VIEW = """\
/* description: Orders and revenue per day (a plain SQL view over silver). */
SELECT to_date(ordered_at) AS day, count(*) AS orders, sum(amount) AS revenue
FROM {source}_silver.orders
GROUP BY to_date(ordered_at)
"""

SAMPLE = """\
order_id,customer,amount,ordered_at
O-1,ann,12.50,{today} 09:12:00
O-2,bob,7.00,{today} 10:40:00
O-3,ann,-3.00,{today} 11:05:00
O-4,cid,not a number,{today} 12:30:00
"""

README = """\
# {name}

A lakehouse project: declarations only, no Python.

| path | what |
|---|---|
| `lakehouse.yaml` | project name and defaults |
| `sources/<source>/source.yaml` | how a source's data arrives and its datasets |
| `sources/<source>/contracts/<dataset>.yaml` | each dataset's contract |
| `warehouse/<dimension>.yaml` | SCD dimensions (`from`, `key`, `tracked`, `scd`, `input`, `deletes`) |
| `warehouse/<fact>.sql` | facts: a SELECT with a header (`grain`, `event_time`, `lookups`) |
| `warehouse/views/<view>.sql` | views and marts |
| `data/` | the example source's deliveries (your sources point anywhere) |

```bash
export LAKEHOUSE_PROJECT=$PWD
lakehouse sources validate
lakehouse run {source} --ds {today}
lakehouse status
lakehouse sql "SELECT * FROM warehouse.orders_per_day"
```
"""


def add_parser(sub: Any) -> None:
    init = sub.add_parser(
        "init", help="create a project of declarations",
        description="Create DIR as a lakehouse project: lakehouse.yaml, one example source with "
                    "a contract and a sample delivery, and a warehouse view. Point "
                    "LAKEHOUSE_PROJECT at it (or run commands inside it), then replace the "
                    "example with your sources.",
        epilog="example:\n  lakehouse init my-lakehouse && cd my-lakehouse && "
               "lakehouse sources validate",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    init.add_argument("dir", type=Path, help="the project folder to create")
    init.add_argument("--source", default="example", help="name of the example source")
    init.add_argument("--no-sample", dest="sample", action="store_false",
                      help="do not write the example's sample delivery under data/")
    init.set_defaults(func=cmd_init)


def scaffold(root: Path, source: str = "example", sample: bool = True,
             today: date | None = None) -> list[Path]:
    """Write the project files under ``root`` (which must not hold a project yet)."""
    from lake.config.project import PROJECT_FILE, check_name
    from lake.errors import ConfigError

    try:
        check_name(source, "source")
    except ValueError as err:
        raise ConfigError(f"--source: {err}") from err
    if (root / PROJECT_FILE).exists():
        raise ConfigError(f"{root} already holds a project ({PROJECT_FILE}); choose a new folder")
    day = (today or date.today()).isoformat()
    name = root.name or "lakehouse"
    files = {
        root / PROJECT_FILE: PROJECT.format(name=name, today=day),
        root / "README.md": README.format(name=name, source=source, today=day),
        root / "sources" / source / "source.yaml": SOURCE.format(source=source),
        root / "sources" / source / "contracts" / "orders.yaml":
            CONTRACT.format(source=source, today=day),
        root / "warehouse" / "views" / "orders_per_day.sql": VIEW.format(source=source),
    }
    if sample:
        files[root / "data" / source / f"ds={day}" / "orders.csv"] = SAMPLE.format(today=day)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(files)


def cmd_init(args: argparse.Namespace) -> int:
    written = scaffold(args.dir, args.source, args.sample)
    root = args.dir.absolute()
    print(f"created the project {root}:")
    for path in written:
        print(f"  {path.relative_to(args.dir)}")
    print(f"\nnext:\n  export LAKEHOUSE_PROJECT={root}\n  lakehouse sources validate\n"
          f"  lakehouse run {args.source} --ds {date.today().isoformat()}\n  lakehouse status")
    return 0
