"""What a dimension's MERGE rewrites: a batch that changes a few members reads only those into
its source, touches only the files holding them, and copies no row (deletion vectors), for SCD 2
and SCD 1 snapshots alike."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from lake.platform.delta import delta_table
from tests.warehouse.builders import AT, drop_models, scenario

D0, D1, D2 = date(2026, 4, 30), date(2026, 5, 1), date(2026, 5, 2)
T0, T2 = datetime(2026, 4, 30), datetime(2026, 5, 2)
MEMBERS = {"version": 1, "columns": [
    {"name": "id", "type": "string", "nullable": False},
    {"name": "name", "type": "string"},
    {"name": "tier", "type": "string"}], "keys": ["id"]}


def _m(i: int, name: str | None = None) -> dict:
    return {"id": f"m{i:02d}", "name": name or f"member {i}", "tier": "gold"}


def _load(spark, s, name: str) -> dict[str, int]:
    """Load ``name`` and return the operationMetrics of its last commit."""
    from warehouse.load import load_warehouse

    assert load_warehouse(spark, s.catalog(), recorded_at=AT, models=(name,)).failed == {}
    last = delta_table(spark, f"warehouse.{name}").history(1).first()
    return {k: int(v) for k, v in (last["operationMetrics"] or {}).items()}


def _files(spark, table: str, where: str = "true") -> set[str]:
    return {r[0] for r in spark.sql(f"SELECT DISTINCT _metadata.file_path FROM {table} "
                                    f"WHERE {where}").collect()}


@pytest.fixture(params=[2, 1], ids=["scd2", "scd1"])
def two_files(request, spark, session_settings, tmp_path):
    """A dimension of 40 members in two files: m00-m19 from day 0, m20-m39 added on day 1."""
    s = scenario(spark, session_settings, tmp_path, "rwtest", {"members": MEMBERS})
    name = f"dim_rw_scd{request.param}"
    drop_models(spark, name)
    s.model(f"{name}.yaml", f"from: rwtest.members\nkey: [id]\nscd: {request.param}\n"
                            "tracked: [name, tier]\ninput: snapshot\ndeletes: invalidate\n")
    s.batch("members", "20260430-001", D0, [_m(i) for i in range(20)])
    s.batch("members", "20260501-001", D1, [_m(i) for i in range(40)])
    _load(spark, s, name)
    return s, name, request.param


def test_changing_two_members_touches_only_the_file_holding_them(spark, two_files):
    s, name, scd = two_files
    table = f"warehouse.{name}"
    assert len(_files(spark, table)) == 2
    holding = _files(spark, table, "id IN ('m07', 'm09')")
    assert len(holding) == 1
    other = _files(spark, table, "id = 'm30'")
    # day 2: m07 renamed, m09 gone, m40 new; the other 38 members unchanged
    day2 = [_m(i, "Seven" if i == 7 else None) for i in range(41) if i != 9]
    s.batch("members", "20260502-001", D2, day2)
    metrics = _load(spark, s, name)
    # the source is the changes, not the 40-row snapshot: SCD 2 closes m07 and opens its new
    # version, closes m09, opens m40; SCD 1 updates m07, flags m09, inserts m40
    assert metrics["numSourceRows"] == (4 if scd == 2 else 3)
    assert metrics["numTargetRowsCopied"] == 0
    assert metrics["numTargetFilesRemoved"] == 0  # marked in a deletion vector, not rewritten
    assert metrics["numTargetDeletionVectorsAdded"] == len(holding)
    assert _files(spark, table, "id = 'm30'") == other, "the other file was rewritten"
    if scd == 2:
        rows = spark.sql(f"SELECT id, name, valid_from, valid_to FROM {table} WHERE id IN "
                         "('m07', 'm09', 'm40') ORDER BY id, valid_from").collect()
        assert [tuple(r) for r in rows] == [
            ("m07", "member 7", T0, T2), ("m07", "Seven", T2, None),
            ("m09", "member 9", T0, T2), ("m40", "member 40", T2, None)]
    else:
        rows = spark.sql(f"SELECT id, name, is_deleted FROM {table} WHERE id IN "
                         "('m07', 'm09', 'm40') ORDER BY id").collect()
        assert [tuple(r) for r in rows] == [("m07", "Seven", False), ("m09", "member 9", True),
                                            ("m40", "member 40", False)]
    assert spark.table(table).count() == (42 if scd == 2 else 41)


def test_an_unchanged_snapshot_merges_nothing(spark, two_files):
    s, name, _ = two_files
    table = f"warehouse.{name}"
    before = _files(spark, table)
    s.batch("members", "20260502-001", D2, [_m(i) for i in range(40)])
    metrics = _load(spark, s, name)
    assert metrics["numSourceRows"] == 0
    assert metrics.get("numTargetFilesAdded", 0) == 0
    assert _files(spark, table) == before
