"""``make demo``: the retail example run as a user runs their own project.

Generates the retail source's daily drops (2026-01-01 to 2026-01-04) into the source root, then
runs the real commands with ``LAKEHOUSE_PROJECT`` pointing at this example: ``lakehouse sources
validate``, ``lakehouse run retail --ds D`` for each day (the fourth a serving feed, without the
label: ``--environment SERVING``), and ``lakehouse status``.

    python -m examples.retail.demo [--days N] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parent
FIRST_DAY = date(2026, 1, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.retail.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=4, help="days to run (default 4)")
    parser.add_argument("--seed", type=int, default=7, help="the generator's seed")
    args = parser.parse_args(argv)
    os.environ.setdefault("LAKEHOUSE_PROJECT", str(PROJECT))

    from examples.retail.generator.source import environment_of, generate_drop
    from lake.config.settings import load_settings
    from lakehouse.cli.main import main as lakehouse

    settings = load_settings()
    started = time.perf_counter()
    days = [FIRST_DAY + timedelta(days=n) for n in range(args.days)]
    for day in days:
        generate_drop(Path(settings.source_root) / "retail" / f"ds={day}", day, args.seed)
    print(f"generated {len(days)} daily drops of the retail source in "
          f"{settings.source_root}/retail", file=sys.stderr)
    steps = [["sources", "validate"]]
    for day in days:
        environment = environment_of(day)
        steps.append(["run", "retail", "--ds", day.isoformat()]
                     + (["--environment", environment] if environment != "TRAINING" else []))
    steps.append(["status"])
    for step in steps:
        print(f"\n$ lakehouse {' '.join(step)}", file=sys.stderr, flush=True)
        code = lakehouse(step)
        if code != 0:
            print(f"lakehouse {' '.join(step)} exited {code}", file=sys.stderr)
            return code
    print(f"\ndemo done in {time.perf_counter() - started:.0f}s. Next:\n"
          '  lakehouse sql "SELECT * FROM warehouse.dim_customer WHERE NOT is_current"\n'
          "  lakehouse quality report retail.orders\n"
          "  lakehouse contract history retail.orders\n"
          "  lakehouse lineage upstream warehouse.fact_orders\n"
          f"(with LAKEHOUSE_PROJECT={PROJECT})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
