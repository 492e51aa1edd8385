"""A TPC-H-lineitem-like CSV for the bulk ingest benchmark, and its contract as a project.

16 columns (keys, integers, decimals, dates, flags and free text), about 125 bytes a row, so 6M
rows are about 750 MB, like TPC-H's lineitem at scale factor 1. One row in :data:`DIRT_EVERY`
carries a quantity that is not a number and one a ship date that is not a date, so the bronze
run has values to rescue and validation has rows to quarantine. Generated with numpy and
pyarrow in chunks (no Spark), deterministic for a seed.
"""

from __future__ import annotations

from pathlib import Path

import yaml

DIRT_EVERY = 10_007
COLUMNS = [
    {"name": "l_orderkey", "type": "bigint", "nullable": False},
    {"name": "l_partkey", "type": "int", "nullable": False},
    {"name": "l_suppkey", "type": "int", "nullable": False},
    {"name": "l_linenumber", "type": "int", "nullable": False, "min": 1, "max": 7},
    {"name": "l_quantity", "type": "int", "nullable": False, "min": 1, "max": 50},
    {"name": "l_extendedprice", "type": "decimal(12,2)", "nullable": False, "min": 0},
    {"name": "l_discount", "type": "decimal(4,2)", "nullable": False, "min": 0, "max": 0.1},
    {"name": "l_tax", "type": "decimal(4,2)", "nullable": False, "min": 0, "max": 0.08},
    {"name": "l_returnflag", "type": "string", "nullable": False, "accepted_values": ["A", "N", "R"]},
    {"name": "l_linestatus", "type": "string", "nullable": False, "accepted_values": ["F", "O"]},
    {"name": "l_shipdate", "type": "date", "nullable": False},
    {"name": "l_commitdate", "type": "date", "nullable": False},
    {"name": "l_receiptdate", "type": "date", "nullable": False},
    {"name": "l_shipinstruct", "type": "string", "nullable": False},
    {"name": "l_shipmode", "type": "string", "nullable": False},
    {"name": "l_comment", "type": "string", "nullable": True},
]
SPARK_TYPES = {c["name"]: c["type"] for c in COLUMNS}
_WORDS = ("furiously sly final ironic regular express pending bold quick careful blithely even "
          "slyly deposits requests packages accounts instructions theodolites pinto beans foxes "
          "ideas dependencies excuses platelets asymptotes courts dolphins multipliers sauternes "
          "warthogs frets dinos attainments somas tithes").split()
_INSTRUCT = ("DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN")
_MODES = ("REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB")


def write_lineitem(path: Path, rows: int, seed: int = 7, chunk: int = 500_000) -> Path:
    """Write ``rows`` lineitem-like rows with a header to ``path`` (CSV, UTF-8)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv

    rng = np.random.default_rng(seed)
    comments = pa.array([" ".join(rng.choice(_WORDS, size=rng.integers(2, 7)))
                         for _ in range(20_000)])
    instruct, modes = pa.array(_INSTRUCT), pa.array(_MODES)
    flags, status = pa.array(["A", "N", "R"]), pa.array(["F", "O"])
    epoch_1992 = 8036  # days from 1970-01-01 to 1992-01-01
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    writer = None
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        i = np.arange(start, start + n, dtype=np.int64)
        qty = rng.integers(1, 51, n)
        price = rng.integers(90_000, 200_000, n)
        ship = epoch_1992 + rng.integers(0, 2_500, n)
        dirty_qty = (i % DIRT_EVERY) == 1
        dirty_ship = (i % DIRT_EVERY) == 2
        quantity = pc.if_else(pa.array(dirty_qty), pa.scalar("n/a"),
                              pa.array(qty).cast(pa.string()))
        shipdate = pc.if_else(pa.array(dirty_ship), pa.scalar("1996-02-30"),
                              pa.array(ship.astype("int32"), pa.date32()).cast(pa.string()))
        table = pa.table({
            "l_orderkey": pa.array(i // 4 * 3 + 1),
            "l_partkey": pa.array(rng.integers(1, 200_001, n).astype("int32")),
            "l_suppkey": pa.array(rng.integers(1, 10_001, n).astype("int32")),
            "l_linenumber": pa.array((i % 4 + 1).astype("int32")),
            "l_quantity": quantity,
            "l_extendedprice": pa.array(qty * price / 100.0).cast(pa.decimal128(12, 2)),
            "l_discount": pa.array(rng.integers(0, 11, n) / 100.0).cast(pa.decimal128(4, 2)),
            "l_tax": pa.array(rng.integers(0, 9, n) / 100.0).cast(pa.decimal128(4, 2)),
            "l_returnflag": flags.take(pa.array(rng.integers(0, 3, n))),
            "l_linestatus": status.take(pa.array(rng.integers(0, 2, n))),
            "l_shipdate": shipdate,
            "l_commitdate": pa.array((ship + rng.integers(-30, 31, n)).astype("int32"),
                                     pa.date32()),
            "l_receiptdate": pa.array((ship + rng.integers(1, 31, n)).astype("int32"),
                                      pa.date32()),
            "l_shipinstruct": instruct.take(pa.array(rng.integers(0, 4, n))),
            "l_shipmode": modes.take(pa.array(rng.integers(0, 7, n))),
            "l_comment": comments.take(pa.array(rng.integers(0, len(comments), n))),
        })
        if writer is None:
            writer = csv.CSVWriter(str(tmp), table.schema,
                                   write_options=csv.WriteOptions(quoting_style="needed"))
        writer.write_table(table)
    if writer is not None:
        writer.close()
    tmp.rename(path)
    return path


def declare_project(root: Path, source: str, source_root: Path) -> Path:
    """A project folder declaring ``source`` with one CSV dataset ``lineitem`` (files under
    ``source_root/<source>/ds=<date>/``); its path."""
    project = root / "project"
    folder = project / "sources" / source
    (folder / "contracts").mkdir(parents=True, exist_ok=True)
    (project / "lakehouse.yaml").write_text("name: bench\n")
    (folder / "source.yaml").write_text(yaml.safe_dump({
        "source": source,
        "deliveries": {"connector": "files", "root": f"{source_root}/{source}",
                       "layout": "ds={ds}/"},
        "datasets": {"lineitem": {"files": "lineitem*.csv",
                                  "csv": {"delimiter": ",", "header": True}}},
    }, sort_keys=False))
    (folder / "contracts" / "lineitem.yaml").write_text(yaml.safe_dump({
        "dataset": "lineitem", "version": 1,
        "changelog": [{"version": 1, "date": "2026-01-01", "reason": "bulk ingest benchmark"}],
        "evolution": "add_columns", "columns": COLUMNS, "keys": ["l_orderkey", "l_linenumber"],
    }, sort_keys=False))
    return project
