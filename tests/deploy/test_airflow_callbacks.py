"""The DAGs' callbacks count DAG runs, task successes, failures, retries and SLA misses in CloudWatch (a moto
server), and an SLA miss logs the line the dashboard's "SLA misses" Logs Insights widget searches for.

Two halves in one file. pytest (this venv) starts the moto server, runs this file as a script in the Airflow
venv, then reads the counts back with get_metric_data and checks the log against the widget's query. The
script half loads the DAG folder with a real DagBag and calls the callbacks the DAGs carry with real Airflow
objects (TaskInstance, DagRun, SlaMiss), as the scheduler and the workers would.

feedguard is not installed in the Airflow venv (its wheel pulls Spark and GX): the script first calls a
callback without it (the "count NOT published" warning), then puts lib/ on the path with the ``feedguard`` and
``feedguard.metrics`` packages registered without their ``__init__`` (which import Spark), so the callbacks
run the real ``feedguard.monitoring`` counts and the real CloudWatch publisher.

    .cache/airflow-venv/bin/python tests/deploy/test_airflow_callbacks.py deploy/airflow lib
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DAG_ID = "feedguard_quickbite_orders"
ENVIRONMENT = "callbacks-test"  # an Environment no other test publishes to
RUN_ID = "manual__2025-01-01T06:00:00"
# (metric, extra dimensions) -> the count the script's callbacks must have published
EXPECTED = {
    ("AirflowTaskRetries", (("Task", "ingest_glue"),)): 2.0,
    ("AirflowTaskFailures", (("Task", "ingest_glue"),)): 1.0,
    ("AirflowTaskSuccesses", (("Task", "choose_runner"),)): 1.0,
    ("AirflowTaskSuccesses", (("Task", "verify_run"),)): 1.0,
    ("AirflowDagRuns", (("State", "success"),)): 1.0,
    ("AirflowDagRuns", (("State", "failed"),)): 1.0,
    ("AirflowSlaMisses", (("Task", "ingest_glue"),)): 1.0,
    ("AirflowSlaMisses", (("Task", "ingest_batch"),)): 1.0,
}


# --- the script half, run by the Airflow venv's python ----------------------------------------------------


def _call(callback: Any, *args: Any) -> None:
    for one in callback if isinstance(callback, list) else [callback]:
        one(*args)


def _load_feedguard_without_spark(lib: str) -> None:
    sys.path.insert(0, lib)
    for name in ("feedguard", "feedguard.metrics"):
        package = types.ModuleType(name)
        package.__path__ = [str(Path(lib, *name.split(".")))]
        sys.modules[name] = package


def run_callbacks(dag_folder: str, lib: str) -> None:
    from airflow.exceptions import AirflowFailException
    from airflow.models import DagBag, DagRun, SlaMiss, TaskInstance

    dag = DagBag(dag_folder=dag_folder, include_examples=False).dags[DAG_ID]
    run = DagRun(dag_id=DAG_ID, run_id=RUN_ID, execution_date=datetime(2025, 1, 1, 6, tzinfo=UTC))

    def context(task_id: str, **extra: Any) -> dict[str, Any]:
        task = dag.get_task(task_id)
        ti = TaskInstance(task, run_id=RUN_ID)
        return {
            "dag": dag,
            "task": task,
            "task_instance": ti,
            "ti": ti,
            "dag_run": run,
            "run_id": RUN_ID,
        } | extra

    glue = dag.get_task("ingest_glue")
    _call(glue.on_retry_callback, context("ingest_glue"))  # without feedguard: logged, not published
    _load_feedguard_without_spark(lib)
    _call(glue.on_retry_callback, context("ingest_glue"))
    _call(glue.on_retry_callback, context("ingest_glue"))
    _call(glue.on_failure_callback, context("ingest_glue", exception=AirflowFailException("exit 3")))
    for task_id in ("choose_runner", "verify_run"):
        _call(dag.get_task(task_id).on_success_callback, context(task_id))
    _call(dag.on_success_callback, context("verify_run"))
    _call(dag.on_failure_callback, context("verify_run", reason="task_failure"))
    slas = [
        SlaMiss(task_id=t, dag_id=DAG_ID, execution_date=run.execution_date)
        for t in ("ingest_glue", "ingest_batch")
    ]
    dag.sla_miss_callback(dag, "ingest_glue on 2025-01-01\ningest_batch on 2025-01-01", "", slas, [])


def wiring(dag_folder: str) -> dict[str, Any]:
    """Which callbacks each DAG and each of its tasks carries."""
    from airflow.models import DagBag

    def set_(obj: Any, names: tuple[str, ...]) -> list[str]:
        return sorted(n for n in names if getattr(obj, n, None))

    dag_names = ("on_success_callback", "on_failure_callback", "sla_miss_callback")
    task_names = ("on_success_callback", "on_failure_callback", "on_retry_callback")
    return {
        dag.dag_id: {
            "dag": set_(dag, dag_names),
            "tasks": {t.task_id: set_(t, task_names) for t in dag.tasks},
        }
        for dag in DagBag(dag_folder=dag_folder, include_examples=False).dags.values()
    }


def script(dag_folder: str, lib: str) -> int:
    print("CALLBACKS " + json.dumps(wiring(dag_folder)))
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("LOG %(levelname)s %(name)s %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    run_callbacks(dag_folder, lib)
    return 0


# --- the pytest half ------------------------------------------------------------------------------------

if __name__ != "__main__":
    import pytest
    from deploy_helpers import DEPLOY, ROOT
    from test_airflow_dag import AIRFLOW_PYTHON
    from test_monitoring_catalogue import ALL
    from test_monitoring_helpers import REGION, client, generator

    @pytest.fixture(scope="module")
    def callbacks_run(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> str:
        if not AIRFLOW_PYTHON.exists():
            pytest.skip("the Airflow venv is not created: run `make airflow-venv` (or `make test-deploy`)")
        home = tmp_path_factory.mktemp("airflow-callbacks")
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "TMPDIR": str(home),  # the callbacks' metrics spool
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW_VAR_FEEDGUARD_ENVIRONMENT": ENVIRONMENT,
            "AIRFLOW_VAR_FEEDGUARD_METRICS": "cloudwatch",
            "AIRFLOW_VAR_FEEDGUARD_ALERTS_TOPIC_ARN": "",
            "AIRFLOW_VAR_FEEDGUARD_SLACK_SECRET_ID": "",
            "AWS_ENDPOINT_URL": moto_endpoint,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        command = [str(AIRFLOW_PYTHON), __file__, str(DEPLOY / "airflow"), str(ROOT / "lib")]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def counts(endpoint: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every metric published with the test's Environment, and its sum over the last 20 minutes."""
        cloudwatch = client("cloudwatch", endpoint)
        listed = [
            m
            for page in cloudwatch.get_paginator("list_metrics").paginate(
                Namespace="Feedguard/DataQuality", Dimensions=[{"Name": "Environment", "Value": ENVIRONMENT}]
            )
            for m in page["Metrics"]
        ]
        now = datetime.now(UTC)
        queries = [
            {"Id": f"m{i}", "MetricStat": {"Metric": m, "Period": 1200, "Stat": "Sum"}}
            for i, m in enumerate(listed)
        ]
        data = cloudwatch.get_metric_data(
            MetricDataQueries=queries,
            StartTime=now - timedelta(minutes=10),
            EndTime=now + timedelta(minutes=10),
        )["MetricDataResults"]
        out = {}
        for m, result in zip(listed, sorted(data, key=lambda r: int(r["Id"][1:])), strict=True):
            dims = {d["Name"]: d["Value"] for d in m["Dimensions"]}
            assert (dims.pop("DAG"), dims.pop("Environment")) == (DAG_ID, ENVIRONMENT)
            out[(m["MetricName"], tuple(sorted(dims.items())))] = sum(result["Values"])
        return out

    def test_callbacks_publish_exact_counts_per_dag_and_task(callbacks_run: str, moto_endpoint: str) -> None:
        assert counts(moto_endpoint) == EXPECTED

    def test_without_feedguard_the_count_is_logged_not_published(callbacks_run: str) -> None:
        assert (
            "LOG WARNING feedguard_callbacks feedguard.monitoring cannot be imported in this Airflow "
            "environment (No module named 'feedguard'): count NOT published: task_retry "
            "feedguard_quickbite_orders ingest_glue"
        ) in callbacks_run
        assert callbacks_run.count("LOG INFO feedguard_callbacks counted ") == 8

    def test_sla_miss_logs_the_line_the_dashboard_lists(callbacks_run: str) -> None:
        widget = next(
            w
            for w in generator.dashboard_body(ALL)["widgets"]
            if w["properties"].get("title") == "Airflow (MWAA): the SLA misses"
        )
        pattern = re.search(r"filter @message like /(.+?)/ ", widget["properties"]["query"])
        assert pattern and pattern.group(1) == "FEEDGUARD_SLA_MISS"
        lines = [
            x for x in callbacks_run.splitlines() if x.startswith("LOG ") and re.search(pattern.group(1), x)
        ]
        assert lines == [
            "LOG WARNING feedguard_callbacks FEEDGUARD_SLA_MISS dag=feedguard_quickbite_orders "
            "tasks=ingest_glue,ingest_batch sla=2:00:00"
        ]

    def test_every_dag_and_task_carries_the_counting_callbacks(callbacks_run: str) -> None:
        line = next(x for x in callbacks_run.splitlines() if x.startswith("CALLBACKS "))
        wiring = json.loads(line.removeprefix("CALLBACKS "))
        assert set(wiring) == {f.dag_id for f in generator.FEEDS}
        for dag in wiring.values():
            assert dag["dag"] == ["on_failure_callback", "on_success_callback", "sla_miss_callback"]
            assert dag["tasks"] == {
                t: ["on_failure_callback", "on_retry_callback", "on_success_callback"]
                for t in ("choose_runner", "ingest_batch", "ingest_glue", "verify_run")
            }


if __name__ == "__main__":
    sys.exit(script(sys.argv[1], sys.argv[2]))
