"""Environments: a serving feed without the label passes; a training extract without it fails."""

from __future__ import annotations

from datetime import date

import pytest

from lake.errors import ConfigError
from tests.lake.conftest import contract, drop_tables, ndjson, zone

DAY = date(2026, 4, 1)
COLUMNS = [{"name": "id", "type": "string", "nullable": False},
           {"name": "amount", "type": "double", "nullable": False, "min": 0},
           {"name": "label", "type": "boolean", "nullable": False, "environments": ["TRAINING"]}]


def _lake_contract(name: str):
    return contract(name, COLUMNS, environments=["TRAINING", "SERVING"],
                    default_environment="TRAINING")


def _feed(n: int) -> str:  # no label: what a serving feed sends
    return ndjson(*({"id": f"x{i}", "amount": float(i)} for i in range(n)))


@pytest.mark.parametrize(("environment", "valid", "anomalies"), [
    ("SERVING", 4, []),
    ("TRAINING", 0, [("missing_column", "label")]),
])
def test_the_label_is_required_only_where_the_contract_expects_it(
        spark, mini_lake, environment, valid, anomalies):
    name = f"env_{environment.lower()}"
    drop_tables(spark, name)
    c = _lake_contract(name)
    mini_lake.land(c, DAY, _feed(4))
    mini_lake.ingest({name: c}, DAY, environment=environment)
    result = mini_lake.validate({name: c}, DAY, environment=environment)[name]
    assert result.environment == environment
    assert result.counts.rows_valid == valid
    assert result.counts.rows_in == 4 == result.counts.rows_valid + result.counts.rows_quarantined
    assert [(a.type, a.column) for a in result.anomalies] == anomalies
    if environment == "TRAINING":
        assert result.counts.by_rule["not_null:label"] == 4
        assert not next(o for o in result.expectations.outcomes
                        if o.rule == "not_null:label").success
    else:
        assert "not_null:label" not in result.counts.by_rule
    # the silver table takes both kinds of batch: the label column is nullable there
    assert spark.table(zone(name, "silver")).count() == valid


def test_an_undeclared_environment_is_refused_by_name(spark, mini_lake):
    name = "env_unknown"
    c = _lake_contract(name)
    mini_lake.land(c, DAY, _feed(1))
    with pytest.raises(ConfigError, match=r"environment 'STAGING' is not declared by any contract "
                                          r"of this source; declared environments: SERVING, "
                                          r"TRAINING"):
        mini_lake.ingest({name: c}, DAY, environment="STAGING")
