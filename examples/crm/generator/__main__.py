"""``python -m examples.crm.generator``: bring the CRM database and the usage feed to a day.

    python -m examples.crm.generator --day 2026-01-03 [--seed 7] [--database URL] [--usage DIR]

Applies every CRM day up to ``--day`` the database has not seen (``--database``, default the
setting ``LAKEHOUSE_CONN_CRM``) and writes the usage file of each of those days into
``<usage>/ds=<day>/`` (default: ``<source_root>/usage``, where the example's ``usage`` source
looks).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

from examples.crm.generator.history import EPOCH, SEED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.crm.generator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--day", type=date.fromisoformat, required=True,
                        help=f"the last day to generate, YYYY-MM-DD (from {EPOCH})")
    parser.add_argument("--seed", type=int, default=SEED, help="the generator's seed")
    parser.add_argument("--database", default=None,
                        help="postgresql://USER:PASSWORD@HOST:PORT/DB (default: LAKEHOUSE_CONN_CRM)")
    parser.add_argument("--usage", type=Path, default=None,
                        help="the usage feed's root folder (default: <source_root>/usage)")
    args = parser.parse_args(argv)
    if args.day < EPOCH:
        parser.error(f"--day must be on or after {EPOCH}")

    from examples.crm.generator.database import apply_day
    from examples.crm.generator.usage import write_usage
    from lake.config.settings import load_settings

    settings = load_settings()
    url = args.database or settings.connections.get("crm")
    if not url:
        parser.error("give --database or set LAKEHOUSE_CONN_CRM=postgresql://USER:PASSWORD@HOST:"
                     "PORT/DB")
    usage = args.usage or Path(settings.source_root) / "usage"
    applied = apply_day(url, args.day, args.seed)
    day = EPOCH
    while day <= args.day:
        write_usage(usage / f"ds={day.isoformat()}", day, args.seed)
        day += timedelta(days=1)
    print(f"crm database: applied {', '.join(str(d.day) for d in applied) or 'nothing new'}; "
          f"usage files through {args.day} in {usage}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
