"""Which warehouse models a load runs side by side: independent dimensions together, each fact
and view alone, after everything it reads."""

from __future__ import annotations

from pathlib import Path

from lake.config.project import load_project
from warehouse.load import _waves
from warehouse.models.catalog import load_models

RETAIL = Path(__file__).resolve().parents[2] / "examples" / "retail"


def test_independent_dimensions_share_a_wave_and_facts_come_after_them():
    catalog = load_models(load_project(RETAIL))

    waves = _waves(catalog, set(catalog.order))

    assert waves == [["dim_customer", "dim_product"], ["fact_orders"], ["revenue_by_day"]]


def test_a_lone_dimension_runs_alone_and_every_wanted_model_runs_once():
    catalog = load_models(load_project(RETAIL))

    assert _waves(catalog, {"dim_product", "fact_orders"}) == [["dim_product"], ["fact_orders"]]
    assert _waves(catalog, set()) == []
