"""A deterministic retail source: the daily file drop of a shop's customers, products and orders.

:func:`generate_drop` writes one day's drop. The source's state on a day is derived only from the
seed, by replaying every day from :data:`EPOCH` with a random generator seeded per day, so a day's
files are byte-identical whatever was generated before and in whatever order.

Files of a drop (``out_dir``):

- ``customers.csv``: full daily extract. Every day after :data:`EPOCH` 3-5 customers change city,
  segment or email (``updated_at`` = that day), 1-2 are deleted upstream (absent from then on) and
  2-3 new ones appear; the SCD2 dimension has something to close and open every day.
- ``products.parquet``: 30 products; P010, P020 and P030 are inactive; now and then a price changes.
- ``orders.ndjson``: 150 lines a day. Valid orders use customers of that day's extract and active
  products, with ``amount = round(quantity * unit_price, 2)``. Deliberate dirt, every day:

  ======================  =====  ===============================================================
  kind                    lines  rule that should catch it
  ======================  =====  ===============================================================
  duplicate line          2      uniqueness of ``order_id`` / exact-duplicate removal: two valid
                                 orders whose JSON line appears twice
  missing key             2      not-null ``order_id``: one ``null``, one without the field
  wrong type              2      type: ``quantity`` as a word (e.g. ``"two"``), ``amount`` as a
                                 decimal-comma string (``"12,50"``)
  negative amount         2      range: ``amount >= 0``
  unknown customer        2      referential: ``customer_id`` C0000 / C9999, never issued
  late-arriving order     3      not dirt, a trap for the warehouse: ``order_ts`` 1-3 days
                                 before the logical date, by a customer who existed then, is
                                 still in today's extract and has changed since (city, segment
                                 or email), so the fact must key to the old SCD2 version
                                 (amount uses that day's price). Id ``O<order day>-<lag><nnnn>``
                                 never clashes with that day's own ids. None on EPOCH; on
                                 EPOCH + 1 all three are one day late.
  ======================  =====  ===============================================================

- ``documents/``: 2-3 product images ``product_<id>.png``, 2 invoices ``invoice_<order_id>.pdf``
  for valid orders of the day, 2 support tickets ``ticket_<n>.txt``.

Every order has ``payment`` (card, paypal, bank_transfer) and ``returned`` (the label a returns
model learns from). Besides the daily dirt, the source changes over the first days, as real
sources do:

==============  ==============================================================================
day             change
==============  ==============================================================================
EPOCH + 1       orders gain a ``channel`` field (web, app, store): a new column;
                ``products.weight_g`` arrives as int64 instead of int32: a type change (widening)
EPOCH + 2 on    ``payment`` shifts from mostly card to mostly paypal: categorical drift
EPOCH + 3       a serving-style feed: orders without the ``returned`` label (environment
                SERVING, see :func:`environment_of`); every other day is TRAINING
==============  ==============================================================================
"""

from __future__ import annotations

import csv
import io
import json
import logging
import random
from collections import deque
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from examples.retail.generator import documents as demo_documents

log = logging.getLogger(__name__)

EPOCH = date(2026, 1, 1)
SEGMENTS = ("consumer", "corporate", "small_business")
CUSTOMER_COLUMNS = ("customer_id", "name", "email", "city", "segment", "updated_at")
UNKNOWN_CUSTOMER_IDS = ("C0000", "C9999")  # never issued, so orders using them break referential
ORDER_LINES = 150
CHANNEL_FROM = EPOCH + timedelta(days=1)
WEIGHT_INT64_FROM = EPOCH + timedelta(days=1)
PAYMENT_SHIFT_FROM = EPOCH + timedelta(days=2)
SERVING_DAYS = frozenset({EPOCH + timedelta(days=3)})
PAYMENTS = ("card", "paypal", "bank_transfer")
_PAYMENT_WEIGHTS = (0.6, 0.3, 0.1)
_SHIFTED_PAYMENT_WEIGHTS = (0.2, 0.7, 0.1)
_CHANNELS = ("web", "app", "store")
LATE_ORDERS, DUPLICATE_LINES, MISSING_KEYS = 3, 2, 2
WRONG_TYPES, NEGATIVE_AMOUNTS, UNKNOWN_CUSTOMERS = 2, 2, 2

