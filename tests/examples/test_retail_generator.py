"""The demo retail source: deterministic drops whose dirt is exactly what the docstring promises."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from pypdf import PdfReader

from examples.retail.generator.source import EPOCH, SEGMENTS, UNKNOWN_CUSTOMER_IDS, generate_drop

DAYS = [EPOCH + timedelta(days=n) for n in range(5)]


@pytest.fixture(scope="module")
def drops(tmp_path_factory) -> dict[date, Path]:
    """The drops of EPOCH .. EPOCH + 4 with the default seed, each in its own folder."""
    base = tmp_path_factory.mktemp("drops")
    return {day: generate_drop(base / day.isoformat(), day).root for day in DAYS}


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _customers(root: Path) -> dict[str, dict[str, str]]:
    with (root / "customers.csv").open(newline="") as handle:
        return {row["customer_id"]: row for row in csv.DictReader(handle)}


def _prices(root: Path) -> dict[str, float]:
    table = pq.read_table(root / "products.parquet")
    return dict(zip(table["product_id"].to_pylist(), table["unit_price"].to_pylist(), strict=True))


def _orders(root: Path) -> tuple[list[str], list[dict]]:
    lines = (root / "orders.ndjson").read_text(encoding="utf-8").splitlines()
    return lines, [json.loads(line) for line in lines]


def _day_of(order: dict) -> date:
    return date.fromisoformat(order["order_ts"][:10])


def test_same_arguments_give_byte_identical_files(tmp_path, drops):
    day = DAYS[2]
    first = generate_drop(tmp_path / "a", day)
    second = generate_drop(tmp_path / "b", day)
    assert _files(first.root) == _files(second.root)
    assert _files(first.root) == _files(drops[day])


def test_a_day_does_not_depend_on_what_was_generated_before(tmp_path, drops):
    alone = generate_drop(tmp_path / "alone", DAYS[3])
    after_later_day = generate_drop(tmp_path / "later", DAYS[4])
    again = generate_drop(tmp_path / "again", DAYS[3])
    assert _files(alone.root) == _files(drops[DAYS[3]]) == _files(again.root)
    assert _files(after_later_day.root) == _files(drops[DAYS[4]])


def test_the_seed_changes_the_data(tmp_path, drops):
    other = generate_drop(tmp_path / "other", DAYS[1], seed=8)
    assert other.root.joinpath("customers.csv").read_bytes() != (
        drops[DAYS[1]].joinpath("customers.csv").read_bytes()
    )


def test_drop_lists_every_file_written(tmp_path):
    drop = generate_drop(tmp_path / "d", DAYS[1])
    on_disk = tuple(sorted(p for p in drop.root.rglob("*") if p.is_file()))
    assert drop.files == on_disk
    assert drop.logical_date == DAYS[1]
    names = {p.name for p in drop.files}
    assert {"customers.csv", "products.parquet", "orders.ndjson", "_SUCCESS"} <= names
    # the completion marker is written last: a delivery with it is a whole delivery
    marker = drop.root / "_SUCCESS"
    assert marker.read_bytes() == b""
    assert marker.stat().st_mtime_ns >= max(p.stat().st_mtime_ns for p in drop.files)


def test_dates_before_epoch_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="logical_date 2025-12-31 is before"):
        generate_drop(tmp_path / "x", EPOCH - timedelta(days=1))
    assert not (tmp_path / "x").exists()


def test_customers_extract_shape(drops):
    text = drops[EPOCH].joinpath("customers.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "customer_id,name,email,city,segment,updated_at"
    customers = _customers(drops[EPOCH])
    assert len(customers) == 120
    assert min(customers) == "C0001" and max(customers) == "C0120"
    assert {row["segment"] for row in customers.values()} <= set(SEGMENTS)
    assert {row["updated_at"] for row in customers.values()} == {EPOCH.isoformat()}


@pytest.mark.parametrize("index", range(1, len(DAYS)))
def test_every_day_customers_change_disappear_and_appear(drops, index):
    day = DAYS[index]
    before, after = _customers(drops[DAYS[index - 1]]), _customers(drops[day])
    changed = [cid for cid in set(before) & set(after) if before[cid] != after[cid]]
    deleted, added = set(before) - set(after), set(after) - set(before)
    assert 3 <= len(changed) <= 5
    assert 1 <= len(deleted) <= 2
    assert 2 <= len(added) <= 3
    for cid in changed:
        assert after[cid]["updated_at"] == day.isoformat()
        differing = {k for k in before[cid] if before[cid][k] != after[cid][k]} - {"updated_at"}
        assert len(differing) == 1 and differing <= {"city", "segment", "email"}
    assert {after[cid]["updated_at"] for cid in added} == {day.isoformat()}
    assert not set(UNKNOWN_CUSTOMER_IDS) & set(after)


def test_deleted_customers_never_come_back(drops):
    seen_deleted: set[str] = set()
    for previous, day in zip(DAYS, DAYS[1:], strict=False):
        before, after = _customers(drops[previous]), _customers(drops[day])
        assert not seen_deleted & set(after)
        seen_deleted |= set(before) - set(after)


def test_products_parquet(drops):
    table = pq.read_table(drops[EPOCH] / "products.parquet")
    assert table.schema == pa.schema(
        [
            ("product_id", pa.string()),
            ("name", pa.string()),
            ("category", pa.string()),
            ("unit_price", pa.float64()),
            ("active", pa.bool_()),
            ("weight_g", pa.int32()),
        ]
    )
    widened = pq.read_table(drops[DAYS[-1]] / "products.parquet").schema.field("weight_g")
    assert widened.type == pa.int64()  # the type-change day onwards
    assert table["product_id"].to_pylist() == [f"P{n:03d}" for n in range(1, 31)]
    assert all(price > 0 for price in table["unit_price"].to_pylist())
    assert table["active"].to_pylist().count(False) == 3


def test_some_product_price_changes_over_time(drops):
    first, last = _prices(drops[DAYS[0]]), _prices(drops[DAYS[-1]])
    assert first.keys() == last.keys()
    assert first != last


def _classify(order: dict, customers: set[str], day: date) -> str:
    if order.get("order_id") is None:
        return "missing_key"
    if not isinstance(order["quantity"], int) or not isinstance(order["amount"], int | float):
        return "wrong_type"
    if order["amount"] < 0:
        return "negative_amount"
    if order["customer_id"] not in customers:
        return "unknown_customer"
    if _day_of(order) < day:
        return "late"
    return "valid"


@pytest.mark.parametrize("index", range(len(DAYS)))
def test_orders_contain_each_kind_of_dirt(drops, index):
    day = DAYS[index]
    lines, orders = _orders(drops[day])
    customers = set(_customers(drops[day]))
    assert len(lines) == 150
    duplicated = {line: n for line, n in Counter(lines).items() if n > 1}
    assert list(duplicated.values()) == [2, 2]
    kinds = Counter(_classify(order, customers, day) for order in orders)
    assert kinds["missing_key"] == 2
    assert kinds["wrong_type"] == 2
    assert kinds["negative_amount"] == 2
    assert kinds["unknown_customer"] == 2
    assert kinds["late"] == (0 if day == EPOCH else 3)
    assert kinds["valid"] == 150 - 8 - kinds["late"]
    missing = [o for o in orders if o.get("order_id") is None]
    assert sorted("order_id" in o for o in missing) == [False, True]  # one null, one absent
    wrong = [o for o in orders if _classify(o, customers, day) == "wrong_type"]
    assert sorted(type(o["quantity"]).__name__ for o in wrong) == ["int", "str"]
    assert sorted(type(o["amount"]).__name__ for o in wrong) == ["float", "str"]
    assert any("," in o["amount"] for o in wrong if isinstance(o["amount"], str))
    unknown = {
        o["customer_id"] for o in orders if _classify(o, customers, day) == "unknown_customer"
    }
    assert unknown == set(UNKNOWN_CUSTOMER_IDS)
    ids = Counter(o["order_id"] for o in orders if o.get("order_id") is not None)
    assert {oid for oid, n in ids.items() if n > 1} == {
        json.loads(line)["order_id"] for line in duplicated
    }


@pytest.mark.parametrize("index", range(len(DAYS)))
def test_valid_orders_are_consistent(drops, index):
    day = DAYS[index]
    _, orders = _orders(drops[day])
    customers = set(_customers(drops[day]))
    prices = _prices(drops[day])
    valid = [o for o in orders if _classify(o, customers, day) == "valid"]
    for order in valid:
        assert order["order_id"].startswith(f"O{day:%Y%m%d}-")
        assert order["order_ts"].startswith(day.isoformat()) and order["order_ts"].endswith("Z")
        assert 1 <= order["quantity"] <= 5
        assert order["amount"] == round(order["quantity"] * prices[order["product_id"]], 2)


@pytest.mark.parametrize("index", range(1, len(DAYS)))
def test_late_orders_key_to_an_older_customer_version(drops, index):
    day = DAYS[index]
    _, orders = _orders(drops[day])
    today = _customers(drops[day])
    late = [o for o in orders if o.get("order_id") and _day_of(o) < day]
    assert len(late) == 3
    for order in late:
        order_day = _day_of(order)
        assert 1 <= (day - order_day).days <= 3 and order_day >= EPOCH
        assert order["order_id"].startswith(f"O{order_day:%Y%m%d}-")
        then = _customers(drops[order_day])
        cid = order["customer_id"]
        assert cid in then and cid in today
        assert then[cid] != today[cid]  # the fact must pick the SCD2 version valid on order_day
        price = _prices(drops[order_day])[order["product_id"]]
        assert order["amount"] == round(order["quantity"] * price, 2)


def test_late_order_ids_do_not_clash_with_that_days_own_orders(drops):
    all_ids = Counter(
        o["order_id"]
        for day in DAYS
        for o in _orders(drops[day])[1]
        if o.get("order_id") is not None
    )
    assert all(n <= 2 for n in all_ids.values())  # 2 only for the duplicated lines


def _xref_points_at_objects(pdf: bytes) -> bool:
    """Whether startxref and every in-use xref entry point exactly at what they name."""
    start = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    lines = pdf[start:].split(b"\n")
    if lines[0] != b"xref":
        return False
    first, count = map(int, lines[1].split())
    for number, entry in enumerate(lines[2 : 2 + count], start=first):
        offset, _generation, kind = entry.split()
        if kind == b"n" and not pdf[int(offset) :].startswith(b"%d 0 obj" % number):
            return False
    return True


@pytest.mark.parametrize("index", range(len(DAYS)))
def test_documents(drops, index):
    day = DAYS[index]
    docs = drops[day] / "documents"
    images = sorted(docs.glob("product_P*.png"))
    invoices = sorted(docs.glob("invoice_*.pdf"))
    tickets = sorted(docs.glob("ticket_*.txt"))
    assert 2 <= len(images) <= 3 and len(invoices) == 2 and len(tickets) == 2
    assert len(list(docs.iterdir())) == len(images) + len(invoices) + len(tickets)
    prices = _prices(drops[day])
    for path in images:
        assert path.stem.removeprefix("product_") in prices
        with Image.open(path) as image:
            image.load()
            assert image.format == "PNG" and image.width >= 48 and image.height >= 32
    _, orders = _orders(drops[day])
    by_id = {o["order_id"]: o for o in orders if o.get("order_id")}
    for path in invoices:
        order_id = path.stem.removeprefix("invoice_")
        assert _xref_points_at_objects(path.read_bytes())
        reader = PdfReader(path, strict=True)
        assert len(reader.pages) == 1
        text = reader.pages[0].extract_text()
        assert f"Order: {order_id}" in text
        assert f"Amount: {by_id[order_id]['amount']:.2f} EUR" in text
    for path in tickets:
        body = path.read_text(encoding="utf-8")
        order_id = body.split("Order: ", 1)[1].split("\n", 1)[0]
        assert order_id in by_id


def test_image_sizes_vary(drops):
    sizes = set()
    for day in DAYS:
        for path in (drops[day] / "documents").glob("*.png"):
            with Image.open(io.BytesIO(path.read_bytes())) as image:
                sizes.add(image.size)
    assert len(sizes) > 5


def test_ticket_numbers_are_unique_across_days(drops):
    names = [p.name for day in DAYS for p in (drops[day] / "documents").glob("ticket_*.txt")]
    assert len(names) == len(set(names)) == 2 * len(DAYS)
