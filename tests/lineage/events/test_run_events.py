from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from lineage.errors import InvalidEventError
from lineage.events.run_events import DatasetRef, ParentRun, QualityResult, run_event, to_json
from tests.lineage.conftest import T0, validate

BRONZE = "s3a://lake/bronze/orders"


def _full(event_type: str, error: str | None = None) -> dict:
    quality = QualityResult(
        row_count=10,
        metrics={"rows_valid": 9, "rows_quarantined": 1, "amount.null_count": 1,
                 "amount.min": 0.5, "order_id.distinct_count": 10, "ratio": float("nan")},
        assertions=(("not_null", False, "amount"), ("row_count", True, None)),
    )
    event = run_event(
        event_type,
        namespace="lakehouse",
        job_name="validate_orders",
        run_id=str(uuid.uuid4()),
        event_time=T0,
        inputs=[DatasetRef(BRONZE, table="bronze.orders", version=4, row_count=10,
                           schema=(("order_id", "bigint"),), quality=quality)],
        outputs=[DatasetRef("/lake/silver/orders", table="silver.orders", version=2,
                            schema=(("order_id", "bigint"), ("amount", "decimal(10,2)")),
                            row_count=9, quality=quality,
                            column_lineage={"amount": [(BRONZE, "amount")],
                                            "order_id": [(BRONZE, "order_id")]})],
        parent=ParentRun("airflow", "retail_daily.validate", str(uuid.uuid4()),
                         root_job_name="retail_daily", root_run_id=str(uuid.uuid4())),
        nominal_time=T0,
        error=error,
        parameters={"logical_date": "2024-01-31", "batch": "7"},
    )
    return json.loads(to_json(event))


def test_events_with_every_facet_validate_against_the_spec(tmp_path):
    events = [_full("START"), _full("COMPLETE"), _full("FAIL", error="ContractViolation: x")]
    broken = _full("COMPLETE")  # proves the validator can say no
    metrics = broken["outputs"][0]["facets"]["dataQualityMetrics"]
    metrics["columnMetrics"]["amount"]["nullCount"] = 1.5  # the spec wants an integer
    result = validate({"ours": events, "broken": [broken]}, tmp_path)
    assert "4 events" in result.stdout, result.stdout + result.stderr
    assert "1 invalid" in result.stdout, result.stdout
    assert "INVALID" in result.stdout and "broken.ndjson" in result.stdout
    assert "ours.ndjson" not in result.stdout, result.stdout


def test_facets_carry_what_the_job_knows():
    event = _full("FAIL", error="boom")
    out, inp = event["outputs"][0], event["inputs"][0]
    assert (inp["namespace"], inp["name"]) == ("s3://lake", "bronze/orders")
    assert out["facets"]["version"]["datasetVersion"] == "2"
    assert out["facets"]["symlinks"]["identifiers"] == [
        {"namespace": "file", "name": "silver.orders", "type": "TABLE"}
    ]
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == 9
    metrics = out["facets"]["dataQualityMetrics"]
    assert metrics["rowCount"] == 10
    assert metrics["columnMetrics"]["amount"]["nullCount"] == 1
    assert metrics["columnMetrics"]["order_id"]["distinctCount"] == 10
    assert metrics["datasetMetrics"] == {"rows_quarantined": 1, "rows_valid": 9}  # NaN dropped
    assert inp["inputFacets"]["dataQualityAssertions"]["assertions"][0] == {
        "assertion": "not_null", "success": False, "column": "amount", "params": {}
    }
    assert inp["inputFacets"]["inputStatistics"]["rowCount"] == 10
    fields = out["facets"]["columnLineage"]["fields"]["amount"]["inputFields"]
    assert [(f["namespace"], f["name"], f["field"]) for f in fields] == [
        ("s3://lake", "bronze/orders", "amount")
    ]
    run = event["run"]["facets"]
    assert run["errorMessage"]["message"] == "boom"
    assert run["errorMessage"]["programmingLanguage"] == "python"
    assert run["parent"]["root"]["job"] == {"namespace": "airflow", "name": "retail_daily",
                                            "facets": {}}
    assert run["nominalTime"]["nominalStartTime"] == "2024-01-31T06:00:00+00:00"
    assert {p["key"]: p["value"] for p in run["executionParameters"]["parameters"]} == {
        "logical_date": "2024-01-31", "batch": "7"}
    assert event["job"]["facets"]["jobType"]["jobType"] == "JOB"
    assert event["job"]["facets"]["jobType"]["processingType"] == "BATCH"


def test_to_json_is_one_line():
    assert "\n" not in to_json(run_event("START", namespace="n", job_name="j",
                                         run_id=str(uuid.uuid4()), event_time=T0,
                                         error="multi\nline"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event_type": "DONE"}, "use one of START, RUNNING, COMPLETE"),
        ({"run_id": "run-1"}, "run_id 'run-1' is not a UUID"),
        ({"event_time": datetime(2024, 1, 31)}, "has no timezone"),
        ({"job_type": "DBT"}, "use one of SPARK, AIRFLOW"),
        ({"parent": ParentRun("a", "dag.task", str(uuid.uuid4()), root_job_name="dag")},
         "give both root_job_name and root_run_id"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    args = {"event_type": "START", "namespace": "n", "job_name": "j",
            "run_id": str(uuid.uuid4()), "event_time": datetime.now(UTC)} | kwargs
    event_type = args.pop("event_type")
    with pytest.raises(InvalidEventError, match=message):
        run_event(event_type, **args)
