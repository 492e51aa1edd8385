"""`lakehouse sql` as an analyst runs it: its own process, a fresh home, nothing but the result
on standard output and, on standard error, only what the analyst needs (no Spark start-up
warnings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_first_query_is_quiet_and_says_when_rows_were_cut(tmp_path):
    env = {**os.environ, "LAKEHOUSE_HOME": str(tmp_path), "PYTHONPATH": str(REPO),
           "LAKEHOUSE_SQL_ROW_LIMIT": "5",
           # an embedded catalog of its own: this process is the only one using it
           "LAKEHOUSE_METASTORE_URL": f"jdbc:derby:;databaseName={tmp_path / 'ms'};create=true"}
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse.cli.main", "sql", "--format", "csv",
         "SELECT id FROM range(8) ORDER BY id"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["id", "0", "1", "2", "3", "4"]
    assert done.stderr.strip() == (
        "(showing the first 5 rows; the query returned more: --limit N shows N, --limit 0 shows "
        "all, LAKEHOUSE_SQL_ROW_LIMIT sets the default)")
    assert (tmp_path / "logs" / "lakehouse-sql.log").is_file()  # where Spark's own output went
