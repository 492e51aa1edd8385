"""Database extracts over JDBC: a full table (or query) each run, or what changed since the last
extract by a watermark column.

``source.yaml``::

    deliveries:
      connector: jdbc
      connection: crm                  # LAKEHOUSE_CONN_CRM (never a password in a declaration)
    datasets:
      accounts:
        table: crm.accounts
        incremental: {column: updated_at, lookback: 0}
      plans:
        query: "SELECT plan_id, name, monthly_fee FROM crm.plans WHERE active"

**Incremental.** The watermark is kept in the lake, not in a state file: it is the ``high`` of
the dataset's committed extracts in the landing ledger (:mod:`lake.ingest.landing`), whose
manifest is written last. One probe asks the database for the column's maximum over the rows
after it (``high``); the extract then reads ``low < column <= high``, so rows committed while it
runs wait for the next run. A run that dies after reading and before its manifest left no batch,
so the next run reads the same rows again (and whatever changed since): a crash re-reads, it
never skips. ``lookback`` widens a run that finds something after ``low`` to a margin before
it, for sources whose rows become visible late (the rows re-read land again; the warehouse loads
drop a change they already hold). Rows whose column is NULL are never read incrementally: make
it NOT NULL. Deletes need a soft-delete column (``deleted_at``) that the
warehouse model reads as a delete (``deleted_when``).

**Watermark values** are the database's own text of the value (``CAST(max(col) AS TEXT)``),
stored as ``<kind>:<text>`` (``timestamp:2026-01-02 10:00:00.123456+00``) and compared by the
database again as a literal of the column's type (:mod:`lake.ingest.watermarks`). So no
precision is lost and no time zone is applied on the way: a ``timestamptz`` carries its offset, a
``timestamp`` stays wall-clock time. (The rows themselves are read by Spark, whose JVM and
session run in UTC, so a ``timestamp`` column's wall-clock time lands unshifted.)

**Full** extracts read everything each run; an extract whose content equals the dataset's last
landed one (a fingerprint of its rows and schema) is not landed again, as a file whose bytes were
already landed is not: no change, no new batch.

The rows land as Parquet in the batch folder. Errors name the source, dataset and connection;
the connection's password never appears in them or in a manifest.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lake.errors import IngestError
from lake.ingest import storage, watermarks
from lake.ingest.landing import Batch, Extract, LandedFile, Ledger, batch_dir

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lake.config.settings import Connection

log = logging.getLogger(__name__)
NEEDS_SPARK = True
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


class Delivery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    connector: Literal["jdbc"]
    connection: str
    fetch_size: int = Field(default=10_000, ge=1, le=1_000_000)

    @field_validator("connection")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9_]{0,39}$", value):
            raise ValueError(f"connection {value!r} must be a lower-case name (its URL comes from "
                             f"the setting LAKEHOUSE_CONN_{value.upper()})")
        return value


class Incremental(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    lookback: float = Field(default=0, ge=0, description="re-read this much before the last "
                            "watermark: seconds for a timestamp column, days for a date, units "
                            "for a number")

    @field_validator("column")
    @classmethod
    def _plain(cls, value: str) -> str:
        if not _COLUMN.match(value):
            raise ValueError(f"column {value!r} must be a plain column name")
        return value


class Partitioning(BaseModel):
    """Read in parallel: ``partitions`` ranges of a numeric ``column`` between the bounds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    lower: int
    upper: int
    partitions: int = Field(default=4, ge=2, le=256)


