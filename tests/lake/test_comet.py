"""Apache DataFusion Comet is a setting: off (the default), the Spark settings hold nothing of it,
not even its jar; on, they load its plugin, shuffle and off-heap memory, and refuse to start
without the jar. (Whether Comet speeds queries up, and on which scans it falls back, is
measured by ``tests/bench/bench_star.py``: a Comet session takes too long to start for a test.)"""

from __future__ import annotations

import pytest

from lake.config.settings import load_settings
from lake.errors import ConfigError
from lake.platform.session import spark_conf

JARS = ("delta-spark_4.1_2.13-4.3.0.jar", "delta-storage-4.3.0.jar",
        "comet-spark-spark4.1_2.13-1.2.0.jar")


@pytest.fixture
def jars(tmp_path):
    folder = tmp_path / "jars"
    folder.mkdir()
    for name in JARS:
        (folder / name).touch()
    return folder


def test_comet_off_leaves_spark_as_it_is(jars, tmp_path):
    conf = spark_conf(load_settings(env={}, home=tmp_path, jars_dir=jars))
    assert conf["spark.jars"].split(",") == [str(jars / name) for name in sorted(JARS[:2])]
    assert not [key for key in conf if "comet" in key or key in (
        "spark.plugins", "spark.shuffle.manager", "spark.memory.offHeap.enabled")]


def test_comet_on_loads_its_plugin_shuffle_and_memory(jars, tmp_path):
    settings = load_settings(env={"LAKEHOUSE_SPARK_ACCELERATOR": "comet"}, home=tmp_path,
                             jars_dir=jars)
    conf = spark_conf(settings)
    assert str(jars / JARS[2]) in conf["spark.jars"].split(",")
    assert conf["spark.plugins"] == "org.apache.spark.CometPlugin"
    assert conf["spark.shuffle.manager"] == \
        "org.apache.spark.sql.comet.execution.shuffle.CometShuffleManager"
    assert conf["spark.memory.offHeap.enabled"] == "true"
    assert conf["spark.comet.exec.enabled"] == conf["spark.comet.shuffle.enabled"] == "true"


def test_comet_without_its_jar_or_a_known_name_is_refused(jars, tmp_path):
    (jars / JARS[2]).unlink()
    settings = load_settings(env={"LAKEHOUSE_SPARK_ACCELERATOR": "comet"}, home=tmp_path,
                             jars_dir=jars)
    with pytest.raises(ConfigError, match=r"ACCELERATOR=comet needs Comet's jar.*make jars"):
        spark_conf(settings)
    with pytest.raises(ConfigError, match="LAKEHOUSE_SPARK_ACCELERATOR: .*'none' or 'comet'"):
        load_settings(env={"LAKEHOUSE_SPARK_ACCELERATOR": "gluten"})
