"""The CRM's PostgreSQL database, brought to a day of :mod:`~examples.crm.generator.history`
through psycopg, as the CRM application would write it: inserts, updates that bump
``updated_at``, soft deletes that set ``deleted_at`` (and bump ``updated_at``).

:func:`apply_day` creates the schema ``crm`` when missing and applies every day up to the one
asked for that the database has not seen yet, each in one transaction recorded in
``crm.generator_days``; a day already applied is not applied again, so running it twice (or for
an earlier day) changes nothing.

Tables (``crm.generator_days`` is the generator's own bookkeeping, not part of the CRM):

- ``crm.accounts``: key (region, account_no); ``created_at``, ``updated_at``, ``deleted_at``
  are ``timestamptz``;
- ``crm.orders``: ``order_id`` bigint, ``ordered_at`` a ``timestamp`` without time zone (UTC);
- ``crm.plans``: ``plan_id``, ``name``, ``monthly_fee numeric(10,2)``, ``active``.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from examples.crm.generator.history import EPOCH, SEED, Change, Day, history

log = logging.getLogger(__name__)

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS crm;
CREATE TABLE IF NOT EXISTS crm.plans (
    plan_id     text PRIMARY KEY,
    name        text NOT NULL,
    monthly_fee numeric(10, 2) NOT NULL,
    active      boolean NOT NULL
);
CREATE TABLE IF NOT EXISTS crm.accounts (
    region     text NOT NULL,
    account_no integer NOT NULL,
    name       text NOT NULL,
    email      text NOT NULL,
    plan_id    text NOT NULL REFERENCES crm.plans (plan_id),
    seats      integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz,
    PRIMARY KEY (region, account_no)
);
CREATE INDEX IF NOT EXISTS accounts_updated_at ON crm.accounts (updated_at);
CREATE TABLE IF NOT EXISTS crm.orders (
    order_id   bigint PRIMARY KEY,
    region     text NOT NULL,
    account_no integer NOT NULL,
    plan_id    text NOT NULL,
    ordered_at timestamp NOT NULL
);
CREATE TABLE IF NOT EXISTS crm.generator_days (
    day        date PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""


def conninfo(url: str) -> str:
    """A psycopg connection string from ``postgresql://`` or SQLAlchemy's
    ``postgresql+psycopg://`` URL (anything else is passed as it is)."""
    for prefix in ("postgresql+psycopg://", "postgres+psycopg://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


def apply_day(url: str, day: date, seed: int = SEED) -> list[Day]:
    """Bring the database at ``url`` to the end of ``day``; the days applied now (none when it
    was there already)."""
    import psycopg

    applied = []
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute(SCHEMA)
        conn.commit()
        done = {row[0] for row in conn.execute("SELECT day FROM crm.generator_days")}
        for planned in history(day, seed):
            if planned.day in done:
                continue
            previous = planned.day - timedelta(days=1)
            if planned.day > EPOCH and previous not in done:
                raise RuntimeError(f"{url.split('@')[-1]}: day {previous} was never applied; the "
                                   "database does not follow the generator's history")
            with conn.transaction():
                _apply(conn, planned)
                conn.execute("INSERT INTO crm.generator_days (day) VALUES (%s)", (planned.day,))
            done.add(planned.day)
            applied.append(planned)
            log.info("crm database: applied %s (%d account changes, %d orders)", planned.day,
                     len(planned.changes), len(planned.orders))
    return applied


def _apply(conn, day: Day) -> None:
    for plan in day.plans:
        conn.execute(
            "INSERT INTO crm.plans (plan_id, name, monthly_fee, active) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (plan_id) DO UPDATE SET name = excluded.name, "
            "monthly_fee = excluded.monthly_fee, active = excluded.active "
            "WHERE (crm.plans.name, crm.plans.monthly_fee, crm.plans.active) IS DISTINCT FROM "
            "(excluded.name, excluded.monthly_fee, excluded.active)",
            (plan.plan_id, plan.name, plan.monthly_fee, plan.active))
    for change in day.changes:
        _change(conn, change)
    for order in day.orders:
        conn.execute("INSERT INTO crm.orders (order_id, region, account_no, plan_id, ordered_at) "
                     "VALUES (%s, %s, %s, %s, %s)",
                     (order.order_id, order.region, order.account_no, order.plan_id,
                      order.ordered_at))


def _change(conn, change: Change) -> None:
    a = change.account
    if change.kind == "create":
        conn.execute(
            "INSERT INTO crm.accounts (region, account_no, name, email, plan_id, seats, "
            "created_at, updated_at, deleted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (a.region, a.account_no, a.name, a.email, a.plan_id, a.seats, a.created_at,
             a.updated_at, a.deleted_at))
    elif change.kind == "update":
        conn.execute(
            "UPDATE crm.accounts SET name = %s, email = %s, plan_id = %s, seats = %s, "
            "updated_at = %s WHERE region = %s AND account_no = %s",
            (a.name, a.email, a.plan_id, a.seats, a.updated_at, a.region, a.account_no))
    elif change.kind == "delete":
        conn.execute(
            "UPDATE crm.accounts SET deleted_at = %s, updated_at = %s "
            "WHERE region = %s AND account_no = %s",
            (a.deleted_at, a.updated_at, a.region, a.account_no))
    else:
        raise ValueError(f"unknown change kind {change.kind!r}")
