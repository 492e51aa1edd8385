"""Contracts: typed YAML with errors that name the file, key and fix; rules per environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from lake.config.project import load_project
from lake.config.sources import source_of
from lake.contracts.reading import load_contract, parse_contract
from lake.contracts.rules.registry import rule_names, rules
from lake.errors import ConfigError

RETAIL = Path(__file__).resolve().parents[2] / "examples" / "retail"
ORDERS = source_of(load_project(RETAIL), "retail").contracts["orders"]
KNOWN_KEYS = ("changelog, columns, custom_rules, dataset, default_environment, description, "
              "environments, evolution, keys, min_rows, references, rules, source, version")


def _minimal(**extra) -> dict:
    return {"dataset": "d",
            "columns": [{"name": "id", "type": "string", "nullable": False},
                        {"name": "n", "type": "int", "min": 0}], **extra}


@pytest.mark.parametrize(("extra", "message"), [
    ({"colums": []}, f"colums: unknown key; did you mean 'columns'? known keys: {KNOWN_KEYS}"),
    # the format and the file are declared per dataset in source.yaml, not in the contract
    ({"format": "csv"}, f"format: unknown key; known keys: {KNOWN_KEYS}"),
    ({"evolution": "merge"}, "evolution: Input should be 'add_columns', 'rescue' or 'fail'"),
    ({"rules": {"range:m": {"severity": "warn"}}},
     "rules: ['range:m'] are not rules of this contract; its rules are ['duplicate', "
     "'malformed_record', 'not_null:id', 'range:n', 'type:n']"),
    ({"rules": {"range:n": {"severity": "stop"}}},
     "rules.range:n.severity: Input should be 'warn', 'quarantine' or 'fail'"),
    ({"rules": {"range:n": {"mostly": 1.5}}},
     "rules.range:n.mostly: Input should be less than or equal to 1"),
    ({"environments": ["A"], "default_environment": "B"},
     "default_environment 'B' is not one of environments ['A']"),
    ({"version": 2, "changelog": [{"version": 1, "date": "2026-01-01", "reason": "x"}]},
     "changelog ends at version 1 but version is 2; add a changelog entry for version 2"),
    ({"keys": ["nope"]}, "key 'nope' is not a declared column; declared: ['id', 'n']"),
    ({"source": "other"}, "source: says 'other' but the contract belongs to source 's'; remove "
                          "the key or make them equal"),
])
def test_a_bad_contract_names_the_key_and_the_fix(extra, message):
    with pytest.raises(ConfigError, match=re.escape(f"contracts/d.yaml: {message}") + "$"):
        parse_contract(_minimal(**extra), "contracts/d.yaml", source="s")


def test_a_contract_file_error_names_the_line_of_the_key(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("dataset: d\ncolumns:\n  - {name: id, type: string}\nevolution: merge\n"
                    "kyes: [id]\n")
    with pytest.raises(ConfigError, match=re.escape(
            f"{path}: evolution (line 4): Input should be 'add_columns', 'rescue' or 'fail'; "
            f"kyes (line 5): unknown key; did you mean 'keys'? known keys: {KNOWN_KEYS}") + "$"):
        load_contract(path, "s")


def test_column_environments_must_be_declared(tmp_path):
    data = _minimal(environments=["TRAINING", "SERVING"])
    data["columns"][1]["environments"] = ["TRAIN"]
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=re.escape(
            f"{path}: column n names environments ['TRAIN']; declared environments are "
            "['TRAINING', 'SERVING']") + "$"):
        load_contract(path, "s")


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
                                                      "severity": "fail"}]), "x",
                              source="s")
    by_name = {r.name: r for r in rules(contract)}
    assert (by_name["range:n"].severity, by_name["range:n"].mostly) == ("warn", 0.9)
    assert not by_name["range:n"].quarantines
    assert (by_name["custom:small"].severity, by_name["custom:small"].expr) == ("fail", "n < 10")
    assert by_name["not_null:id"].severity == "quarantine"


def test_yaml_round_trip_keeps_the_fingerprint():
    data = yaml.safe_load(ORDERS.to_yaml())
    assert "source" not in data  # the file format: the source is the contract's folder
    again = parse_contract(data, "round trip", source="retail")
    assert again == ORDERS
    assert again.fingerprint() == ORDERS.fingerprint()
    changed = ORDERS.model_copy(update={"min_rows": 1})
    assert changed.fingerprint() != ORDERS.fingerprint()
    # the changelog is history, not content
    assert ORDERS.model_copy(update={"changelog": ()}).fingerprint() == ORDERS.fingerprint()
