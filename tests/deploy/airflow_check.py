"""Run inside .cache/airflow-venv by test_airflow_dag.py: load the DAG folder with Airflow itself, print JSON.

.cache/airflow-venv/bin/python tests/deploy/airflow_check.py deploy/airflow
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
from typing import Any


def describe(dag: Any) -> dict[str, Any]:
    return {
        "tasks": sorted(dag.task_ids),
        "edges": sorted([t.task_id, d] for t in dag.tasks for d in sorted(t.downstream_task_ids)),
        "schedule": str(dag.schedule_interval),
        "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup,
        "has_sla_miss_callback": dag.sla_miss_callback is not None,
        "dagrun_timeout_s": dag.dagrun_timeout.total_seconds() if dag.dagrun_timeout else None,
        "params": {k: dag.params[k] for k in dag.params},
        "operators": {t.task_id: type(t).__mro__[1].__name__ for t in dag.tasks},
        "retries": {t.task_id: t.retries for t in dag.tasks},
        "sla_s": {t.task_id: t.sla.total_seconds() for t in dag.tasks if t.sla},
        "has_failure_callback": {t.task_id: t.on_failure_callback is not None for t in dag.tasks},
        "glue": {
            t.task_id: {"job_name": t.job_name, "script_args": t.script_args}
            for t in dag.tasks
            if hasattr(t, "script_args")
        },
        "batch": {
            t.task_id: {
                "job_definition": t.job_definition,
                "job_queue": t.job_queue,
                "parameters": t.parameters,
            }
            for t in dag.tasks
            if hasattr(t, "job_definition")
        },
    }


def behaviour(module: Any) -> dict[str, Any]:
    """The DAG module's decisions, run with Airflow's real exception types."""
    from airflow.exceptions import AirflowException, AirflowFailException

    outcome = {}
    for code in (None, 1, 2, 3, 4, 5, 6, 74, 75):
        try:
            module.fail_or_retry(code, AirflowException("job failed"))
        except AirflowFailException:
            outcome[str(code)] = "fail"
        except AirflowException:
            outcome[str(code)] = "retry"
    runners = {p: module.choose_runner({"runner": p}) for p in ("glue", "batch", "default")}
    feed = module.FEEDS[0]
    logs = io.StringIO()
    handler = logging.StreamHandler(logs)
    logging.getLogger().addHandler(handler)  # the DAG module's and its callbacks module's loggers
    with contextlib.redirect_stderr(io.StringIO()):
        module.on_failure(feed)({"run_id": "r1", "exception": RuntimeError("boom")})
    return {"retry": outcome, "runner": runners, "alert_log": logs.getvalue()}


def main(folder: str) -> int:
    from airflow.models import DagBag

    bag = DagBag(dag_folder=folder, include_examples=False)
    # DagBag imports a DAG file under a module name of its own ("unusual_prefix_<hash>_feedguard_dag").
    dag_module = next(
        (
            m
            for name, m in sys.modules.items()
            if name.endswith("feedguard_dag") and hasattr(m, "fail_or_retry")
        ),
        None,
    )
    print(
        "FEEDGUARD_CHECK "
        + json.dumps(
            {
                "import_errors": {k: str(v) for k, v in bag.import_errors.items()},
                "dags": {dag_id: describe(dag) for dag_id, dag in bag.dags.items()},
                "behaviour": behaviour(dag_module) if dag_module else None,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
