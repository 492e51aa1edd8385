"""The CRM's history, planned day by day: which accounts are created, changed and deleted, the
orders placed and the plans on sale. Pure and deterministic: :func:`history` replays every day
from :data:`EPOCH` with a random generator seeded by the seed and the day, so a day's changes are
the same whatever was generated before and in whatever order.

==============  ================================================================================
day             what happens in the CRM
==============  ================================================================================
EPOCH           12 accounts: numbers 1001-1004 in each of eu, us and apac (the key is
                (region, account_no): the same number in two regions is two accounts); four
                plans, ``legacy`` no longer on sale; no orders yet
every later     3 accounts change one thing (plan, seats or email) at a moment between 09:00
day             and 18:00, ``updated_at`` bumped; 1 account is soft-deleted at 13:00
                (``deleted_at`` and ``updated_at`` set); 2 accounts are created at 08:30+; 2
                orders are placed (``order_id`` keeps counting)
EPOCH + 2       the ``team`` plan's fee goes from 99.00 to 109.00
==============  ================================================================================

Every moment has microseconds, so an extract that rounded its watermark would read a change
twice or never. Times are UTC: accounts use ``timestamptz``; orders' ``ordered_at`` is a
``timestamp`` without time zone holding UTC wall-clock time.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

EPOCH = date(2026, 1, 1)
SEED = 7
REGIONS = ("eu", "us", "apac")
FIRST_NUMBERS = range(1001, 1005)
UPDATES_PER_DAY = 3
DELETES_PER_DAY = 1
CREATES_PER_DAY = 2
ORDERS_PER_DAY = 2
FEE_CHANGE_DAY = EPOCH + timedelta(days=2)

Key = tuple[str, int]


@dataclass(frozen=True)
class Plan:
    plan_id: str
    name: str
    monthly_fee: Decimal
    active: bool


@dataclass(frozen=True)
class Account:
    region: str
    account_no: int
    name: str
    email: str
    plan_id: str
    seats: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    @property
    def key(self) -> Key:
        return (self.region, self.account_no)


@dataclass(frozen=True)
class Change:
    """One change of an account: ``create``, ``update`` or ``delete``; the row after it."""

    kind: str
    account: Account


@dataclass(frozen=True)
class Order:
    order_id: int
    region: str
    account_no: int
    plan_id: str
    ordered_at: datetime  # naive: UTC wall-clock time (a timestamp without time zone)


@dataclass(frozen=True)
class Day:
    """A day of the CRM: what changed, and the state at its end (deleted accounts included)."""

    day: date
    changes: tuple[Change, ...]
    orders: tuple[Order, ...]
    plans: tuple[Plan, ...]
    accounts: dict[Key, Account]
    last_order_id: int = 0

    def live(self) -> list[Account]:
        """Accounts not deleted at the end of the day, by key."""
        return [a for _, a in sorted(self.accounts.items()) if a.deleted_at is None]

    def created(self) -> list[Account]:
        return [c.account for c in self.changes if c.kind == "create"]

    def updated(self) -> list[Account]:
        return [c.account for c in self.changes if c.kind == "update"]


INITIAL_PLANS = (
    Plan("starter", "Starter", Decimal("29.00"), True),
    Plan("team", "Team", Decimal("99.00"), True),
    Plan("business", "Business", Decimal("299.00"), True),
    Plan("legacy", "Legacy", Decimal("10.00"), False),
)


def at(day: date, hour: int, minute: int = 0, micros: int = 0) -> datetime:
    """A UTC moment of ``day``."""
    return datetime.combine(day, time(hour), tzinfo=UTC) + timedelta(minutes=minute,
                                                                     microseconds=micros)


def history(through: date, seed: int = SEED) -> list[Day]:
    """Every day from :data:`EPOCH` through ``through``, in order."""
    if through < EPOCH:
        raise ValueError(f"day {through} is before the CRM's first day {EPOCH}; pass a date on "
                         "or after it")
    return list(_history(through, seed))


@functools.cache
def _history(through: date, seed: int) -> tuple[Day, ...]:
    days = [_first_day(seed)]
    while days[-1].day < through:
        days.append(_next_day(days[-1], seed))
    return tuple(days)


def _first_day(seed: int) -> Day:
    rng = random.Random(f"crm:{seed}:{EPOCH.isoformat()}")
    changes = []
    for r, region in enumerate(REGIONS):
        for n, number in enumerate(FIRST_NUMBERS):
            moment = at(EPOCH, 8, 4 * (r * len(FIRST_NUMBERS) + n), rng.randrange(1, 10**6))
            changes.append(Change("create", _new_account(rng, region, number, moment)))
    return Day(EPOCH, tuple(changes), (), INITIAL_PLANS,
               {c.account.key: c.account for c in changes})


def _new_account(rng: random.Random, region: str, number: int, moment: datetime) -> Account:
    plan = rng.choice([p.plan_id for p in INITIAL_PLANS if p.active])
    return Account(region, number, f"{region.upper()} Customer {number}",
                   f"billing.{number}@{region}.example.com", plan, rng.randint(1, 40), moment,
                   moment)


def _next_day(before: Day, seed: int) -> Day:
    day = before.day + timedelta(days=1)
    rng = random.Random(f"crm:{seed}:{day.isoformat()}")
    accounts = dict(before.accounts)
    plans = tuple(replace(p, monthly_fee=Decimal("109.00")) if day == FEE_CHANGE_DAY and
                  p.plan_id == "team" else p for p in before.plans)
    live = before.live()
    changes: list[Change] = []
    touched = rng.sample(live, UPDATES_PER_DAY + DELETES_PER_DAY)
    for account in touched[:UPDATES_PER_DAY]:
        moment = at(day, 9, rng.randrange(0, 9 * 60), rng.randrange(1, 10**6))
        changed = _changed(rng, account, moment)
        accounts[changed.key] = changed
        changes.append(Change("update", changed))
    for account in touched[UPDATES_PER_DAY:]:
        moment = at(day, 13, 0, rng.randrange(1, 10**6))
        gone = replace(account, updated_at=moment, deleted_at=moment)
        accounts[gone.key] = gone
        changes.append(Change("delete", gone))
    for n in range(CREATES_PER_DAY):
        region = rng.choice(REGIONS)
        number = max(no for r, no in accounts if r == region) + 1
        moment = at(day, 8, 30 + 7 * n, rng.randrange(1, 10**6))
        created = _new_account(rng, region, number, moment)
        accounts[created.key] = created
        changes.append(Change("create", created))
    alive = [a for _, a in sorted(accounts.items()) if a.deleted_at is None]
    orders = []
    for n, account in enumerate(rng.sample(alive, ORDERS_PER_DAY)):
        moment = at(day, 11, rng.randrange(0, 6 * 60), rng.randrange(1, 10**6))
        orders.append(Order(before.last_order_id + n + 1, account.region, account.account_no,
                            account.plan_id, moment.replace(tzinfo=None)))
    return Day(day, tuple(changes), tuple(orders), plans, accounts,
               before.last_order_id + len(orders))


def _changed(rng: random.Random, account: Account, moment: datetime) -> Account:
    what = rng.choice(("plan", "seats", "email"))
    if what == "plan":
        plan = rng.choice([p.plan_id for p in INITIAL_PLANS if p.active and
                           p.plan_id != account.plan_id])
        return replace(account, plan_id=plan, updated_at=moment)
    if what == "seats":
        return replace(account, seats=account.seats + rng.randint(1, 10), updated_at=moment)
    email = account.email
    while email == account.email:
        email = f"ops{rng.randint(1, 99)}.{account.account_no}@{account.region}.example.com"
    return replace(account, email=email, updated_at=moment)
