"""Data Docs built once for several validations, from a GX project opened once per process."""

from __future__ import annotations

import pytest

from lake.quality import gx_project
from lake.quality.expectations import ExpectationSpec, update_data_docs, validate_dataframe

SPECS = [ExpectationSpec("not_null", column="a"), ExpectationSpec("between", column="a",
                                                                  min_value=0, max_value=5)]


@pytest.fixture
def df(spark):
    return spark.createDataFrame([(1,), (2,), (None,), (9,)], "a long")


def _validate(df, gx_root, suite, label, **kwargs):
    return validate_dataframe(df, suite_name=suite, specs=kwargs.pop("specs", SPECS),
                              gx_root=gx_root, batch_label=label, **kwargs)


def _pages(gx_root, suite):
    folder = gx_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "validations"
    folder = folder.joinpath(*suite.split("."))  # GX nests a dotted suite name
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_one_update_renders_every_deferred_result_and_the_index(spark, df, tmp_path):
    gx_root = tmp_path / "gx"
    first = _validate(df, gx_root, "t.orders", "orders b1", data_docs=False)
    second = _validate(df, gx_root, "t.customers", "customers b1", data_docs=False)
    # counted like any validation, no pages yet
    assert [(o.rule, o.unexpected_count) for o in first.outcomes] == [
        ("not_null:a", 1), ("between:a", 1)]
    assert first.data_docs_index is None and _pages(gx_root, "t.orders") == []

    index = update_data_docs(gx_root, [first, second])

    assert index == gx_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    html = index.read_text()
    assert "orders b1" in html and "customers b1" in html
    assert _pages(gx_root, "t.orders") == ["orders b1"]
    assert _pages(gx_root, "t.customers") == ["customers b1"]
    assert update_data_docs(gx_root, []) is None


def test_the_index_keeps_listing_every_earlier_run(spark, df, tmp_path):
    gx_root = tmp_path / "gx"
    for day in range(1, 4):
        result = _validate(df, gx_root, "t.orders", f"orders b{day}")
    html = result.data_docs_index.read_text()
    assert all(f"orders b{day}" in html for day in range(1, 4))
    assert _pages(gx_root, "t.orders") == ["orders b1", "orders b2", "orders b3"]


def test_the_index_reads_a_stored_result_once_per_process(spark, df, tmp_path, monkeypatch):
    gx_root = tmp_path / "gx"
    _validate(df, gx_root, "t.orders", "orders b1")
    project = gx_project._PROJECTS[gx_root.absolute()]
    reads = []
    real = project.context.get_validation_result
    monkeypatch.setattr(project.context, "get_validation_result",
                        lambda **kw: reads.append(kw["run_id"].run_name) or real(**kw))
    _validate(df, gx_root, "t.orders", "orders b2")
    _validate(df, gx_root, "t.orders", "orders b3")
    # b1 was read when the index was first built; b2 and b3 once each since
    assert sorted(reads) == ["orders b2", "orders b3"]


def test_suite_objects_are_added_once_and_again_when_the_specs_change(spark, df, tmp_path):
    gx_root = tmp_path / "gx"
    suite_file = gx_root / "gx" / "expectations" / "t" / "orders.json"
    _validate(df, gx_root, "t.orders", "orders b1")
    written = suite_file.stat().st_mtime_ns
    _validate(df, gx_root, "t.orders", "orders b2")
    assert suite_file.stat().st_mtime_ns == written

    changed = [*SPECS, ExpectationSpec("in_set", column="a", value_set=(1, 2), rule="small")]
    result = _validate(df, gx_root, "t.orders", "orders b3", specs=changed)
    assert [o.rule for o in result.outcomes] == ["not_null:a", "between:a", "small"]
    assert '"small"' in suite_file.read_text()


def test_a_project_changed_by_another_process_is_reopened(spark, df, tmp_path):
    gx_root = tmp_path / "gx"
    _validate(df, gx_root, "t.orders", "orders b1")
    opened = gx_project._PROJECTS[gx_root.absolute()]
    config = gx_root / "gx" / "great_expectations.yml"
    config.write_text(config.read_text() + "\n# edited elsewhere\n")

    result = _validate(df, gx_root, "t.orders", "orders b2")

    assert gx_project._PROJECTS[gx_root.absolute()] is not opened
    assert result.success is False and "orders b2" in result.data_docs_index.read_text()
