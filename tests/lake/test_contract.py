"""Contracts: typed YAML with errors that name the file, key and fix; rules per environment."""

from __future__ import annotations

import re

import pytest
import yaml

from lake.contract import load_contract, parse_contract, source_contracts
from lake.errors import ConfigError
from lake.rules import rule_names, rules

ORDERS = source_contracts("retail")["orders"]


def _minimal(**extra) -> dict:
    return {"dataset": "d", "source": "s", "format": "csv", "file": "d.csv",
            "columns": [{"name": "id", "type": "string", "nullable": False},
                        {"name": "n", "type": "int", "min": 0}], **extra}


@pytest.mark.parametrize(("extra", "message"), [
    ({"colums": []}, r"colums: Extra inputs are not permitted"),
    ({"evolution": "merge"}, r"evolution: Input should be 'add_columns', 'rescue' or 'fail'"),
    ({"rules": {"range:m": {"severity": "warn"}}},
     r"rules \['range:m'\] are not rules of this contract; its rules are \[.*'range:n'"),
    ({"rules": {"range:n": {"severity": "stop"}}},
     r"rules.range:n.severity: Input should be 'warn', 'quarantine' or 'fail'"),
    ({"rules": {"range:n": {"mostly": 1.5}}}, r"rules.range:n.mostly: Input should be less than"),
    ({"environments": ["A"], "default_environment": "B"},
     r"default_environment 'B' is not one of environments \['A'\]"),
    ({"version": 2, "changelog": [{"version": 1, "date": "2026-01-01", "reason": "x"}]},
     r"changelog ends at version 1 but version is 2; add a changelog entry for version 2"),
    ({"keys": ["nope"]}, r"key 'nope' is not a declared column"),
])
def test_a_bad_contract_names_the_key_and_the_fix(extra, message):
    with pytest.raises(ConfigError, match=r"^contracts/d.yaml: invalid contract: .*" + message):
        parse_contract(_minimal(**extra), "contracts/d.yaml")


def test_column_environments_must_be_declared(tmp_path):
    data = _minimal(environments=["TRAINING", "SERVING"])
    data["columns"][1]["environments"] = ["TRAIN"]
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=re.escape(
            f"{path}: invalid contract: (top level): Value error, column n names environments "
            "['TRAIN']; declared environments are ['TRAINING', 'SERVING']")):
        load_contract(path)


def test_a_column_absent_from_an_environment_has_no_rules_there():
    training = {r.name for r in rules(ORDERS, "TRAINING")}
    serving = {r.name for r in rules(ORDERS, "SERVING")}
    assert {"not_null:returned", "type:returned"} <= training
    assert training - serving == {"not_null:returned", "type:returned"}
    assert ORDERS.environment == "TRAINING"
    assert set(rule_names(ORDERS)) >= training | serving
    with pytest.raises(ConfigError, match=r"environment 'LIVE' is not declared by contract "
                                          r"retail.orders; declared: TRAINING, SERVING"):
        ORDERS.check_environment("LIVE")


def test_severity_and_mostly_come_from_the_contract():
    contract = parse_contract(_minimal(rules={"range:n": {"severity": "warn", "mostly": 0.9}},
                                       custom_rules=[{"name": "small", "expr": "n < 10",
                                                      "severity": "fail"}]), "x")
    by_name = {r.name: r for r in rules(contract)}
    assert (by_name["range:n"].severity, by_name["range:n"].mostly) == ("warn", 0.9)
    assert not by_name["range:n"].quarantines
    assert (by_name["custom:small"].severity, by_name["custom:small"].expr) == ("fail", "n < 10")
    assert by_name["not_null:id"].severity == "quarantine"


def test_yaml_round_trip_keeps_the_fingerprint():
    again = parse_contract(yaml.safe_load(ORDERS.to_yaml()), "round trip")
    assert again == ORDERS
    assert again.fingerprint() == ORDERS.fingerprint()
    changed = ORDERS.model_copy(update={"min_rows": 1})
    assert changed.fingerprint() != ORDERS.fingerprint()
    # the changelog is history, not content
    assert ORDERS.model_copy(update={"changelog": ()}).fingerprint() == ORDERS.fingerprint()
