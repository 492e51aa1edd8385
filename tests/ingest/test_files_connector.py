"""The files connector and the landing ledger, without Spark: deliveries matched by glob (several
files per dataset, any names, folders), completeness by marker or stable sizes, one batch per
delivery, re-deliveries that are no-ops, corrected files that land as new batches, files that
match nothing reported, hostile names landed safely, and a landing run that dies before its
manifest leaving no batch behind."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from lake.config.project import load_project
from lake.config.settings import load_settings
from lake.config.sources import load_source
from lake.errors import IngestError
from lake.ingest.connectors.files import glob_regex, is_complete, land
from lake.ingest.landing import Ledger

DAY = date(2026, 2, 1)
CONTRACT = {"dataset": "{name}", "columns": [{"name": "id", "type": "string"}]}


def _project(root: Path, datasets: dict, deliveries: dict | None = None):
    folder = root / "project" / "sources" / "shop"
    (folder / "contracts").mkdir(parents=True, exist_ok=True)
    (root / "project" / "lakehouse.yaml").write_text("name: t\n")
    (folder / "source.yaml").write_text(yaml.safe_dump({
        "source": "shop",
        "deliveries": {"connector": "files", "root": "{source_root}/shop", "layout": "ds={ds}/",
                       **(deliveries or {})},
        "datasets": datasets}))
    for name, decl in datasets.items():
        if not decl.get("unstructured"):
            (folder / "contracts" / f"{name}.yaml").write_text(
                yaml.safe_dump({**CONTRACT, "dataset": name}))
    settings = load_settings(env={}, home=root / "home")
    return settings, load_source(load_project(root / "project"), "shop")


def _deliver(settings, files: dict[str, bytes | str], day: date = DAY) -> Path:
    folder = Path(settings.source_root) / "shop" / f"ds={day.isoformat()}"
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
    return folder


DATASETS = {"orders": {"files": "orders*.csv"}, "customers": {"files": "crm/**/cust_*.csv"},
            "docs": {"files": "docs/**", "unstructured": True, "optional": True}}


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("orders*.csv", "orders.csv", True), ("orders*.csv", "orders_2026-01-01.csv", True),
    ("orders*.csv", "sub/orders.csv", False), ("**/orders.csv", "a/b/orders.csv", True),
    ("**/orders.csv", "orders.csv", True), ("docs/**", "docs/x/y.pdf", True),
    ("file?.json", "file1.json", True), ("file?.json", "file12.json", False),
    ("part-[0-9].parquet", "part-7.parquet", True), ("part-[!0-9].parquet", "part-7.parquet", False),
    ("a.b", "axb", False),
])
def test_globs(pattern, path, matches):
    assert (glob_regex(pattern).match(path) is not None) == matches


def test_a_delivery_lands_as_one_batch_with_a_manifest(tmp_path):
    settings, source = _project(tmp_path, DATASETS)
    _deliver(settings, {"orders_1.csv": "id\n1\n", "orders_2.csv": "id\n2\n",
                        "crm/eu/cust_a.csv": "id\nc\n", "docs/inv 1.pdf": b"%PDF-1.4",
                        "README.txt": "not data", ".orders_3.csv.swp": "in progress"})
    (batch,) = land(settings, source, DAY)
    assert batch.batch_id == "20260201-001"
    assert {(f.dataset, Path(f.source_path).name) for f in batch.files} == {
        ("orders", "orders_1.csv"), ("orders", "orders_2.csv"), ("customers", "cust_a.csv"),
        ("docs", "inv 1.pdf")}
    assert batch.unmatched == (".orders_3.csv.swp", "README.txt")
    for f in batch.files:
        data = Path(f.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f.sha256 and len(data) == f.size
        assert Path(f.path).stat().st_mode & 0o222 == 0, "landed files are read-only"
    assert "/shop/docs/ds=2026-02-01/batch=20260201-001/docs/inv%201.pdf" in \
        batch.files_of("docs")[0]
    manifest = Path(settings.landing_root) / "shop" / "_batches" / "20260201-001.json"
    assert json.loads(manifest.read_text())["batch_id"] == "20260201-001"


def test_redelivery_is_a_no_op_and_a_corrected_file_is_a_new_batch(tmp_path):
    settings, source = _project(tmp_path, DATASETS)
    _deliver(settings, {"orders.csv": "id\n1\n", "crm/cust_a.csv": "id\nc\n"})
    (first,) = land(settings, source, DAY)
    assert land(settings, source, DAY) == [first], "the same bytes again: nothing new"
    _deliver(settings, {"orders.csv": "id\n1\n2\n"})  # corrected in place
    first_again, second = land(settings, source, DAY)
    assert first_again == first and second.batch_id == "20260201-002"
    assert [(f.dataset, f.size) for f in second.files] == [("orders", 7)]
    assert Path(first.files_of("orders")[0]).read_text() == "id\n1\n", "never overwritten"
    _deliver(settings, {"orders_late.csv": "id\n3\n"})
    *_, third = land(settings, source, DAY)
    assert third.batch_id == "20260201-003" and third.datasets == ("orders",)


def test_the_same_bytes_in_another_days_delivery_are_that_days_data(tmp_path):
    settings, source = _project(tmp_path, DATASETS)
    for day in (DAY, date(2026, 2, 2)):
        _deliver(settings, {"orders.csv": "id\n1\n", "crm/cust_a.csv": "id\nc\n"}, day)
        (batch,) = land(settings, source, day)
        assert batch.batch_id == f"{day:%Y%m%d}-001" and len(batch.files) == 2


def test_what_a_delivery_lacks_or_cannot_place_is_an_error(tmp_path):
    settings, source = _project(tmp_path, DATASETS)
    with pytest.raises(IngestError, match=r"^no shop delivery for 2026-02-01: .*ds=2026-02-01 does "
                                          r"not exist; deliver the files there"):
        land(settings, source, DAY)
    folder = _deliver(settings, {"crm/cust_a.csv": "id\nc\n"})
    with pytest.raises(IngestError, match=r"delivery .*ds=2026-02-01 has no file for dataset\(s\) "
                                          r"orders \(orders\*\.csv\); it holds: crm/cust_a.csv"):
        land(settings, source, DAY)
    (folder / "crm" / "cust_a.csv").unlink()
    _deliver(settings, {"Orders.CSV": "id\n1\n", "notes.txt": "x"})
    with pytest.raises(IngestError, match=r"holds 2 file\(s\) \(Orders.CSV, notes.txt\) but none "
                                          r"matches a dataset of shop \(customers: crm/\*\*/cust_"
                                          r"\*.csv, docs: docs/\*\*, orders: orders\*.csv\); fix the "
                                          r"patterns in sources/shop/source.yaml or the delivery"):
        land(settings, source, DAY)
    assert Ledger(settings.landing_root, "shop").batches() == []


def test_a_file_matching_two_datasets_is_refused(tmp_path):
    settings, source = _project(tmp_path, {"a": {"files": "*.csv"}, "b": {"files": "b*.csv"}})
    _deliver(settings, {"b1.csv": "id\n1\n"})
    with pytest.raises(IngestError, match=r"b1.csv matches the files of several datasets \(a, b\)"):
        land(settings, source, DAY)


def test_hostile_file_names_land_under_safe_names(tmp_path):
    settings, source = _project(tmp_path, {"docs": {"files": "**", "unstructured": True}})
    names = ["a b.txt", "..%2F..%2Fetc.txt", "naïve–ü.txt", "x;rm -rf ~.txt", "deep/../up.txt"]
    folder = _deliver(settings, {n.replace("/../", "/dotdot/"): n for n in names})
    (batch,) = land(settings, source, DAY)
    landing = Path(settings.landing_root).resolve()
    for f in batch.files:
        path = Path(f.path).resolve()
        assert landing in path.parents, f"{f.path} escapes the landing zone"
        assert Path(f.path).read_bytes() == Path(f.source_path).read_bytes()
    assert len(batch.files) == len(names) - 1
    assert batch.unmatched == ("..%2F..%2Fetc.txt",), "a hidden name is reported, not landed"
    assert (folder / "..%2F..%2Fetc.txt").exists()


def test_completeness_by_marker_and_by_stable_sizes(tmp_path):
    settings, source = _project(tmp_path, DATASETS, {"complete_when": {"marker": "_SUCCESS"}})
    folder = _deliver(settings, {"orders.csv": "id\n1\n", "crm/cust_a.csv": "id\nc\n"})
    assert is_complete(source, str(folder)) == (False, f"no _SUCCESS in {folder}")
    with pytest.raises(IngestError, match="delivery for 2026-02-01 is not complete: no _SUCCESS"):
        land(settings, source, DAY)
    (folder / "_SUCCESS").write_text("")
    (batch,) = land(settings, source, DAY)
    assert "_SUCCESS" not in {Path(f.source_path).name for f in batch.files}

    settings, source = _project(tmp_path / "stable", DATASETS, {"complete_when":
                                                                {"stable_seconds": 5}})
    folder = _deliver(settings, {"orders.csv": "id\n1\n", "crm/cust_a.csv": "id\nc\n"})

    def still_writing(_seconds: float) -> None:
        with (folder / "orders.csv").open("a") as fh:
            fh.write("2\n")

    assert is_complete(source, str(folder), sleep=still_writing)[0] is False
    assert is_complete(source, str(folder), sleep=lambda _s: None) == (True, "")


def test_a_landing_that_dies_before_its_manifest_leaves_no_batch(tmp_path, monkeypatch):
    settings, source = _project(tmp_path, DATASETS)
    _deliver(settings, {"orders.csv": "id\n1\n", "crm/cust_a.csv": "id\nc\n"})

    def crash(self, batch):
        raise OSError("the worker died")

    with monkeypatch.context() as patch:
        patch.setattr(Ledger, "commit", crash)
        with pytest.raises(OSError):
            land(settings, source, DAY)
    assert Ledger(settings.landing_root, "shop").batches() == []
    (batch,) = land(settings, source, DAY)  # the next run lands the same files, once
    assert batch.batch_id == "20260201-001" and len(batch.files) == 2


@pytest.fixture
def s3_store(monkeypatch):
    """An S3-compatible server on loopback (moto's), with credentials and endpoint in the
    environment as the AWS SDK reads them."""
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for key, value in {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "k",
                       "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_a_delivery_on_an_object_store_lands_through_the_same_code_path(tmp_path, s3_store):
    from pyarrow import fs

    bucket = fs.S3FileSystem(endpoint_override=s3_store, allow_bucket_creation=True)
    bucket.create_dir("drops")
    for name, text in {"orders_1.csv": "id\n1\n", "crm/eu/cust_a.csv": "id\nc\n",
                       "_SUCCESS": ""}.items():
        with bucket.open_output_stream(f"drops/shop/ds=2026-02-01/{name}") as out:
            out.write(text.encode())
    settings, source = _project(tmp_path, DATASETS, {"root": "s3a://drops/shop",
                                                     "complete_when": {"marker": "_SUCCESS"}})
    (batch,) = land(settings, source, DAY)
    assert {(f.dataset, f.source_path) for f in batch.files} == {
        ("orders", "s3a://drops/shop/ds=2026-02-01/orders_1.csv"),
        ("customers", "s3a://drops/shop/ds=2026-02-01/crm/eu/cust_a.csv")}
    assert Path(batch.files_of("orders")[0]).read_text() == "id\n1\n"
    assert land(settings, source, DAY) == [batch], "a re-delivery from the store is a no-op"