_INITIAL_CUSTOMERS, _PRODUCTS, _MAX_LATE_DAYS = 120, 30, 3
_CITIES = ("Lisbon", "Porto", "Madrid", "Lyon", "Berlin", "Vienna", "Milan", "Gent", "Krakow")
_DOMAINS = ("example.com", "mail.example.org", "shop.example.net")
_FIRST = ("Ana", "Ben", "Chloe", "David", "Eva", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Lea")
_LAST = ("Silva", "Meyer", "Rossi", "Dubois", "Nowak", "Garcia", "Jansen", "Costa", "Weber")
_CATEGORIES = ("electronics", "home", "garden", "toys", "books", "sports")
_PRODUCT_WORDS = ("Lamp", "Kettle", "Drone", "Puzzle", "Novel", "Racket", "Hose", "Chair", "Mug")


@dataclass(frozen=True)
class Drop:
    """One day's drop: its folder, its logical date and every file written, sorted."""

    root: Path
    logical_date: date
    files: tuple[Path, ...]


@dataclass(frozen=True)
class _Customer:
    customer_id: str
    name: str
    email: str
    city: str
    segment: str
    updated_at: date


@dataclass(frozen=True)
class _Product:
    product_id: str
    name: str
    category: str
    unit_price: float
    active: bool
    weight_g: int


@dataclass(frozen=True)
class _State:
    """The source on one day: customers and products of that day's extract."""

    day: date
    customers: dict[str, _Customer]
    products: dict[str, _Product]
    next_customer: int


def _email(rng: random.Random, name: str) -> str:
    first, last = name.lower().split()
    return f"{first}.{last}{rng.randrange(100)}@{rng.choice(_DOMAINS)}"


def _new_customer(rng: random.Random, number: int, day: date) -> _Customer:
    name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    return _Customer(
        f"C{number:04d}", name, _email(rng, name), rng.choice(_CITIES), rng.choice(SEGMENTS), day
    )


def _issue_id(number: int) -> int:
    """The next customer number at or after ``number`` whose id is not reserved as unknown."""
    while f"C{number:04d}" in UNKNOWN_CUSTOMER_IDS:
        number += 1
    return number


def _initial_state(seed: int) -> _State:
    rng = random.Random(f"{seed}-{EPOCH.isoformat()}-initial")
    customers = {}
    for number in range(1, _INITIAL_CUSTOMERS + 1):
        customer = _new_customer(rng, number, EPOCH)
        customers[customer.customer_id] = customer
    products = {}
    for number in range(1, _PRODUCTS + 1):
        product_id = f"P{number:03d}"
        name = f"{rng.choice(('Classic', 'Smart', 'Eco', 'Pro'))} {rng.choice(_PRODUCT_WORDS)}"
        price = round(rng.uniform(2.0, 250.0), 2)
        products[product_id] = _Product(
            product_id, name, rng.choice(_CATEGORIES), price, number % 10 != 0,
            rng.randrange(50, 5000),
        )
    return _State(EPOCH, customers, products, _issue_id(_INITIAL_CUSTOMERS + 1))


def _changed(rng: random.Random, customer: _Customer, day: date) -> _Customer:
    """``customer`` with one of city, segment or email set to a different value."""
    field = rng.choice(("city", "segment", "email"))
    if field == "email":
        value = customer.email
        while value == customer.email:
            value = _email(rng, customer.name)
    else:
        options = _CITIES if field == "city" else SEGMENTS
        value = rng.choice([o for o in options if o != getattr(customer, field)])
    return replace(customer, **{field: value, "updated_at": day})


def _next_state(state: _State, seed: int) -> _State:
    day = state.day + timedelta(days=1)
    rng = random.Random(f"{seed}-{day.isoformat()}-customers")
    customers = dict(state.customers)
    ids = sorted(customers)
    changed = rng.sample(ids, rng.randint(3, 5))
    for customer_id in changed:
        customers[customer_id] = _changed(rng, customers[customer_id], day)
    for customer_id in rng.sample([i for i in ids if i not in changed], rng.randint(1, 2)):
        del customers[customer_id]
    number = state.next_customer
    for _ in range(rng.randint(2, 3)):
        customer = _new_customer(rng, number, day)
        customers[customer.customer_id] = customer
        number = _issue_id(number + 1)

    rng = random.Random(f"{seed}-{day.isoformat()}-products")
    products = dict(state.products)
    if rng.random() < 0.3:
        product = products[rng.choice(sorted(products))]
        price = product.unit_price
        while price == product.unit_price:
            price = round(product.unit_price * rng.uniform(0.8, 1.2), 2)
        products[product.product_id] = replace(product, unit_price=price)
    return _State(day, customers, products, number)


def _recent_states(seed: int, logical_date: date) -> list[_State]:
    """The states of ``logical_date`` and up to 3 days before it, oldest first."""
    state = _initial_state(seed)
    recent = deque([state], maxlen=_MAX_LATE_DAYS + 1)
    while state.day < logical_date:
        state = _next_state(state, seed)
        recent.append(state)
    return list(recent)


def environment_of(logical_date: date) -> str:
    """The environment of a day's drop: SERVING (no label) on :data:`SERVING_DAYS`, else
    TRAINING."""
    return "SERVING" if logical_date in SERVING_DAYS else "TRAINING"


def _order(rng: random.Random, order_id: str, customer_id: str, state: _State,
           today: date | None = None) -> dict[str, object]:
    """One valid order placed on ``state.day``, as delivered on ``today`` (default: that day)."""
    today = today or state.day
    product = rng.choice([p for p in state.products.values() if p.active])
    quantity = rng.randint(1, 5)
    order_ts = datetime.combine(state.day, time()) + timedelta(minutes=rng.randrange(24 * 60))
    weights = _SHIFTED_PAYMENT_WEIGHTS if today >= PAYMENT_SHIFT_FROM else _PAYMENT_WEIGHTS
    order: dict[str, object] = {
        "order_id": order_id,
        "customer_id": customer_id,
        "product_id": product.product_id,
        "quantity": quantity,
        "amount": round(quantity * product.unit_price, 2),
        "order_ts": order_ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "payment": rng.choices(PAYMENTS, weights)[0],
        "returned": rng.random() < 0.1,
    }
    if today >= CHANNEL_FROM:
        order["channel"] = rng.choice(_CHANNELS)
    if today in SERVING_DAYS:
        del order["returned"]
    return order


def _attributes(customer: _Customer) -> tuple[str, str, str]:
    return customer.email, customer.city, customer.segment


def _late_orders(rng: random.Random, states: list[_State]) -> list[dict[str, object]]:
    """Orders placed 1-3 days ago by customers who existed then and have changed since."""
    if len(states) == 1:
        return []
    today = states[-1]
    orders: list[dict[str, object]] = []
    used: set[str] = set()
    for index in range(1, LATE_ORDERS + 1):
        lag = rng.randint(1, len(states) - 1)
        then = states[-1 - lag]
        alive = sorted(set(then.customers) & set(today.customers) - used)
        changed = [
            i for i in alive if _attributes(then.customers[i]) != _attributes(today.customers[i])
        ]
        customer_id = rng.choice(changed or alive)
        used.add(customer_id)
        order_id = f"O{then.day:%Y%m%d}-{lag}{index:04d}"
        orders.append(_order(rng, order_id, customer_id, then, today.day))
    return orders


def _order_lines(seed: int, states: list[_State]) -> tuple[list[str], list[dict[str, object]]]:
    """The day's NDJSON lines (shuffled, with dirt) and the valid orders usable for invoices."""
    today = states[-1]
    rng = random.Random(f"{seed}-{today.day.isoformat()}-orders")
    customer_ids = sorted(today.customers)
    sequence = iter(range(1, 100_000))

    def fresh() -> dict[str, object]:
        order_id = f"O{today.day:%Y%m%d}-{next(sequence):05d}"
        return _order(rng, order_id, rng.choice(customer_ids), today)

    late = _late_orders(rng, states)
    dirt = DUPLICATE_LINES + MISSING_KEYS + WRONG_TYPES + NEGATIVE_AMOUNTS + UNKNOWN_CUSTOMERS
    valid = [fresh() for _ in range(ORDER_LINES - len(late) - dirt)]
    null_key, no_key = fresh(), fresh()
    null_key["order_id"] = None
    del no_key["order_id"]
    dirty = [null_key, no_key]
    word, comma = fresh(), fresh()
    word["quantity"] = ("one", "two", "three", "four", "five")[int(word["quantity"]) - 1]
    comma["amount"] = f"{comma['amount']:.2f}".replace(".", ",")
    dirty += [word, comma]
    for _ in range(NEGATIVE_AMOUNTS):
        row = fresh()
        row["amount"] = -float(row["amount"])
        dirty.append(row)
    for customer_id in UNKNOWN_CUSTOMER_IDS[:UNKNOWN_CUSTOMERS]:
        dirty.append({**fresh(), "customer_id": customer_id})
    rows = valid + late + dirty + rng.sample(valid, DUPLICATE_LINES)
    lines = [json.dumps(row) for row in rows]
    rng.shuffle(lines)
    return lines, valid


def _customers_csv(state: _State) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CUSTOMER_COLUMNS)
    for c in sorted(state.customers.values(), key=lambda c: c.customer_id):
        writer.writerow(
            (c.customer_id, c.name, c.email, c.city, c.segment, c.updated_at.isoformat())
        )
    return buffer.getvalue().encode("utf-8")


