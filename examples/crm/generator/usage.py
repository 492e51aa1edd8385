"""The product's usage feed: one NDJSON file of events a day, with a ``_SUCCESS`` marker.

:func:`write_usage` writes ``events.ndjson`` of a day into its delivery folder; the bytes depend
only on the seed and the day (the accounts come from :mod:`~examples.crm.generator.history`).
Each line: ``event_id``, ``region``, ``account_no``, ``event_ts`` (ISO 8601, UTC, with
microseconds), ``metric``, ``quantity``. A day holds:

==================  =====  =========================================================================
kind                lines  what it tests
==================  =====  =========================================================================
on time             12     events between 10:00 and 20:00 of the day by accounts live all day
                           (``E<yyyymmdd><nnn>``); an account changed at 14:00 has events before
                           and after its change, which key to two versions
late                1      from the second day: an event 1-2 days old (15:30 then) by an account
                           that changed since (``E<yyyymmdd>L01``); the fact must key it to the
                           account's version valid then, not the current one
not yet in the CRM  1      an event at 12:00 by an account the CRM creates only the next day
                           (``E<yyyymmdd>U01``): the dimension does not know it yet, so the fact
                           infers a member, filled in when the account arrives
dirt                1      ``quantity`` -5 (``E<yyyymmdd>X01``): the contract's range rule
                           quarantines it
==================  =====  =========================================================================
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from examples.crm.generator.history import EPOCH, SEED, Account, at, history

EVENTS_PER_DAY = 12
METRICS = ("api_calls", "storage_gb", "exports")
MAX_LATE_DAYS = 2


def usage_events(day: date, seed: int = SEED) -> list[dict]:
    """The events delivered on ``day``, in file order."""
    days = history(day + timedelta(days=1), seed)
    today, tomorrow = days[-2], days[-1]
    rng = random.Random(f"usage:{seed}:{day.isoformat()}")
    events = []
    live_all_day = [a for a in today.live() if a.created_at < at(day, 10)]
    for n in range(EVENTS_PER_DAY):
        account = rng.choice(live_all_day)
        moment = at(day, 10, rng.randrange(0, 10 * 60), rng.randrange(1, 10**6))
        events.append(_event(f"E{day:%Y%m%d}{n + 1:03d}", account, moment, rng))
    late = _late(days, rng)
    if late is not None:
        events.append(_event(f"E{day:%Y%m%d}L01", late[0], late[1], rng))
    newcomer = tomorrow.created()[0]
    events.append(_event(f"E{day:%Y%m%d}U01", newcomer, at(day, 12, 0, rng.randrange(1, 10**6)),
                         rng))
    dirty = _event(f"E{day:%Y%m%d}X01", rng.choice(live_all_day),
                   at(day, 18, 0, rng.randrange(1, 10**6)), rng)
    events.append({**dirty, "quantity": -5})
    return events


def _late(days: list, rng: random.Random) -> tuple[Account, datetime] | None:
    """An account that existed ``lag`` days ago at 15:30 and has changed since (the latest
    change first), with that moment."""
    today = days[-2]
    lag = min(MAX_LATE_DAYS, (today.day - EPOCH).days)
    if lag == 0:
        return None
    moment = at(today.day - timedelta(days=lag), 15, 30, rng.randrange(1, 10**6))
    changed_since = [c.account for d in reversed(days[-2 - lag:-1]) for c in d.changes
                     if c.kind == "update" and c.account.created_at < moment
                     and c.account.updated_at > moment]
    return (changed_since[0], moment) if changed_since else None


def _event(event_id: str, account: Account, moment: datetime, rng: random.Random) -> dict:
    return {"event_id": event_id, "region": account.region, "account_no": account.account_no,
            "event_ts": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "metric": rng.choice(METRICS), "quantity": rng.randint(1, 500)}


def write_usage(out_dir: Path, day: date, seed: int = SEED) -> Path:
    """Write ``day``'s ``events.ndjson`` and ``_SUCCESS`` into ``out_dir``; the events file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "events.ndjson"
    path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in usage_events(day, seed)),
                    encoding="utf-8")
    (out_dir / "_SUCCESS").write_text("")
    return path
