"""A class archive of the Spark driver's JVM (Java's AppCDS), so a local JVM starts warm.

A local Spark driver loads and verifies tens of thousands of classes (Spark, Delta, Hive's
metastore client) each time it starts: most of a cold session's first seconds, and much of a
first query's. A *dynamic class archive* holds them parsed and verified; a JVM started with it
maps them in instead (a session and its first Delta writes measured about a quarter faster).

The archive belongs to one installation: Java records the JVM's class path (jar sizes and times)
in it, and a JVM whose class path differs ignores it. So its file name is a digest of the Java
runtime and every jar the driver loads (:func:`archive_key`), kept in the jars folder; a changed
installation has a new digest, no archive, and starts as before until the next ``make setup``.

``python -m lake.platform.class_archive`` (run by ``make setup``) builds it: one JVM runs a day of
the retail example in a temporary home and writes the classes it loaded when it exits.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lake.config.settings import Settings

PREFIX = "jvm-classes-"
# A JVM that cannot use the archive (another Java, a changed jar) starts without it, silently.
QUIET = "-Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"


def _java_home() -> Path | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        return Path(home)
    java = shutil.which("java")
    return Path(os.path.realpath(java)).parent.parent if java else None


def _spark_jars() -> list[Path]:
    import pyspark

    return sorted((Path(pyspark.__file__).parent / "jars").glob("*.jar"))


def archive_key(settings: Settings) -> str | None:
    """A digest of what the archive depends on: the Java runtime and each jar on the driver's
    class path (name, size, modification time). None: no Java found."""
    java = _java_home()
    if java is None:
        return None
    digest = hashlib.sha256()
    for path in [java / "release", java / "lib" / "modules", *_spark_jars(),
                 *sorted(settings.jars_dir.glob("*.jar"))]:  # (no folder: no jars)
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def archive_path(settings: Settings) -> Path | None:
    """Where this installation's archive is (or goes); None: no Java found."""
    key = archive_key(settings)
    return settings.jars_dir / f"{PREFIX}{key}.jsa" if key else None


def java_options(settings: Settings) -> str:
    """The driver's JVM options that use this installation's archive ("" when there is none),
    or, in the JVM that builds it, write it."""
    if _building is not None:
        return f"-XX:ArchiveClassesAtExit={_building}"
    path = archive_path(settings)
    if path is None or not path.is_file():
        return ""
    return f"-XX:SharedArchiveFile={path} {QUIET}"


_building: str | None = None  # set in the process that builds the archive (see _run_day)


def build(settings: Settings) -> Path | None:
    """Build this installation's archive unless it exists (older ones are removed); its path."""
    import subprocess

    path = archive_path(settings)
    if path is None or not settings.jars_dir.is_dir():
        print("class archive: no Java or no jars folder; skipped", file=sys.stderr)
        return None
    if path.is_file():
        return path
    repo = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory(prefix="lakehouse-class-archive-") as tmp:
        partial = Path(tmp) / "classes.jsa"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
        env.update(LAKEHOUSE_HOME=str(Path(tmp) / "home"), LAKEHOUSE_JARS_DIR=str(settings.jars_dir),
                   LAKEHOUSE_PROJECT=str(repo / "examples" / "retail"))
        code = f"from lake.platform.class_archive import _run_day; _run_day({str(partial)!r})"
        # its own process: the JVM writes the archive when it exits, with the Python process
        log = Path(tmp) / "build.log"
        with log.open("w") as out:
            try:
                subprocess.run([sys.executable, "-c", code], env=env, cwd=repo, check=True,
                               stdout=out, stderr=subprocess.STDOUT, timeout=900)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
                # an archive only speeds sessions up: without it they start as before
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                print(f"class archive: not built ({err}); sessions start without it. Last "
                      "lines of its run:\n  " + "\n  ".join(tail), file=sys.stderr)
                return None
        if not partial.is_file():
            print("class archive: the JVM wrote no archive; skipped", file=sys.stderr)
            return None
        for old in settings.jars_dir.glob(f"{PREFIX}*.jsa"):
            old.unlink()
        shutil.move(partial, path)
    return path


def _run_day(archive: str) -> None:
    """A day of the retail example through the jobs, in a JVM that writes ``archive``."""
    global _building  # noqa: PLW0603 - this process's JVM only
    from datetime import date

    import jobs.bronze
    import jobs.land
    import jobs.load_warehouse
    import jobs.validate
    from examples.retail.generator.source import generate_drop
    from jobs.run import JobArgs, execute
    from lake.config.settings import load_settings
    from lake.platform.session import get_session

    _building = archive
    settings = load_settings()
    day = date(2026, 1, 1)
    generate_drop(Path(settings.source_root) / "retail" / f"ds={day}", day, 7)
    spark = get_session(settings, app_name="class-archive")
    for job, body in (("land", jobs.land.body), ("bronze", jobs.bronze.body),
                      ("validate", jobs.validate.body)):
        execute(JobArgs(job, "retail", day), body)
    execute(JobArgs("load_warehouse", logical_date=day, dag="warehouse"),
            jobs.load_warehouse.body)
    jvm = spark.sparkContext._gateway.proc  # the driver JVM PySpark started
    spark.stop()
    jvm.stdin.close()  # the JVM exits when its standard input closes, writing the archive
    jvm.wait(timeout=600)


def main() -> int:
    from lake.config.settings import load_settings

    started = time.perf_counter()
    path = build(load_settings())
    if path:
        print(f"class archive: {path} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
