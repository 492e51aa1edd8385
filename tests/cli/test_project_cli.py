"""The commands a new user tries first, on a project made by `lakehouse init`: it validates,
lists and shows its source, writes its DAG files, and refuses bad input with a clear message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakehouse.cli.init_cmd import scaffold
from lakehouse.cli.main import main


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "my-lakehouse"
    assert main(["init", str(root)]) == 0
    monkeypatch.setenv("LAKEHOUSE_PROJECT", str(root))
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    return root


def test_init_writes_a_valid_project_with_a_sample_delivery(project, capsys):
    capsys.readouterr()
    assert main(["sources", "validate", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"project": str(project), "sources": ["example"],
                      "models": ["orders_per_day"], "problems": [], "ok": True}
    samples = list((project / "data" / "example").glob("ds=*/orders.csv"))
    assert len(samples) == 1 and "O-1,ann,12.50" in samples[0].read_text()


def test_sources_list_and_show(project, capsys):
    capsys.readouterr()
    assert main(["sources", "list", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["source"], row["connector"], row["datasets"], row["status"]) == (
        "example", "files", "orders", "ok")
    assert main(["sources", "show", "example", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    orders = shown["datasets"]["orders"]
    assert orders["tables"] == {"bronze": "example_bronze.orders",
                                "silver": "example_silver.orders",
                                "quarantine": "example_quarantine.orders"}
    assert [c["name"] for c in orders["columns"]] == ["order_id", "customer", "amount",
                                                      "ordered_at"]
    assert shown["dag"] == "ingest_example" and shown["deliveries"]["layout"] == "ds={ds}/"
    assert main(["sources", "show", "example"]) == 0
    text = capsys.readouterr().out
    assert "orders: orders*.csv (csv)" in text and "example_silver.orders" in text


def test_dag_files_are_written_and_listed(project, tmp_path, capsys):
    capsys.readouterr()
    assert main(["dags", "sync", "--format", "json"]) == 0
    synced = json.loads(capsys.readouterr().out)
    assert synced["files"] == ["ingest_example.py", "lakehouse_maintenance.py", "warehouse.py"]
    assert synced["folder"] == str(tmp_path / "home" / "airflow" / "dags")
    assert main(["dags", "list", "--format", "json"]) == 0
    listed = {r["dag"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(listed) == {"ingest_example", "warehouse", "lakehouse_maintenance"}
    assert listed["ingest_example"]["tasks"] == 3


def test_a_broken_source_is_reported_with_its_file_and_fix(project, capsys):
    source = project / "sources" / "example" / "source.yaml"
    source.write_text(source.read_text().replace("files: \"orders*.csv\"", "file: orders.csv"))
    capsys.readouterr()
    assert main(["sources", "validate"]) == 1
    out = capsys.readouterr().out
    assert ("error: sources/example/source.yaml: datasets.orders.files (line 13): required; add "
            "it; datasets.orders.file (line 14): unknown key; did you mean 'files'?") in out
    assert out.rstrip().endswith("1 problem(s)")
    assert main(["sources", "list"]) == 1
    assert main(["run", "example", "--ds", "2026-01-01"]) == 2
    assert "lakehouse run: sources/example/source.yaml: datasets.orders.file" in \
        capsys.readouterr().err


def test_unknown_names_and_bad_dates_are_refused_before_anything_runs(project, capsys):
    capsys.readouterr()
    assert main(["run", "nosuch"]) == 2
    assert "no source 'nosuch' in" in capsys.readouterr().err
    assert main(["backfill", "example", "--from", "2026-02-02", "--to", "2026-02-01"]) == 2
    assert "give a range of 1 to 3660 days, --from first" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "example", "--ds", "yesterday"])
    assert main(["init", str(project)]) == 2
    assert "already holds a project" in capsys.readouterr().err


def test_init_refuses_a_bad_source_name(tmp_path):
    from lake.errors import ConfigError

    with pytest.raises(ConfigError, match="--source: source name 'My Shop' must be lower-case"):
        scaffold(tmp_path / "p", "My Shop")
