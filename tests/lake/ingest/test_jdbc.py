"""The JDBC connector against a real PostgreSQL (the session's throwaway server; MariaDB once):
full and incremental extracts, soft deletes, nothing new, a crash between extract and commit,
and the connection's secrets.

Each test gets its own database and landing folder. What landed is compared with what the test
put into PostgreSQL: the keys and the watermark column to the microsecond.
"""

from __future__ import annotations

import logging
import textwrap
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from lake.config.project import load_project
from lake.config.sources import load_source
from lake.errors import ConfigError, IngestError
from lake.ingest import storage
from lake.ingest.connectors import jdbc
from lake.ingest.landing import Ledger

DAY1, DAY2, DAY3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)
T0 = datetime(2026, 1, 1, 8, 0, 0, 123456, tzinfo=UTC)
PASSWORD = "S3cr#t:p@ss/w%rd"
FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class Crm:
    """One test's database: SQL through psycopg, and the source declared over it."""

    def __init__(self, server, root: Path, user: str) -> None:
        name = f"jdbc_{uuid.uuid4().hex[:10]}"
        server.create_database(name)
        self.admin = f"host=127.0.0.1 port={server.port} user=lakehouse dbname={name}"
        self.url = f"postgresql://{user}:{quote(PASSWORD, safe='')}@127.0.0.1:{server.port}/{name}"
        self.root = root

    def sql(self, statement: str, params=()) -> list[tuple]:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def source(self, datasets: str):
        return declare(self.root, datasets)


def declare(root: Path, datasets: str):
    """Source ``crm`` on connection ``crm`` with ``datasets`` (YAML), in a project under
    ``root``."""
    project = root / "project"
    (project / "sources" / "crm").mkdir(parents=True, exist_ok=True)
    (project / "lakehouse.yaml").write_text("name: jdbc-tests\n")
    (project / "sources" / "crm" / "source.yaml").write_text(
        "source: crm\ndeliveries: {connector: jdbc, connection: crm}\ndatasets:\n"
        + textwrap.indent(textwrap.dedent(datasets).strip() + "\n", "  "))
    return load_source(load_project(project), "crm", require_contracts=False)


@pytest.fixture(scope="module")
def reader(postgresql) -> str:
    """A PostgreSQL login that must give its password (PASSWORD)."""
    user = f"reader_{uuid.uuid4().hex[:8]}"
    postgresql.create_user(user, PASSWORD)
    return user


@pytest.fixture
def crm(postgresql, reader, tmp_path) -> Crm:
    return Crm(postgresql, tmp_path, reader)


@pytest.fixture
def settings(session_settings, tmp_path, crm):
    return session_settings.model_copy(update={"landing_root": str(tmp_path / "landing"),
                                               "connections": {"crm": crm.url}})


ACCOUNTS = """
    accounts:
      table: s.accounts
      incremental: {column: updated_at}
"""


