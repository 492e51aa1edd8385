"""Declarations are checked before anything runs: a mistake in a project file is one message
naming the file, the key (and its line) and the fix. No Spark here."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from lake.config.loading import load_yaml_text
from lake.config.project import find_project, load_project
from lake.config.settings import load_settings
from lake.config.sources import load_sources, resolve_dataset, source_of
from lake.errors import ConfigError
from warehouse.models.catalog import load_models

REPO = Path(__file__).resolve().parents[2]
RETAIL = REPO / "examples" / "retail"


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(RETAIL, root, ignore=shutil.ignore_patterns("generator", "*.py",
                                                                "__pycache__"))
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def _source_error(project: Path) -> str:
    with pytest.raises(ConfigError) as err:
        source_of(load_project(project), "retail")
    return str(err.value)


def _models_error(project: Path) -> str:
    with pytest.raises(ConfigError) as err:
        load_models(load_project(project))
    return str(err.value)


def test_the_retail_example_is_valid(project):
    good, bad = load_sources(load_project(project))
    assert bad == {} and list(good) == ["retail"]
    retail = good["retail"]
    assert list(retail.structured) == ["customers", "products", "orders"]
    assert list(retail.unstructured) == ["documents"]
    assert {n: d.format for n, d in retail.structured.items()} == {
        "customers": "csv", "products": "parquet", "orders": "ndjson"}
    catalog = load_models(load_project(project))
    assert catalog.order == ("dim_customer", "dim_product", "fact_orders", "revenue_by_day")


@pytest.mark.parametrize(("old", "new", "message"), [
    ('files: "orders*.ndjson"', 'filez: "orders*.ndjson"',
     r"^sources/retail/source\.yaml: datasets\.orders\.files \(line 15\): required; add it; "
     r"datasets\.orders\.filez \(line 15\): unknown key; did you mean 'files'\? known keys: avro, "
     r"csv, files, format, json, ndjson, optional, parquet, unstructured$"),
    ("schedule: \"@daily\"", "schedule: [daily]",
     r"^sources/retail/source\.yaml: schedule \(line 4\): Input should be a valid string"),
    ("layout: \"ds={ds}/\"", "layout: \"day={day}/\"",
     r"deliveries\.layout \(line 9\): layout names \['day'\]; it may use \{ds\}, \{ds_nodash\}, "
     r"\{yyyy\}, \{mm\}, \{dd\}"),
    ('products: {files: "products*.parquet"}', 'products: {files: "products*"}',
     r"datasets\.products \(line 14\): cannot tell the format of 'products\*' from its "
     r"extension; add "
     r"format: one of csv, ndjson, json, parquet, avro"),
    ('orders: {files: "orders*.ndjson"}', 'orders: {files: "../../etc/*.ndjson"}',
     r"datasets\.orders\.files \(line 15\): files '\.\./\.\./etc/\*\.ndjson' must be a glob "
     r"relative to the delivery folder"),
    ("connector: files", "connector: ftp",
     r"^sources/retail/source\.yaml: deliveries\.connector: unknown connector 'ftp'; use one of "
     r"files, jdbc"),
    ("source: retail", "source: shop",
     r"source\.yaml: source: says 'shop' but the folder is sources/retail/; make them equal"),
    ("csv: {delimiter: \",\", header: true, encoding: utf-8}",
     "csv: {delimiter: \",\", header: true, encoding: klingon}",
     r"datasets\.customers\.csv\.encoding \(line 13\): unknown encoding 'klingon'; e\.g\. utf-8"),
    ("environment: TRAINING", "environment: LIVE",
     r"environment: 'LIVE' is not declared by any contract of the source; declared: DEFAULT, "
     r"SERVING, TRAINING"),
])
def test_a_bad_source_declaration_names_file_key_and_fix(project, old, new, message):
    _edit(project / "sources" / "retail" / "source.yaml", old, new)
    error = _source_error(project)
    assert re.search(message, error), error


def test_contracts_must_match_the_datasets(project):
    contracts = project / "sources" / "retail" / "contracts"
    (contracts / "orders.yaml").rename(contracts / "sales.yaml")
    assert _source_error(project) == (
        "sources/retail/source.yaml: datasets.orders: no contract; add "
        "sources/retail/contracts/orders.yaml (`lakehouse contract infer retail.orders` proposes "
        "one from its files)")
    (contracts / "sales.yaml").rename(contracts / "orders.yaml")
    _edit(contracts / "orders.yaml", "dataset: customers, key: customer_id",
          "dataset: clients, key: customer_id")
    assert _source_error(project) == (
        "sources/retail/contracts/orders.yaml: references: customer_id -> clients.customer_id: "
        "'clients' is not a structured dataset of source retail; its datasets: customers, "
        "products, orders")


def test_a_bad_contract_names_its_file(project):
    _edit(project / "sources" / "retail" / "contracts" / "orders.yaml",
          "type: \"decimal(12,2)\"", "type: money")
    error = _source_error(project)
    assert error.startswith("sources/retail/contracts/orders.yaml: columns.4.type (line ")
    assert "unknown type 'money'" in error


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("dim_customer.yaml", "from: retail.customers", "from: retail.clients",
     "warehouse/dim_customer.yaml: from: retail.clients is not a declared dataset with a "
     "contract; declared: retail.customers, retail.orders, retail.products"),
    ("dim_customer.yaml", "key: [customer_id]", "key: [customer_id, name]",
     "warehouse/dim_customer.yaml: columns ['name'] are in both key and tracked; a key never "
     "changes"),
    ("dim_customer.yaml", "scd: 2", "scd: 3",
     "warehouse/dim_customer.yaml: scd (line 4): Input should be 1 or 2"),
    ("fact_orders.sql", "FROM retail_silver.orders", "FROM retail_silver.orderz",
     "warehouse/fact_orders.sql: reads retail_silver.orderz, which is not a declared dataset's "
     "silver table or a warehouse model; did you mean retail_silver.orders"),
    ("fact_orders.sql", "{dimension: dim_customer, on: [customer_id]}",
     "{dimension: dim_client, on: [customer_id]}",
     "warehouse/fact_orders.sql: lookups: dim_client is not a declared dimension; dimensions: "
     "dim_customer, dim_product"),
    ("fact_orders.sql", "grain: [order_id]", "grain: [order_no]",
     "warehouse/fact_orders.sql: grain, measures, event_time and lookup columns ['order_no'] are "
     "not columns of its SELECT"),
    ("fact_orders.sql", "FROM retail_silver.orders", "FROM retail_silver.orders; DROP TABLE x",
     "warehouse/fact_orders.sql: holds 2 statements; a model is one SELECT"),
    ("fact_orders.sql", "FROM retail_silver.orders", "FROM parquet.`/etc/passwd`",
     "warehouse/fact_orders.sql: parquet.`/etc/passwd` reads files by path"),
])
def test_a_bad_model_names_file_key_and_fix(project, file, old, new, message):
    _edit(project / "warehouse" / file, old, new)
    assert message in _models_error(project)


def test_model_columns_are_checked_against_the_contracts(project):
    from lakehouse.cli.sources_cmd import validate_project

    _edit(project / "warehouse" / "dim_customer.yaml", "tracked: [name, email, city, segment]",
          "tracked: [name, email, town, segment]")
    _edit(project / "warehouse" / "fact_orders.sql", "payment\n", "paymnt\n")
    report = validate_project(load_project(project))
    assert not report["ok"]
    dim, fact = sorted(report["problems"])
    assert dim.startswith("warehouse/dim_customer.yaml: Column 'town' could not be resolved")
    assert "(retail_silver.customers has _batch_id, _ingested_at, _record_id, _source_file, " \
           "city, customer_id, email, name, segment, updated_at)" in dim
    assert fact.startswith("warehouse/fact_orders.sql: Column 'paymnt' could not be resolved")
    assert validate_project(load_project(RETAIL))["ok"]


def test_a_cycle_between_models_is_refused(project):
    views = project / "warehouse" / "views"
    (views / "a.sql").write_text("SELECT * FROM warehouse.b")
    (views / "b.sql").write_text("SELECT * FROM warehouse.a")
    assert "warehouse models form a cycle (a -> b -> a)" in _models_error(project)


def test_yaml_mistakes_say_where(project):
    path = project / "sources" / "retail" / "source.yaml"
    path.write_text(path.read_text() + "  broken: [unclosed\n")
    error = _source_error(project)
    assert error.startswith("sources/retail/source.yaml (line 18, column 1): not valid YAML: ")
    assert "check the indentation" in error


def test_yaml_booleans_are_only_true_and_false():
    data = load_yaml_text("on: [a]\ncountry: NO\nflag: yes\nok: true\n", "x")
    assert data == {"on": ["a"], "country": "NO", "flag": "yes", "ok": True}


def test_the_project_comes_from_the_setting_or_the_current_folder(project, tmp_path):
    settings = load_settings(env={"LAKEHOUSE_PROJECT": str(project)})
    assert find_project(settings.project).root == project
    assert find_project(None, cwd=project).name == "retail-example"
    with pytest.raises(ConfigError, match=r"no lakehouse project: set LAKEHOUSE_PROJECT"):
        find_project(None, cwd=tmp_path)
    with pytest.raises(ConfigError, match=r"is not a lakehouse project: it has no lakehouse.yaml"):
        load_project(tmp_path)


def test_datasets_are_named_by_source(project):
    p = load_project(project)
    assert resolve_dataset(p, "retail.orders") == ("retail", "orders")
    assert resolve_dataset(p, "retail_silver.orders") == ("retail", "orders")
    assert resolve_dataset(p, "orders") == ("retail", "orders")
    with pytest.raises(ConfigError, match=r"no dataset 'shop.orders' in the project; datasets: "
                                          r"retail.customers, retail.orders, retail.products"):
        resolve_dataset(p, "shop.orders")


def test_connections_come_from_settings_and_never_show_their_password():
    settings = load_settings(env={"LAKEHOUSE_CONN_CRM": "postgresql://u:s3cr%40t@db:5433/crm"})
    conn = settings.connection("crm")
    assert conn.url == "jdbc:postgresql://db:5433/crm"
    assert conn.properties == {"driver": "org.postgresql.Driver", "user": "u",
                               "password": "s3cr@t"}
    assert "s3cr" not in repr(conn)
    with pytest.raises(ConfigError, match=r"no connection 'erp': set LAKEHOUSE_CONN_ERP="):
        settings.connection("erp")
    with pytest.raises(ConfigError, match=r"LAKEHOUSE_CONNECTIONS: .*connection bad: expected "
                                          r"postgresql://USER:PASSWORD@HOST:PORT/DATABASE"):
        load_settings(env={"LAKEHOUSE_CONN_BAD": "ftp://x"})


def test_a_source_yaml_is_data_not_code(project):
    path = project / "sources" / "retail" / "source.yaml"
    path.write_text("!!python/object/apply:os.system ['touch /tmp/pwned']\n")
    assert "not valid YAML" in _source_error(project) or "could not determine a constructor" \
        in _source_error(project)
    assert not Path("/tmp/pwned").exists()