def _write_products(path: Path, state: _State) -> None:
    products = [state.products[key] for key in sorted(state.products)]
    weight = pa.int64() if state.day >= WEIGHT_INT64_FROM else pa.int32()
    schema = pa.schema(
        [
            ("product_id", pa.string()),
            ("name", pa.string()),
            ("category", pa.string()),
            ("unit_price", pa.float64()),
            ("active", pa.bool_()),
            ("weight_g", weight),
        ]
    )
    columns = {name: [getattr(p, name) for p in products] for name in schema.names}
    pq.write_table(pa.table(columns, schema=schema), path)


def generate_drop(out_dir: Path, logical_date: date, seed: int = 7) -> Drop:
    """Write the drop of ``logical_date`` into ``out_dir`` (created) and list the files written.

    Files already in ``out_dir`` that the drop does not produce are left alone: use a fresh folder
    per drop. Raises ``ValueError`` when ``logical_date`` is before :data:`EPOCH`.
    """
    if logical_date < EPOCH:
        raise ValueError(
            f"logical_date {logical_date.isoformat()} is before the demo source's first day "
            f"{EPOCH.isoformat()}; pass a date on or after it"
        )
    states = _recent_states(seed, logical_date)
    today = states[-1]
    lines, valid = _order_lines(seed, states)
    root = Path(out_dir)
    documents = root / "documents"
    documents.mkdir(parents=True, exist_ok=True)
    written = [root / "customers.csv", root / "orders.ndjson", root / "products.parquet"]
    written[0].write_bytes(_customers_csv(today))
    written[1].write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    _write_products(written[2], today)
    rng = random.Random(f"{seed}-{logical_date.isoformat()}-documents")
    active = sorted(p for p, product in today.products.items() if product.active)
    first_ticket = 10_001 + 2 * (logical_date - EPOCH).days
    for name, content in demo_documents.day_documents(rng, active, valid, first_ticket).items():
        (documents / name).write_bytes(content)
        written.append(documents / name)
    marker = root / "_SUCCESS"  # the drop is complete (complete_when: marker), written last
    marker.write_bytes(b"")
    written.append(marker)
    log.info("demo drop for %s written to %s: %s files", logical_date, root, len(written))
    return Drop(root=root, logical_date=logical_date, files=tuple(sorted(written)))
