"""Two examples' sources in one project: the retail file drop, and the crm database (JDBC) with
its usage feed. Both run day 1; then day 2 of crm alone leaves every retail table at its Delta
version, and day 2 of retail alone leaves every crm and usage table at its version. Both have an
``orders`` dataset: their tables, landing folders and meta rows are the source's own.

The sources are the examples' own declarations, renamed ``iso_retail``, ``iso_crm`` and
``iso_usage``: this session's other modules run ``retail``, ``crm`` and ``usage`` (see
:mod:`tests.examples.lakes`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from examples.crm.generator.database import apply_day, conninfo
from examples.crm.generator.history import EPOCH
from examples.crm.generator.usage import write_usage
from examples.retail.generator.source import generate_drop
from lake.config.sources import resolve_dataset
from lake.errors import ConfigError
from lake.platform.catalog import ZONES
from lake.platform.delta import table_location
from tests.examples.lakes import ExampleLake, claim, copy_example, days, release

pytestmark = pytest.mark.slow

DAY1, DAY2 = days(EPOCH, 2)
RETAIL, CRM, USAGE = "iso_retail", "iso_crm", "iso_usage"
SOURCES = (RETAIL, CRM, USAGE)
MODELS = ("dim_customer", "dim_product", "fact_orders", "revenue_by_day", "dim_account",
          "fact_usage", "usage_by_plan")
GROUPS = {"retail": ((RETAIL,), ("dim_customer", "dim_product", "fact_orders")),
          "crm": ((CRM, USAGE), ("dim_account", "fact_usage"))}


@dataclass
class Runs:
    """The project's lake, and every table's Delta version by group (retail, crm) after each
    step: ``day1`` (both ran day 1), ``crm2`` (then crm and usage ran day 2),
    ``retail2`` (then retail ran day 2)."""

    lake: ExampleLake
    versions: dict[str, dict[str, dict[str, int | None]]]


@pytest.fixture(scope="module")
def runs(spark, session_settings, postgresql, tmp_path_factory):
    claim(spark, SOURCES, MODELS)
    folder = tmp_path_factory.mktemp("two_sources")
    project = folder / "project"
    copy_example("retail", project, {"retail": RETAIL})
    copy_example("crm", project, {"crm": CRM, "usage": USAGE})
    url = postgresql.create_database(f"crm_isolated_{uuid.uuid4().hex[:8]}")
    lake = ExampleLake.create(spark, session_settings, project, folder, {"crm": conninfo(url)})

    def retail(day):
        generate_drop(lake.source_root(RETAIL) / f"ds={day}", day)
        assert lake.run_source(RETAIL, day)

    def crm(day):
        apply_day(url, day)
        write_usage(lake.source_root(USAGE) / f"ds={day}", day)
        assert lake.run_source(CRM, day)
        assert lake.run_source(USAGE, day)

    versions = {}
    for step, runs_of_step, day in (("day1", (retail, crm), DAY1), ("crm2", (crm,), DAY2),
                                    ("retail2", (retail,), DAY2)):
        for run_source in runs_of_step:
            run_source(day)
        lake.load_warehouse(day)
        versions[step] = {group: lake.versions(group_tables(lake, group)) for group in GROUPS}
    yield Runs(lake, versions)
    release(spark, SOURCES, MODELS)


def group_tables(lake: ExampleLake, group: str) -> list[str]:
    sources, models = GROUPS[group]
    return lake.tables(sources) + [f"warehouse.{m}" for m in models]


def changed(before: dict, after: dict) -> set[str]:
    return {t for t in before if after[t] != before[t]}


def test_day_1_wrote_every_table_of_both(runs):
    for group in GROUPS:
        versions = runs.versions["day1"][group]
        assert {t.split(".")[0] for t in versions} == {
            f"{s}_{z}" for s in GROUPS[group][0] for z in ZONES} | {"warehouse"}
        assert None not in versions.values()


def test_crm_day_2_leaves_every_retail_table_at_its_version(runs):
    assert runs.versions["crm2"]["retail"] == runs.versions["day1"]["retail"]
    assert {f"{CRM}_silver.accounts", f"{USAGE}_silver.events", "warehouse.dim_account",
            "warehouse.fact_usage"} <= changed(runs.versions["day1"]["crm"],
                                               runs.versions["crm2"]["crm"])


def test_retail_day_2_leaves_every_crm_and_usage_table_at_its_version(runs):
    assert runs.versions["retail2"]["crm"] == runs.versions["crm2"]["crm"]
    assert {f"{RETAIL}_silver.orders", "warehouse.fact_orders"} <= changed(
        runs.versions["crm2"]["retail"], runs.versions["retail2"]["retail"])


def test_two_sources_each_have_their_own_orders(runs, spark):
    project, landing = runs.lake.project, Path(runs.lake.settings.landing_root)
    assert resolve_dataset(project, f"{CRM}.orders") == (CRM, "orders")
    assert resolve_dataset(project, f"{RETAIL}_silver.orders") == (RETAIL, "orders")
    with pytest.raises(ConfigError, match="several sources have a dataset 'orders'"):
        resolve_dataset(project, "orders")
    retail, crm = spark.table(f"{RETAIL}_silver.orders"), spark.table(f"{CRM}_silver.orders")
    assert retail.schema["order_id"].dataType.simpleString() == "string"
    assert crm.schema["order_id"].dataType.simpleString() == "bigint"
    assert retail.count() > 0 and crm.count() > 0
    assert table_location(spark, f"{RETAIL}_silver.orders") != table_location(
        spark, f"{CRM}_silver.orders")
    assert (landing / RETAIL / "orders").is_dir() and (landing / CRM / "orders").is_dir()
    counted = spark.sql(f"SELECT source, collect_set(_batch_id) AS b FROM meta.batch_counts "
                        f"WHERE dataset = 'orders' AND source IN ('{RETAIL}', '{CRM}') "
                        "GROUP BY source").collect()
    # the CRM's first order is placed on day 2; the shop has orders every day
    assert sorted((r["source"], sorted(r["b"])) for r in counted) == [
        (CRM, ["20260102-001"]), (RETAIL, ["20260101-001", "20260102-001"])]