def create_accounts(crm: Crm, rows: int = 5) -> None:
    crm.sql("CREATE SCHEMA s; CREATE TABLE s.accounts (region text NOT NULL, account_no int NOT "
            "NULL, seats int NOT NULL, updated_at timestamptz NOT NULL, deleted_at timestamptz, "
            "PRIMARY KEY (region, account_no))")
    for n in range(rows):
        insert(crm, "eu" if n % 2 else "us", 1000 + n // 2, T0 + timedelta(minutes=n))


def insert(crm: Crm, region: str, number: int, at: datetime) -> None:
    crm.sql("INSERT INTO s.accounts VALUES (%s, %s, 1, %s, NULL)", (region, number, at))


def update(crm: Crm, region: str, number: int, at: datetime, *, delete: bool = False) -> None:
    crm.sql("UPDATE s.accounts SET seats = seats + 1, updated_at = %s, deleted_at = "
            + ("%s" if delete else "deleted_at") + " WHERE region = %s AND account_no = %s",
            (at, at, region, number) if delete else (at, region, number))


def in_postgres(crm: Crm, after: datetime | None = None) -> set[tuple]:
    """(region, account_no, updated_at text) of the rows changed after ``after``."""
    rows = crm.sql("SELECT region, account_no, updated_at FROM s.accounts"
                   + (" WHERE updated_at > %s" if after else ""), (after,) if after else ())
    return {(r, n, u.astimezone(UTC).strftime(FORMAT)) for r, n, u in rows}


def landed(spark, paths: list[str], column: str = "updated_at") -> list[tuple]:
    """(region, account_no, column as UTC text) of the landed rows, duplicates kept."""
    from pyspark.sql import functions as F

    df = spark.read.parquet(*paths)
    rows = df.select("region", "account_no",
                     F.date_format(column, "yyyy-MM-dd HH:mm:ss.SSSSSS").alias("at")).collect()
    return sorted(tuple(r) for r in rows)


def manifests(settings) -> list[Path]:
    return sorted((Path(settings.landing_root) / "crm" / "_batches").glob("*.json"))


def test_full_extract_of_a_table_and_a_query(spark, crm, settings):
    crm.sql("CREATE SCHEMA s; CREATE TABLE s.plans (plan_id text PRIMARY KEY, name text, "
            "monthly_fee numeric(10,2), active boolean); INSERT INTO s.plans VALUES "
            "('starter', 'Starter', 29.00, true), ('team', 'Team', 99.50, true), "
            "('legacy', 'Legacy', 10.00, false)")
    source = crm.source("""
        plans: {table: s.plans}
        on_sale: {query: "SELECT plan_id, monthly_fee FROM s.plans WHERE active -- on sale"}
    """)
    batch = jdbc.land(spark, settings, source, DAY1)[-1]
    assert [(e.dataset, e.mode, e.rows) for e in batch.extracts] == [
        ("plans", "full", 3), ("on_sale", "full", 2)]
    plans = spark.read.parquet(*batch.files_of("plans"))
    assert sorted(tuple(r) for r in plans.collect()) == [
        ("legacy", "Legacy", Decimal("10.00"), False), ("starter", "Starter", Decimal("29.00"), True),
        ("team", "Team", Decimal("99.50"), True)]
    assert plans.schema["monthly_fee"].dataType.simpleString() == "decimal(10,2)"
    on_sale = spark.read.parquet(*batch.files_of("on_sale")).collect()
    assert sorted(r["plan_id"] for r in on_sale) == ["starter", "team"]

    # the same tables again: nothing landed; a change: every dataset it changes lands, whole
    assert jdbc.land(spark, settings, source, DAY2) == []
    crm.sql("UPDATE s.plans SET monthly_fee = 109 WHERE plan_id = 'team'")
    again = jdbc.land(spark, settings, source, DAY2)
    assert [b.batch_id for b in again] == ["20260102-001"]
    assert [(e.dataset, e.rows) for e in again[0].extracts] == [("plans", 3), ("on_sale", 2)]
    crm.sql("UPDATE s.plans SET active = false WHERE plan_id = 'starter'")
    third = jdbc.land(spark, settings, source, DAY3)[-1]
    assert [(e.dataset, e.rows) for e in third.extracts] == [("plans", 3), ("on_sale", 1)]


@pytest.mark.parametrize("column_type, relation", [
    ("timestamptz", "table"), ("timestamp", "query")])
def test_incremental_takes_inserts_and_updates_since_the_watermark(spark, crm, settings,
                                                                   column_type, relation):
    create_accounts(crm)
    if column_type == "timestamp":
        crm.sql("ALTER TABLE s.accounts ALTER COLUMN updated_at TYPE timestamp USING "
                "updated_at AT TIME ZONE 'UTC'")
    dataset = ("table: s.accounts" if relation == "table" else
               'query: "SELECT region, account_no, seats, updated_at FROM s.accounts"')
    source = crm.source(f"accounts:\n  {dataset}\n  incremental: {{column: updated_at}}")
    first = jdbc.land(spark, settings, source, DAY1)[-1]
    assert set(landed(spark, first.files_of("accounts"))) == in_postgres(crm)
    watermark = first.extracts[0].high
    assert watermark.startswith("timestamp:2026-01-01 08:04:00.123456")

    # one microsecond after the watermark counts; the watermark itself does not, nor a change
    # that leaves updated_at as it was (invisible to an incremental extract, by design)
    high = T0 + timedelta(minutes=4)
    update(crm, "us", 1002, high + timedelta(microseconds=1))
    update(crm, "eu", 1000, high)
    insert(crm, "eu", 1007, high + timedelta(hours=1, microseconds=7))
    crm.sql("UPDATE s.accounts SET seats = 9 WHERE region = 'us' AND account_no = 1001")
    second = jdbc.land(spark, settings, source, DAY2)[-1]
    assert landed(spark, second.files_of("accounts")) == sorted(in_postgres(crm, after=high))
    assert [(r, n) for r, n, _ in landed(spark, second.files_of("accounts"))] == [
        ("eu", 1007), ("us", 1002)]
    extract = second.extracts[0]
    assert (extract.mode, extract.column, extract.low, extract.rows) == (
        "incremental", "updated_at", watermark, 2)
    assert extract.high.startswith("timestamp:2026-01-01 09:04:00.123463")


def test_a_soft_delete_arrives_as_a_row(spark, crm, settings):
    create_accounts(crm, rows=3)
    source = crm.source(ACCOUNTS)
    jdbc.land(spark, settings, source, DAY1)
    gone = T0 + timedelta(days=1, hours=5, microseconds=999_999)
    update(crm, "eu", 1000, gone, delete=True)
    batch = jdbc.land(spark, settings, source, DAY2)[-1]
    rows = spark.read.parquet(*batch.files_of("accounts")).collect()
    assert [(r["region"], r["account_no"]) for r in rows] == [("eu", 1000)]
    assert rows[0]["deleted_at"] == rows[0]["updated_at"]
    assert rows[0]["deleted_at"] is not None


def test_no_new_rows_no_new_batch(spark, crm, settings):
    create_accounts(crm, rows=2)
    source = crm.source(ACCOUNTS)
    assert [b.batch_id for b in jdbc.land(spark, settings, source, DAY1)] == ["20260101-001"]
    assert [b.batch_id for b in jdbc.land(spark, settings, source, DAY1)] == ["20260101-001"]
    assert jdbc.land(spark, settings, source, DAY2) == []
    assert [p.name for p in manifests(settings)] == ["20260101-001.json"]
    accounts = Path(settings.landing_root) / "crm" / "accounts"
    assert sorted(p.name for p in accounts.iterdir()) == ["ds=2026-01-01"]
    assert sorted(p.name for p in (accounts / "ds=2026-01-01").iterdir()) == ["batch=20260101-001"]


def test_a_crash_between_extract_and_commit_rereads_every_row_once(spark, crm, settings,
                                                                   monkeypatch):
    create_accounts(crm, rows=6)
    source = crm.source(ACCOUNTS)
    first = jdbc.land(spark, settings, source, DAY1)[-1]
    after_day1 = T0 + timedelta(minutes=5)
    update(crm, "us", 1000, T0 + timedelta(days=1, hours=1, microseconds=1))
    update(crm, "eu", 1001, T0 + timedelta(days=1, hours=2, microseconds=2), delete=True)
    insert(crm, "apac", 1000, T0 + timedelta(days=1, hours=3, microseconds=3))
    expected = sorted(in_postgres(crm, after=after_day1))
    assert len(expected) == 3

    crashed = {}
    real_commit = Ledger.commit

    def die_once(self, batch):
        if not crashed:  # the process dies after writing the extract, before the manifest
            crashed["batch"] = batch
            crashed["rows"] = landed(spark, batch.files_of("accounts"))
            raise KeyboardInterrupt("killed")
        return real_commit(self, batch)

    monkeypatch.setattr(Ledger, "commit", die_once)
    with pytest.raises(KeyboardInterrupt):
        jdbc.land(spark, settings, source, DAY2)
    assert crashed["rows"] == expected
    assert Ledger(settings.landing_root, "crm").of_date(DAY2) == []
    assert Ledger(settings.landing_root, "crm").watermark("accounts") == first.extracts[0].high

    rerun = jdbc.land(spark, settings, source, DAY2)
    assert [b.batch_id for b in rerun] == [crashed["batch"].batch_id] == ["20260102-001"]
    assert landed(spark, rerun[-1].files_of("accounts")) == crashed["rows"]
    assert rerun[-1].extracts == crashed["batch"].extracts
    # the crashed attempt's files are gone: the batch folder holds the committed files only
    folder = Path(rerun[-1].files_of("accounts")[0]).parent
    assert sorted(str(folder / f.relative) for f in storage.list_files(str(folder))) == \
        sorted(rerun[-1].files_of("accounts"))

    update(crm, "us", 1000, T0 + timedelta(days=2, microseconds=4))
    jdbc.land(spark, settings, source, DAY3)
    every = Ledger(settings.landing_root, "crm").batches()
    rows = landed(spark, [p for b in every for p in b.files_of("accounts")])
    versions = in_postgres(crm) | set(expected) | {r for r in landed(spark, first.files_of(
        "accounts"))}
    assert len(rows) == len(set(rows)), "a row landed twice"
    assert set(rows) == versions


def test_the_password_is_never_shown(spark, crm, settings, caplog):
    create_accounts(crm, rows=2)
    source = crm.source(ACCOUNTS)
    caplog.set_level(logging.DEBUG, logger="lake.ingest")
    jdbc.land(spark, settings, source, DAY1)
    wrong = crm.url.replace(quote(PASSWORD, safe=""), quote(PASSWORD[::-1], safe=""))
    bad = settings.model_copy(update={"connections": {"crm": wrong}})
    with pytest.raises(IngestError) as caught:
        jdbc.land(spark, bad, source, DAY2)
    message = str(caught.value)
    assert "crm.accounts" in message and "LAKEHOUSE_CONN_CRM" in message
    assert "password authentication failed" in message
    assert caught.value.__cause__ is None
    shown = message + caplog.text + "".join(p.read_text() for p in manifests(settings))
    shown += repr(settings.connection("crm"))
    for secret in (PASSWORD, quote(PASSWORD, safe=""), PASSWORD[::-1],
                   quote(PASSWORD[::-1], safe="")):
        assert secret not in shown


def test_an_unknown_connection_names_its_setting(spark, crm, settings):
    source = crm.source(ACCOUNTS)
    bare = settings.model_copy(update={"connections": {}})
    with pytest.raises(ConfigError, match="LAKEHOUSE_CONN_CRM=postgresql://"):
        jdbc.land(spark, bare, source, DAY1)


def test_incremental_on_mariadb_keeps_microseconds(spark, mariadb, tmp_path, session_settings):
    """MariaDB too (Spark is given it as jdbc:mysql:, whose SQL dialect it knows)."""
    import pymysql

    name = f"jdbc_{uuid.uuid4().hex[:10]}"
    mariadb.create_database(name)
    conn = pymysql.connect(host="127.0.0.1", port=mariadb.port, user="root", database=name,
                           autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE accounts (region varchar(8), account_no int, seats int, "
                       "updated_at datetime(6) NOT NULL, PRIMARY KEY (region, account_no))")
        cursor.execute("INSERT INTO accounts VALUES ('eu', 1, 1, '2026-01-01 08:00:00.000001'), "
                       "('us', 1, 1, '2026-01-01 08:00:00.000002')")
    source = declare(tmp_path, f"accounts: {{table: {name}.accounts, incremental: {{column: "
                               "updated_at}}")
    settings = session_settings.model_copy(update={
        "landing_root": str(tmp_path / "landing"),
        "connections": {"crm": f"mariadb://root@127.0.0.1:{mariadb.port}/{name}"}})
    first = jdbc.land(spark, settings, source, DAY1)[-1]
    assert first.extracts[0].high == "timestamp:2026-01-01 08:00:00.000002"
    with conn.cursor() as cursor:
        cursor.execute("UPDATE accounts SET updated_at = '2026-01-01 08:00:00.000003' "
                       "WHERE region = 'eu'")
    second = jdbc.land(spark, settings, source, DAY2)[-1]
    assert landed(spark, second.files_of("accounts")) == [
        ("eu", 1, "2026-01-01 08:00:00.000003")]
    assert jdbc.land(spark, settings, source, DAY3) == []
    conn.close()
