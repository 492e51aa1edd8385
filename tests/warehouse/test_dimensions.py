"""Declared dimensions against expected histories: SCD 2 from snapshots (changes, deletes under
each policy, quarantined keys that are not deletes, late and corrected snapshots), SCD 2 from
changes on a composite key, SCD 1; every load run twice to show it changes nothing the second
time."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from lake.platform.delta import table_version
from tests.warehouse.builders import AT, drop_models, scenario

D1, D2, D3 = date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 3)
T1, T2, T3 = (datetime(d.year, d.month, d.day) for d in (D1, D2, D3))
MEMBERS = {"version": 1, "columns": [
    {"name": "region", "type": "string", "nullable": False},
    {"name": "id", "type": "string", "nullable": False},
    {"name": "name", "type": "string"},
    {"name": "tier", "type": "string"}], "keys": ["region", "id"]}
HISTORY = ["region", "id", "name", "tier", "valid_from", "valid_to", "is_current", "is_deleted"]


def _m(region: str, id_: str, name: str | None, tier: str | None = "gold") -> dict:
    return {"region": region, "id": id_, "name": name, "tier": tier}


def _dimension(name: str, deletes: str, scd: int = 2) -> str:
    return (f"from: dimtest.members\nkey: [region, id]\nscd: {scd}\ntracked: [name, tier]\n"
            f"input: snapshot\ndeletes: {deletes}\n")


def _load(spark, s, models: tuple[str, ...]):
    from warehouse.load import load_warehouse

    result = load_warehouse(spark, s.catalog(), recorded_at=AT, models=models)
    assert result.failed == {}
    return result


def _history(spark, table: str):
    return spark.table(table).select(*HISTORY)


def _snapshots(s) -> None:
    """Day 1: three members. Day 2: eu/a renamed, eu/b gone, eu/c only in quarantine (a bad row
    is not a delete), us/d new. Day 3: eu/b back, eu/c changed, us/d absent but a quarantined row
    has no key, so the batch infers no deletes."""
    s.batch("members", "20260501-001", D1, [_m("eu", "a", "Ann"), _m("eu", "b", "Bob"),
                                            _m("eu", "c", "Cid")])
    s.batch("members", "20260502-001", D2, [_m("eu", "a", "Anna"), _m("us", "d", "Dee")],
            quarantined=[_m("eu", "c", "Cid", tier=None)])
    s.batch("members", "20260503-001", D3, [_m("eu", "a", "Anna"), _m("eu", "b", "Bob"),
                                            _m("eu", "c", "Cid", "silver")],
            quarantined=[_m(None, None, "???")])


@pytest.fixture
def members(spark, session_settings, tmp_path):
    s = scenario(spark, session_settings, tmp_path, "dimtest", {"members": MEMBERS})
    _snapshots(s)
    return s


def _row(region, id_, name, tier, start, end, deleted=False) -> Row:
    return Row(region=region, id=id_, name=name, tier=tier, valid_from=start, valid_to=end,
               is_current=end is None, is_deleted=deleted)


COMMON = [
    _row("eu", "a", "Ann", "gold", T1, T2), _row("eu", "a", "Anna", "gold", T2, None),
    _row("eu", "c", "Cid", "gold", T1, T3), _row("eu", "c", "Cid", "silver", T3, None),
    _row("us", "d", "Dee", "gold", T2, None),
]


@pytest.mark.parametrize(("deletes", "bob"), [
    ("invalidate", [_row("eu", "b", "Bob", "gold", T1, T2), _row("eu", "b", "Bob", "gold", T3, None)]),
    ("new_record", [_row("eu", "b", "Bob", "gold", T1, T2),
                    _row("eu", "b", "Bob", "gold", T2, T3, deleted=True),
                    _row("eu", "b", "Bob", "gold", T3, None)]),
    ("ignore", [_row("eu", "b", "Bob", "gold", T1, None)]),
])
def test_scd2_snapshots_keep_history_under_each_delete_policy(spark, members, deletes, bob):
    name = f"dim_members_{deletes}"
    drop_models(spark, name)
    members.model(f"{name}.yaml", _dimension(name, deletes))
    _load(spark, members, (name,))
    assertDataFrameEqual(_history(spark, f"warehouse.{name}"), COMMON + bob)
    version = table_version(spark, f"warehouse.{name}")
    _load(spark, members, (name,))
    assert table_version(spark, f"warehouse.{name}") == version, "a second load changed the table"
    current = spark.sql(f"SELECT region, id, count(*) AS n FROM warehouse.{name} "
                        "WHERE is_current GROUP BY region, id HAVING n > 1").collect()
    assert current == []


def test_a_late_snapshot_is_skipped_and_a_same_day_correction_fixes_that_days_version(
        spark, members):
    from warehouse.ledger import MODEL_LOADS

    name = "dim_members_late"
    drop_models(spark, name)
    members.model(f"{name}.yaml", _dimension(name, "invalidate"))
    _load(spark, members, (name,))
    members.batch("members", "20260502-002", D2, [_m("eu", "a", "Annie")])  # late: day 3 loaded
    members.batch("members", "20260503-002", D3, [_m("eu", "a", "Anne"), _m("eu", "b", "Bob"),
                                                  _m("eu", "c", "Cid", "silver")])
    _load(spark, members, (name,))
    a = spark.sql(f"SELECT name, valid_from, valid_to FROM warehouse.{name} "
                  "WHERE id = 'a' ORDER BY valid_from").collect()
    # the day-3 correction made a day-3 version; Annie (a late day-2 snapshot) never appears
    assert [tuple(r) for r in a] == [("Ann", T1, T2), ("Anna", T2, T3), ("Anne", T3, None)]
    outcomes = {r["batch_id"]: r["outcome"] for r in spark.table(MODEL_LOADS)
                .where(f"model = '{name}'").collect()}
    assert outcomes["20260502-002"].startswith("skipped: late snapshot")
    assert outcomes["20260503-002"] == "loaded"
    members.batch("members", "20260503-003", D3, [_m("eu", "a", "Anne M."), _m("eu", "b", "Bob"),
                                                  _m("eu", "c", "Cid", "silver")])
    _load(spark, members, (name,))
    a = spark.sql(f"SELECT name, valid_from, valid_to FROM warehouse.{name} "
                  "WHERE id = 'a' ORDER BY valid_from").collect()
    assert [tuple(r) for r in a] == [("Ann", T1, T2), ("Anna", T2, T3), ("Anne M.", T3, None)]


def test_scd1_overwrites_and_flags_deletes(spark, members):
    name = "dim_members_scd1"
    drop_models(spark, name)
    members.model(f"{name}.yaml", _dimension(name, "invalidate", scd=1))
    _load(spark, members, (name,))
    rows = spark.table(f"warehouse.{name}").select("region", "id", "name", "tier", "is_deleted")
    assertDataFrameEqual(rows, [
        Row(region="eu", id="a", name="Anna", tier="gold", is_deleted=False),
        Row(region="eu", id="b", name="Bob", tier="gold", is_deleted=False),
        Row(region="eu", id="c", name="Cid", tier="silver", is_deleted=False),
        Row(region="us", id="d", name="Dee", tier="gold", is_deleted=False),
    ])
    sks = spark.sql(f"SELECT id, xxhash64(region, id) = members_scd1_sk AS stable FROM "
                    f"warehouse.{name}").collect()
    assert all(r["stable"] for r in sks)


CHANGES = {"version": 1, "columns": [
    {"name": "region", "type": "string", "nullable": False},
    {"name": "id", "type": "string", "nullable": False},
    {"name": "name", "type": "string"},
    {"name": "updated_at", "type": "timestamp", "nullable": False},
    {"name": "deleted_at", "type": "timestamp"}], "keys": ["region", "id", "updated_at"]}


def _c(id_: str, name: str, at: str, deleted: str | None = None) -> dict:
    return {"region": "eu", "id": id_, "name": name, "updated_at": datetime.fromisoformat(at),
            "deleted_at": datetime.fromisoformat(deleted) if deleted else None}


@pytest.mark.parametrize(("deletes", "broadcast"), [
    ("invalidate", True), ("new_record", True), ("invalidate", False)],
    ids=["invalidate", "new_record", "invalidate-large-batch"])
def test_scd2_from_changes_orders_versions_by_changed_at(spark, session_settings, tmp_path,
                                                          monkeypatch, deletes, broadcast):
    if not broadcast:  # a batch over the broadcast size: the MERGE's source is not hinted
        monkeypatch.setattr("warehouse.dimensions.BROADCAST_ROWS", 0)
    s = scenario(spark, session_settings, tmp_path, "chgtest", {"accounts": CHANGES})
    name = f"dim_accounts_{deletes}"
    drop_models(spark, name)
    s.model(f"{name}.yaml", "from: chgtest.accounts\nkey: [region, id]\ntracked: [name]\n"
                            "input: changes\nchanged_at: updated_at\n"
                            f"deleted_when: deleted_at IS NOT NULL\ndeletes: {deletes}\n")
    # batch 1: x created then renamed in the same batch; y created; z created
    s.batch("accounts", "20260501-001", D1, [
        _c("x", "X0", "2026-05-01 08:00"), _c("x", "X1", "2026-05-01 09:00"),
        _c("y", "Y0", "2026-05-01 08:30"), _c("z", "Z0", "2026-05-01 10:00")])
    # batch 2: y deleted; x repeats its last value (no new version); a stale change of z
    # (older than its current version) is dropped; z renamed
    s.batch("accounts", "20260502-001", D2, [
        _c("y", "Y0", "2026-05-02 07:00", deleted="2026-05-02 07:00"),
        _c("x", "X1", "2026-05-02 08:00"), _c("z", "Zold", "2026-05-01 09:00"),
        _c("z", "Z1", "2026-05-02 11:00")])
    # batch 3: y re-created
    s.batch("accounts", "20260503-001", D3, [_c("y", "Y1", "2026-05-03 06:00")])
    _load(spark, s, (name,))
    at = datetime.fromisoformat
    expected = [
        Row(id="x", name="X0", valid_from=at("2026-05-01 08:00"), valid_to=at("2026-05-01 09:00"),
            is_current=False, is_deleted=False),
        Row(id="x", name="X1", valid_from=at("2026-05-01 09:00"), valid_to=None, is_current=True,
            is_deleted=False),
        Row(id="y", name="Y0", valid_from=at("2026-05-01 08:30"), valid_to=at("2026-05-02 07:00"),
            is_current=False, is_deleted=False),
        Row(id="y", name="Y1", valid_from=at("2026-05-03 06:00"), valid_to=None, is_current=True,
            is_deleted=False),
        Row(id="z", name="Z0", valid_from=at("2026-05-01 10:00"), valid_to=at("2026-05-02 11:00"),
            is_current=False, is_deleted=False),
        Row(id="z", name="Z1", valid_from=at("2026-05-02 11:00"), valid_to=None, is_current=True,
            is_deleted=False),
    ]
    if deletes == "new_record":
        expected.append(Row(id="y", name="Y0", valid_from=at("2026-05-02 07:00"),
                            valid_to=at("2026-05-03 06:00"), is_current=False, is_deleted=True))
    actual = spark.table(f"warehouse.{name}").select("id", "name", "valid_from", "valid_to",
                                                    "is_current", "is_deleted")
    assertDataFrameEqual(actual, expected)
    version = table_version(spark, f"warehouse.{name}")
    _load(spark, s, (name,))
    assert table_version(spark, f"warehouse.{name}") == version
