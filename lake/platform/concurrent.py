"""Independent Spark work of one job run side by side on its session.

A small batch's Delta write is mostly driver-side waiting (planning, the transaction log, a few
one-task jobs), so the writes of different tables overlap well even on two cores. Each call gets
its own thread (PySpark pins it to a JVM thread); Spark schedules their jobs together.

Only work on different tables belongs here: two commits to one table would conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

MAX_THREADS = 6


def run_concurrently(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Every call's result, in order. Every call runs to its end; the first error (in call
    order) is raised after all have finished, so none is left writing behind the caller."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(calls)),
                            thread_name_prefix="lakehouse-write") as pool:
        futures = [pool.submit(call) for call in calls]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]
    return [f.result() for f in futures]