class Dataset(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str | None = None
    query: str | None = None
    incremental: Incremental | None = None
    partitioning: Partitioning | None = None

    @field_validator("table")
    @classmethod
    def _table(cls, value: str | None) -> str | None:
        if value is not None and not _IDENTIFIER.match(value):
            raise ValueError(f"table {value!r} must be [catalog.][schema.]table")
        return value

    @field_validator("query")
    @classmethod
    def _select(cls, value: str | None) -> str | None:
        if value is None:
            return value
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import ParseError

        try:
            statements = [s for s in sqlglot.parse(value) if s is not None]
        except ParseError as err:
            raise ValueError(f"query is not valid SQL: {str(err).splitlines()[0]}") from err
        if len(statements) != 1 or not isinstance(statements[0], exp.Query):
            raise ValueError("query must be one SELECT statement")
        if any(isinstance(n, (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create,
                              exp.Drop, exp.Command)) for n in statements[0].walk()):
            raise ValueError("query must only read (a SELECT)")
        return value.strip().rstrip(";").strip()

    @model_validator(mode="after")
    def _one_relation(self) -> Dataset:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of table or query")
        return self

    @property
    def unstructured(self) -> bool:
        return False

    @property
    def optional(self) -> bool:
        return True

    @property
    def format(self) -> str:
        return "parquet"

    @property
    def options(self) -> BaseModel:
        from lake.ingest.formats.parquet import Options

        return Options()

    @property
    def relation(self) -> str:
        # newlines: a query ending in a -- comment must not swallow the closing parenthesis
        return self.table if self.table is not None else f"(\n{self.query}\n) AS q"


@functools.cache
def dataset_model() -> type[Dataset]:
    return Dataset


@dataclass(frozen=True)
class Window:
    """The rows an incremental extract reads: ``where`` (``low`` < column <= ``high``)."""

    where: str
    low: str | None
    high: str


def land(spark: SparkSession, settings: Any, source: Any, logical_date: date, *,
         landed_at: datetime | None = None) -> list[Batch]:
    """Extract every dataset of ``source`` into one new batch of ``logical_date`` (see the
    module doc); every batch of that date, the new one last. No new row, no new batch."""
    connection = settings.connection(source.deliveries.connection)
    ledger = Ledger(settings.landing_root, source.name)
    batch_id = ledger.next_batch_id(logical_date)
    _clear_uncommitted(settings.landing_root, source, logical_date, batch_id)
    extracts: list[Extract] = []
    files: list[LandedFile] = []
    for name, dataset in source.datasets.items():
        folder = batch_dir(settings.landing_root, source.name, name, logical_date, batch_id)
        landed = extract(spark, connection, source, name, dataset, ledger, folder)
        if landed is not None:
            extracts.append(landed[0])
            files += landed[1]
    if extracts:
        batch = Batch(source.name, batch_id, logical_date, landed_at or datetime.now(UTC),
                      f"jdbc:{connection.name}", tuple(files), tuple(extracts))
        ledger.commit(batch)
        log.info("landed batch %s of %s: %s", batch_id, source.name,
                 ", ".join(f"{e.dataset} {e.rows} rows ({e.mode})" for e in extracts))
    else:
        log.info("%s: nothing new in connection %s; no batch", source.name, connection.name)
    return ledger.of_date(logical_date)


def extract(spark: SparkSession, connection: Connection, source: Any, name: str,
            dataset: Dataset, ledger: Ledger, folder: str
            ) -> tuple[Extract, list[LandedFile]] | None:
    """Read one dataset's new rows into Parquet files in ``folder``; its Extract and files, or
    None when there is nothing new (no folder is left behind)."""
    window = None
    if dataset.incremental is not None:
        window = _window(spark, connection, source, name, dataset, ledger)
        if window is None:
            return None
    sql = f"SELECT * FROM {dataset.relation}" + (f" WHERE {window.where}" if window else "")
    reader = _reader(spark, connection, source.deliveries.fetch_size, f"({sql}) AS extracted")
    if dataset.partitioning is not None:
        p = dataset.partitioning
        reader = (reader.option("partitionColumn", p.column).option("lowerBound", p.lower)
                  .option("upperBound", p.upper).option("numPartitions", p.partitions))
    _run(connection, source, name, "extract",
         lambda: reader.load().write.mode("overwrite").parquet(_for_spark(folder)))
    files, rows = _landed(folder, name, f"jdbc:{connection.name}/{dataset.table or 'query'}")
    if window is not None:
        if rows == 0:  # the new rows went away between the probe and the read
            storage.remove(folder)
            return None
        column = dataset.incremental.column
        return Extract(name, rows, "incremental", column, window.low, window.high), files
    fingerprint = _fingerprint(spark.read.parquet(_for_spark(folder)))
    earlier = ledger.extracts(name)
    if earlier and earlier[-1][1].fingerprint == fingerprint:
        log.info("%s.%s: same rows as batch %s; not landed again", source.name, name,
                 earlier[-1][0].batch_id)
        storage.remove(folder)
        return None
    return Extract(name, rows, "full", fingerprint=fingerprint), files


def _window(spark: SparkSession, connection: Connection, source: Any, name: str,
            dataset: Dataset, ledger: Ledger) -> Window | None:
    """The rows after the committed watermark, up to the column's maximum now (None: none)."""
    column = dataset.incremental.column
    lookback = dataset.incremental.lookback
    low = ledger.watermark(name, column, order=watermarks.order)
    fresh = f"count(CASE WHEN {column} > {watermarks.literal(low)} THEN 1 END)" if low else \
        f"count({column})"
    since = f" WHERE {column} > {watermarks.literal(low, minus=lookback)}" if low else ""
    probe = _reader(spark, connection, 1,
                    f"(SELECT {fresh} AS fresh, {watermarks.as_text(f'max({column})', connection.url)}"
                    f" AS high, max({column}) AS typed FROM {dataset.relation}{since}) AS probe")
    df = _run(connection, source, name, "watermark probe", probe.load)
    kind = watermarks.kind_of(df.schema["typed"].dataType,
                              f"{source.project.relative(source.file)}: datasets.{name}."
                              f"incremental.column: {column}")
    row = _run(connection, source, name, "watermark probe", df.first)
    if not row["fresh"]:
        log.info("%s.%s: no row with %s after %s", source.name, name, column,
                 watermarks.shown(low))
        return None
    high = f"{kind}:{row['high'].strip()}"
    where = f"{column} <= {watermarks.literal(high)}"
    if low:
        where = f"{column} > {watermarks.literal(low, minus=lookback)} AND {where}"
    return Window(where, low, high)


def spark_url(url: str) -> str:
    """The JDBC URL as Spark is given it. Spark picks its SQL dialect by the URL's prefix and
    knows MySQL's, not MariaDB's: on a ``jdbc:mariadb:`` URL it would quote column names as
    "name", which MariaDB reads as a string. So MariaDB is reached as ``jdbc:mysql:`` with
    ``permitMysqlScheme``, which the MariaDB driver accepts."""
    if not url.startswith("jdbc:mariadb:"):
        return url
    rest = url[len("jdbc:mariadb:"):]
    return f"jdbc:mysql:{rest}{'&' if '?' in rest else '?'}permitMysqlScheme=true"


def _reader(spark: SparkSession, connection: Connection, fetch_size: int, dbtable: str):
    reader = (spark.read.format("jdbc").option("url", spark_url(connection.url))
              .option("dbtable", dbtable).option("fetchsize", fetch_size))
    for key, value in connection.properties.items():
        reader = reader.option(key, value)
    return reader


def _run(connection: Connection, source: Any, name: str, what: str, action):
    """``action()``, with a database error as an IngestError naming the dataset and connection
    (the root cause's message, the password blanked out)."""
    try:
        return action()
    except Exception as err:  # py4j and JDBC errors come in many types; name the dataset
        # Not chained: the JVM's text may quote the connection's options. The whole error,
        # password blanked, goes to the debug log.
        log.debug("%s of %s.%s failed: %s", what, source.name, name,
                  redact(str(err), connection))
        raise IngestError(
            f"{what} of {source.name}.{name} from connection {connection.name} "
            f"(LAKEHOUSE_CONN_{connection.name.upper()}) failed: "
            f"{redact(root_cause(err), connection)}") from None


def root_cause(err: BaseException) -> str:
    """The innermost message of a (JVM) error: the driver's words, not py4j's."""
    java = getattr(err, "java_exception", None)
    if java is not None:
        try:
            while java.getCause() is not None:
                java = java.getCause()
            return str(java.toString())
        except Exception:  # a dead JVM: fall back to the Python text
            pass
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith("An error occurred while calling")]
    return (useful or lines or [type(err).__name__])[0]


