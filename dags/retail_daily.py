"""
### retail_daily

One day of the **retail** source, from its file drop to the warehouse:

1. **land** copies the day's files unchanged into the immutable landing zone
   (`landing/retail/<dataset>/ds=<date>/batch=<id>/`).
2. **bronze** (spark-submit `jobs/bronze.py`) appends the landed records to `bronze.customers`,
   `bronze.products`, `bronze.orders` (malformed fields kept in `_rescued_data`) and the
   unstructured files to `bronze.documents`.
3. **validate** (spark-submit `jobs/validate.py`) checks every row against the dataset contracts:
   valid rows to `silver.*`, every failing row to `quarantine.*` with the rules it failed; Great
   Expectations Data Docs are rebuilt.
4. **warehouse** (spark-submit `jobs/load_warehouse.py`) MERGEs `dim_customer` and `dim_product` as SCD2
   and writes `fact_orders` keyed to the dimension versions valid at order time.

Every step is idempotent for its logical date, and every task and Spark job emits OpenLineage.

**Param** `environment` (default `default`: each contract's own default, e.g. TRAINING): the
environment the day's feed comes from, e.g. `SERVING` for a live feed without labels. Trigger with
config `{"environment": "SERVING"}`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import Asset, Param, dag, task

from lake.settings import load_settings
from lake.spark import spark_conf

SOURCE = "retail"
DATASETS = ("customers", "products", "orders")
JOBS = Path(__file__).resolve().parent.parent / "jobs"

settings = load_settings()


def _asset(name: str, location: str) -> Asset:
    return Asset(name=name, uri=f"file://{location}")


LANDING = [_asset(f"landing.{SOURCE}.{d}", f"{settings.landing_root}/{SOURCE}/{d}")
           for d in (*DATASETS, "documents")]
BRONZE = [_asset(f"bronze.{d}", f"{settings.lake_root}/bronze/{d}") for d in (*DATASETS, "documents")]
SILVER = [_asset(f"silver.{d}", f"{settings.lake_root}/silver/{d}") for d in DATASETS]
QUARANTINE = [_asset(f"quarantine.{d}", f"{settings.lake_root}/quarantine/{d}") for d in DATASETS]
WAREHOUSE = [_asset(f"warehouse.{t}", f"{settings.warehouse_root}/warehouse/{t}")
             for t in ("dim_customer", "dim_product", "fact_orders")]


def _spark_job(task_id: str, job: str, outlets: list[Asset], inlets: list[Asset]):
    return SparkSubmitOperator(
        task_id=task_id,
        application=str(JOBS / f"{job}.py"),
        application_args=["--ds", "{{ ds }}", "--source", SOURCE,
                          "--environment", "{{ params.environment }}"],
        conn_id="spark_default",
        conf=spark_conf(settings),
        env_vars=settings.as_env(),
        name=f"{SOURCE}-{task_id}-{{{{ ds_nodash }}}}",
        inlets=inlets,
        outlets=outlets,
        openlineage_inject_parent_job_info=True,
        doc_md=f"spark-submit `jobs/{job}.py --ds <logical date>`",
    )


@dag(
    dag_id="retail_daily",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-platform", "retries": 1, "retry_delay": timedelta(seconds=15)},
    doc_md=__doc__,
    tags=["retail", "lakehouse"],
    params={"environment": Param("default", type="string",
                                 description="environment of the feed (contracts declare them)")},
)
def retail_daily():
    @task(outlets=LANDING, doc_md="Copy the day's drop into the immutable landing zone.")
    def land(ds: str | None = None) -> dict[str, int]:
        from datetime import date

        from lake.landing import land_source

        landed = land_source(settings, SOURCE, date.fromisoformat(ds))
        counts: dict[str, int] = {}
        for f in landed:
            counts[f.dataset] = counts.get(f.dataset, 0) + 1
        return counts

    bronze = _spark_job("bronze", "bronze", outlets=BRONZE, inlets=LANDING)
    validate = _spark_job("validate", "validate", outlets=SILVER + QUARANTINE, inlets=BRONZE)
    warehouse = _spark_job("warehouse", "load_warehouse", outlets=WAREHOUSE, inlets=SILVER)
    land() >> bronze >> validate >> warehouse


retail_daily()
