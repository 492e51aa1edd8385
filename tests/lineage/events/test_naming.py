from __future__ import annotations

import os

import pytest

from lineage.errors import InvalidLocationError
from lineage.events.naming import dataset_id, dataset_key, location_key


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/data/lake/bronze/orders", ("file", "/data/lake/bronze/orders")),
        ("/data/lake/bronze/orders/", ("file", "/data/lake/bronze/orders")),
        ("file:/data/x", ("file", "/data/x")),
        ("file:///data/x", ("file", "/data/x")),
        ("file://localhost/data/x", ("file", "/data/x")),
        ("file://nas01/data/x", ("file://nas01", "/data/x")),
        ("s3a://lake-bucket/bronze/orders", ("s3://lake-bucket", "bronze/orders")),
        ("s3://lake-bucket/bronze/orders/", ("s3://lake-bucket", "bronze/orders")),
        ("gs://b/k/v", ("gs://b", "k/v")),
        ("hdfs://nn:8020/warehouse/t", ("hdfs://nn:8020", "/warehouse/t")),
    ],
)
def test_dataset_id_follows_the_openlineage_naming_spec(location, expected):
    assert dataset_id(location) == expected


def test_relative_paths_are_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert dataset_id("landing/orders") == ("file", os.path.join(str(tmp_path), "landing/orders"))


def test_dataset_key_is_one_uri_per_dataset():
    assert dataset_key("file", "/data/x") == "file:///data/x"
    assert dataset_key("s3://b", "k/x") == "s3://b/k/x"
    assert location_key("s3a://b/k/x/") == "s3://b/k/x"
    assert location_key("/data/x") == location_key("file:///data/x")


@pytest.mark.parametrize(
    ("location", "message"),
    [("", "location is empty"), ("ftp://host/x", "unsupported scheme 'ftp'"),
     ("s3a:///key", "has no bucket")],
)
def test_bad_locations_say_what_to_write(location, message):
    with pytest.raises(InvalidLocationError, match=message):
        dataset_id(location)