def redact(text: str, connection: Connection) -> str:
    """``text`` without the connection's password (as given, or URL-encoded in a URL)."""
    from urllib.parse import quote

    secrets = [connection.properties.get("password", "")]
    secrets += re.findall(r"(?i)password=([^&;\s]+)", connection.url)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


def _fingerprint(df: DataFrame) -> str:
    """Content of an extract, whatever the row order: schema, count and a sum of row hashes."""
    from pyspark.sql import functions as F

    row = df.select(F.count(F.lit(1)).alias("n"), F.sum(F.xxhash64(F.to_json(F.struct(
        *[F.col(f"`{c}`") for c in df.columns]))).cast("decimal(38,0)")).alias("h")).first()
    return hashlib.sha256(f"{df.schema.json()}|{row['n']}|{row['h']}".encode()).hexdigest()


def _landed(folder: str, dataset: str, origin: str) -> tuple[list[LandedFile], int]:
    """The Parquet files Spark wrote (with hash and size, made read-only) and their row count
    (from the footers)."""
    import pyarrow.parquet as pq

    out, rows = [], 0
    fs_, _ = storage.filesystem(folder)
    for f in storage.list_files(folder):
        path = storage.join(folder, f.relative)
        digest, size = storage.sha256(path)
        with fs_.open_input_file(storage.filesystem(path)[1]) as handle:
            rows += pq.ParquetFile(handle).metadata.num_rows
        if "://" not in path:
            os.chmod(path, 0o444)  # landed files are read-only
        out.append(LandedFile(dataset, path, origin, size, digest,
                              f.modified_at.isoformat() if f.modified_at else None))
    return out, rows


def _clear_uncommitted(landing_root: str, source: Any, logical_date: date, batch_id: str) -> None:
    """Remove what a run that died before committing ``batch_id`` left in its folders (that
    batch does not exist: its manifest was never written)."""
    for name in source.datasets:
        folder = batch_dir(landing_root, source.name, name, logical_date, batch_id)
        if storage.exists(folder):
            log.warning("%s: removing the files of uncommitted batch %s (a run died before "
                        "its manifest); this run extracts them again", folder, batch_id)
            storage.remove(folder)


def _for_spark(location: str) -> str:
    """A landing location as Spark's Hadoop file systems name it (``s3://`` is ``s3a://``)."""
    return "s3a://" + location[len("s3://"):] if location.startswith("s3://") else location
