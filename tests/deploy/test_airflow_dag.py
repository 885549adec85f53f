"""deploy/airflow: the DAG folder loads in real Airflow (DagBag) with the expected DAGs, tasks and rules.

Airflow lives in its own venv (`make airflow-venv`, .cache/airflow-venv); the check runs there through a
subprocess. The rules module (feedguard_feeds.py) has no Airflow import and is also tested here directly.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from deploy_helpers import DEPLOY, ROOT

AIRFLOW_PYTHON = ROOT / ".cache" / "airflow-venv" / "bin" / "python"
DAG_FOLDER = DEPLOY / "airflow"
CHECK_SCRIPT = Path(__file__).with_name("airflow_check.py")


def load_feeds() -> ModuleType:
    spec = importlib.util.spec_from_file_location("feedguard_feeds", DAG_FOLDER / "feedguard_feeds.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


feeds = load_feeds()
EXPECTED_DAGS = {
    "feedguard_quickbite_orders": "feedguard-quickbite-orders",
    "feedguard_mealdash_orders": "feedguard-mealdash-orders",
    "feedguard_foodnow_order_events": "feedguard-foodnow-order-events",
}
EXPECTED_TASKS = ["choose_runner", "ingest_batch", "ingest_glue", "verify_run"]


@pytest.fixture(scope="module")
def airflow_view(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not AIRFLOW_PYTHON.exists():
        pytest.skip("the Airflow venv is not created: run `make airflow-venv` (or `make test-deploy`)")
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FOLDER),
        # Variables from the environment: Airflow reads these before its database.
        "AIRFLOW_VAR_FEEDGUARD_RUNNER": "batch",
    }
    result = subprocess.run(
        [str(AIRFLOW_PYTHON), str(CHECK_SCRIPT), str(DAG_FOLDER)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("FEEDGUARD_CHECK "))
    view: dict[str, Any] = json.loads(line.removeprefix("FEEDGUARD_CHECK "))
    view["log"] = result.stdout + result.stderr
    return view


def test_dag_folder_has_no_import_errors(airflow_view: dict[str, Any]) -> None:
    assert airflow_view["import_errors"] == {}


def test_one_dag_per_feed_with_the_task_ids_the_dashboard_uses(airflow_view: dict[str, Any]) -> None:
    dags = airflow_view["dags"]
    assert set(dags) == set(EXPECTED_DAGS)
    for dag in dags.values():
        assert dag["tasks"] == EXPECTED_TASKS == sorted(feeds.TASK_IDS)
        assert dag["edges"] == [
            ["choose_runner", "ingest_batch"],
            ["choose_runner", "ingest_glue"],
            ["ingest_batch", "verify_run"],
            ["ingest_glue", "verify_run"],
        ]


def test_ingest_runs_the_deployed_glue_job_or_batch_definition(airflow_view: dict[str, Any]) -> None:
    for dag_id, job_name in EXPECTED_DAGS.items():
        dag = airflow_view["dags"][dag_id]
        assert dag["operators"]["ingest_glue"] == "GlueJobOperator"
        assert dag["operators"]["ingest_batch"] == "BatchOperator"
        assert dag["glue"]["ingest_glue"] == {
            "job_name": job_name,
            "script_args": {"--run_id": f"{dag_id}-{{{{ ts_nodash }}}}"},
        }
        batch = dag["batch"]["ingest_batch"]
        assert batch["job_definition"] == job_name
        assert batch["parameters"] == {"run_id": f"{dag_id}-{{{{ ts_nodash }}}}"}
        assert (DEPLOY / "glue" / f"{job_name.removeprefix('feedguard-')}.json").exists()
        assert (DEPLOY / "batch" / "job-definitions" / f"{job_name.removeprefix('feedguard-')}.json").exists()


def test_retries_deadlines_and_callbacks(airflow_view: dict[str, Any]) -> None:
    for dag in airflow_view["dags"].values():
        assert dag["max_active_runs"] == 1 and dag["catchup"] is False
        assert dag["has_sla_miss_callback"] is True
        assert dag["dagrun_timeout_s"] > 0
        assert dag["retries"]["ingest_glue"] == dag["retries"]["ingest_batch"] == 2
        assert set(dag["sla_s"]) == {"ingest_glue", "ingest_batch"}
        assert all(dag["has_failure_callback"].values())
        assert dag["params"] == {"runner": "default"}


def test_exit_codes_decide_retry_or_fail_with_airflow_exceptions(airflow_view: dict[str, Any]) -> None:
    assert airflow_view["behaviour"]["retry"] == {
        "None": "retry",
        "1": "fail",
        "2": "fail",
        "3": "fail",
        "4": "fail",
        "5": "fail",
        "6": "fail",
        "74": "fail",  # environment: fixed by a person, then rerun (feedguard.errors.NOT_RETRIED_EXIT_CODES)
        "75": "retry",
    }


def test_runner_comes_from_the_param_else_the_variable(airflow_view: dict[str, Any]) -> None:
    assert airflow_view["behaviour"]["runner"] == {
        "glue": "ingest_glue",
        "batch": "ingest_batch",
        "default": "ingest_batch",  # AIRFLOW_VAR_FEEDGUARD_RUNNER=batch
    }


def test_failure_callback_logs_the_alert_when_the_notifier_is_absent(airflow_view: dict[str, Any]) -> None:
    log = airflow_view["behaviour"]["alert_log"]
    assert "feedguard.alerts cannot be imported in this Airflow environment" in log
    assert "alert NOT sent: [feedguard] quickbite/orders" in log


# --- the rules module, without Airflow ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("SystemExit: 3", 3),
        ("Command failed with exit code 75", 75),
        ("ProcessExited: exited with status 4", 4),
        ("Exit code: 2", 2),
        ("An error occurred while calling o123.save. Job aborted.", None),
        (None, None),
    ],
)
def test_exit_code_is_read_from_a_glue_error_message(message: str | None, code: int | None) -> None:
    assert feeds.exit_code_from_error(message) == code


def test_run_summary_problems_name_status_and_conservation() -> None:
    ok = {
        "status": "succeeded",
        "exit_code": 0,
        "records_read": 10,
        "records_valid": 8,
        "records_dead_lettered": 2,
    }
    assert feeds.run_summary_problems(ok) == []
    assert feeds.run_summary_problems({**ok, "status": "succeeded_with_dead_letters"}) == []
    assert feeds.run_summary_problems({**ok, "exit_code": None}) == []
    assert feeds.run_summary_problems({**ok, "records_valid": 7}) == [
        "conservation broken: records_read 10 != valid 7 + dead-lettered 2"
    ]
    assert feeds.run_summary_problems({**ok, "status": "failed", "exit_code": 4}) == [
        "status failed, exit code 4 (structural change: file(s) quarantined, new contract version needed)"
    ]


def test_feeds_name_the_deployed_jobs() -> None:
    assert {f.dag_id: f.job_name for f in feeds.FEEDS} == EXPECTED_DAGS
    assert feeds.run_summary_path("s3://lake/", "r1") == "s3://lake/_runs/r1.json"
    subject, text = feeds.alert_text(
        "task ingest_glue failed", feeds.FEEDS[0], {"exit_code": 3, "run_id": "r"}
    )
    assert subject == "[feedguard] quickbite/orders: task ingest_glue failed"
    assert "exit code 3: data-quality gate failed" in text
