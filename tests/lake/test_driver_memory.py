"""The driver's heap: a local driver runs the tasks too, so by default it gets a quarter of the
machine's memory (1g to 8g), not Spark's 1g; a setting overrides it; a cluster keeps Spark's."""

from __future__ import annotations

import os

import pytest

from lake.config.settings import load_settings
from lake.errors import ConfigError
from lake.platform.session import driver_memory, spark_conf


def test_local_driver_gets_a_quarter_of_the_machine(tmp_path):
    machine = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    expected = f"{min(max(machine // 4 // 2**30, 1), 8)}g"
    assert spark_conf(load_settings(env={}, home=tmp_path))["spark.driver.memory"] == expected


def test_the_setting_wins_and_a_cluster_keeps_sparks_default(tmp_path):
    env = {"LAKEHOUSE_SPARK_DRIVER_MEMORY": "3G"}
    assert spark_conf(load_settings(env=env, home=tmp_path))["spark.driver.memory"] == "3g"
    cluster = load_settings(env={"LAKEHOUSE_SPARK_MASTER": "spark://10.0.0.1:7077"},
                            home=tmp_path)
    assert driver_memory(cluster) is None
    assert "spark.driver.memory" not in spark_conf(cluster)


@pytest.mark.parametrize("value", ["lots", "4 g", "-1g", "4gb", "0g", "1g; rm -rf /"])
def test_a_memory_size_that_is_not_one_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="LAKEHOUSE_SPARK_DRIVER_MEMORY.*JVM memory size"):
        load_settings(env={"LAKEHOUSE_SPARK_DRIVER_MEMORY": value}, home=tmp_path)


def test_the_running_driver_has_the_heap_it_was_given(spark, session_settings):
    heap = spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory()
    size = driver_memory(session_settings)
    assert spark.conf.get("spark.driver.memory") == size
    # the JVM reports its heap less a survivor space
    assert heap > 0.8 * int(size[:-1]) * 2**30
