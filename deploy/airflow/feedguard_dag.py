"""feedguard DAGs: one per partner feed, running the ingest job on AWS Glue (default) or AWS Batch.

Copy ``feedguard_dag.py``, ``feedguard_callbacks.py`` and ``feedguard_feeds.py`` into the DAG folder (MWAA:
the ``dags/`` prefix of its bucket). Each DAG ``feedguard_<source>_<dataset>``::

    choose_runner -> ingest_glue  -> verify_run
                  -> ingest_batch ->

* ``choose_runner`` picks Glue or Batch: the run's ``runner`` param, else the Variable ``feedguard_runner``,
  else Glue.
* ``ingest_glue`` starts the Glue job of deploy/glue, ``ingest_batch`` submits the Batch job definition of
  deploy/batch; both pass ``--run_id <dag_id>-<ts_nodash>`` so every attempt of one DAG run is the same run
  for the job's ledger (retries are idempotent).
* A failed ingest is retried only when it may be transient: exit code 75, or no exit code at all (the job
  never started). Every other exit code (1-6, 74) fails the task at once (docs/operations.md §1 says why
  and what to do for each).
* ``verify_run`` reads the run summary the job wrote (``<lake>/_runs/<run_id>.json``) and fails when the run
  did not succeed or its counts do not add up.
* Failures (after retries) and SLA misses call the feedguard notifier (``feedguard.alerts``, when the
  package is installed in the Airflow environment; otherwise the alert is logged, clearly).
* Every DAG run, task success, failure, retry and SLA miss is counted in CloudWatch for the dashboard
  (``feedguard_callbacks.py``: ``feedguard.monitoring`` counts, the project's metrics publisher); an SLA miss
  also logs ``FEEDGUARD_SLA_MISS ...``, the line the dashboard's list of SLA misses searches for.

Variables (no secrets): ``feedguard_runner`` (glue|batch), ``feedguard_lake_path`` (s3://.../lake),
``feedguard_batch_job_queue``, ``feedguard_alerts_topic_arn``, ``feedguard_slack_secret_id`` (the *id* of
the Secrets Manager secret holding the Slack webhook URL), ``feedguard_environment`` (the metrics'
Environment, default prod), ``feedguard_metrics`` (cloudwatch, emf or none; default cloudwatch).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.models import Variable
from airflow.models.param import Param
from airflow.operators.python import BranchPythonOperator, PythonOperator
from airflow.providers.amazon.aws.operators.batch import BatchOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator

sys.path.insert(0, str(Path(__file__).resolve().parent))  # feedguard_feeds.py sits beside this file

from feedguard_callbacks import on_dag_run, on_failure, on_sla_miss, on_task_event
from feedguard_feeds import (
    FEEDS,
    RUNNERS,
    TASK_CHOOSE_RUNNER,
    TASK_INGEST_BATCH,
    TASK_INGEST_GLUE,
    TASK_VERIFY_RUN,
    VAR_BATCH_QUEUE,
    VAR_LAKE,
    VAR_RUNNER,
    Feed,
    exit_code_from_error,
    run_id_template,
    run_summary_path,
    run_summary_problems,
    should_retry,
)

log = logging.getLogger(__name__)

START = datetime(2025, 1, 1)
RETRIES = 2
RETRY_DELAY = timedelta(minutes=10)


# --- the exit-code rules on the two runners -------------------------------------------------------------


def fail_or_retry(exit_code: int | None, error: AirflowException) -> None:
    """Re-raise for a retry (75, or unknown), or fail at once with the exit code attached."""
    error.feedguard_exit_code = exit_code
    if should_retry(exit_code):
        raise error
    failure = AirflowFailException(f"feedguard job exited {exit_code}: no retry ({error})")
    failure.feedguard_exit_code = exit_code
    raise failure from error


def read_run_summary(lake_path: str, run_id: str, aws_conn_id: str | None = "aws_default") -> dict[str, Any]:
    """The run summary JSON from an s3:// or local lake."""
    location = run_summary_path(lake_path, run_id)
    if location.startswith(("s3://", "s3a://")):
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        bucket, key = S3Hook.parse_s3_url(location.replace("s3a://", "s3://", 1))
        return json.loads(S3Hook(aws_conn_id=aws_conn_id).read_key(key, bucket))
    return json.loads(Path(location).read_text())


def summary_exit_code(run_id: str) -> int | None:
    """The exit code the job recorded in its run summary, if the summary can be read."""
    lake = Variable.get(VAR_LAKE, default_var=None)
    if not lake:
        return None
    try:
        code = read_run_summary(lake, run_id).get("exit_code")
    except Exception as exc:  # no summary: the job may not have started
        log.info("no run summary for %s (%s)", run_id, type(exc).__name__)
        return None
    return code if isinstance(code, int) else None


class FeedguardGlueJobOperator(GlueJobOperator):
    """GlueJobOperator whose failures follow the job's exit codes (Glue itself cannot tell them apart)."""

    def execute(self, context: Any) -> Any:
        try:
            return super().execute(context)
        except AirflowException as error:
            fail_or_retry(self._exit_code(), error)

    def _exit_code(self) -> int | None:
        code = summary_exit_code(self.script_args.get("--run_id", ""))
        if code is not None or not self._job_run_id:
            return code
        try:
            run = self.glue_job_hook.conn.get_job_run(JobName=self.job_name, RunId=self._job_run_id)
        except Exception:
            return None
        return exit_code_from_error(run["JobRun"].get("ErrorMessage"))


class FeedguardBatchOperator(BatchOperator):
    """BatchOperator whose failures follow the container's exit code (Batch already retried 75 itself)."""

    def execute(self, context: Any) -> Any:
        try:
            return super().execute(context)
        except AirflowException as error:
            fail_or_retry(self._exit_code(), error)

    def _exit_code(self) -> int | None:
        if not self.job_id:
            return None
        try:
            container = self.hook.get_job_description(self.job_id).get("container", {})
        except Exception:
            return None
        code = container.get("exitCode")
        return code if isinstance(code, int) else None


# --- tasks ----------------------------------------------------------------------------------------------


def choose_runner(params: Mapping[str, Any]) -> str:
    runner = params.get("runner") or "default"
    if runner == "default":
        runner = Variable.get(VAR_RUNNER, default_var="glue")
    if runner not in RUNNERS:
        raise AirflowFailException(f"runner must be one of {RUNNERS}, got {runner!r} (param or {VAR_RUNNER})")
    return TASK_INGEST_GLUE if runner == "glue" else TASK_INGEST_BATCH


def verify_run(run_id: str) -> dict[str, Any]:
    lake = Variable.get(VAR_LAKE, default_var=None)
    if not lake:
        raise AirflowFailException(f"set the Variable {VAR_LAKE} to the lake path (s3://.../lake)")
    summary = read_run_summary(lake, run_id)
    problems = run_summary_problems(summary)
    log.info(
        "run %s: read %s, valid %s, dead-lettered %s, status %s",
        run_id,
        summary.get("records_read"),
        summary.get("records_valid"),
        summary.get("records_dead_lettered"),
        summary.get("status"),
    )
    if problems:
        raise AirflowFailException(f"run {run_id}: " + "; ".join(problems))
    return {k: summary.get(k) for k in ("run_id", "records_read", "records_valid", "records_dead_lettered")}


def build_dag(feed: Feed) -> DAG:
    run_id = run_id_template(feed)
    default_args = {
        "owner": "feedguard",
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": on_failure(feed),
        "on_success_callback": on_task_event(feed, "task_success"),
        "on_retry_callback": on_task_event(feed, "task_retry"),
    }
    with DAG(
        dag_id=feed.dag_id,
        description=f"Ingest {feed.source}/{feed.dataset} ({feed.job}) on Glue or Batch, then verify the run",
        schedule=feed.schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,  # the ledger and Kafka offsets expect one run at a time
        dagrun_timeout=feed.timeout + timedelta(minutes=30),
        default_args=default_args,
        sla_miss_callback=on_sla_miss(feed),
        on_success_callback=on_dag_run(feed, "dag_success"),
        on_failure_callback=on_dag_run(feed, "dag_failure"),
        params={
            "runner": Param("default", enum=["default", *RUNNERS], description="glue, batch, or the Variable")
        },
        tags=["feedguard", feed.source, feed.job],
        doc_md=__doc__,
    ) as dag:
        choose = BranchPythonOperator(task_id=TASK_CHOOSE_RUNNER, python_callable=choose_runner, retries=0)
        glue = FeedguardGlueJobOperator(
            task_id=TASK_INGEST_GLUE,
            job_name=feed.job_name,
            script_args={"--run_id": run_id},
            wait_for_completion=True,
            stop_job_run_on_kill=True,
            sleep_before_return=10,  # Glue frees the single concurrency slot a few seconds after the end
            execution_timeout=feed.timeout,
            sla=feed.sla,
        )
        batch = FeedguardBatchOperator(
            task_id=TASK_INGEST_BATCH,
            job_name=f"{feed.job_name}-{{{{ ts_nodash }}}}",
            job_definition=feed.job_name,
            job_queue=f"{{{{ var.value.get('{VAR_BATCH_QUEUE}', 'feedguard') }}}}",
            parameters={"run_id": run_id},
            awslogs_enabled=True,
            tags={"project": "feedguard", "feed": feed.dag_id},
            execution_timeout=feed.timeout,
            sla=feed.sla,
        )
        verify = PythonOperator(
            task_id=TASK_VERIFY_RUN,
            python_callable=verify_run,
            op_kwargs={"run_id": run_id},
            trigger_rule="none_failed_min_one_success",
            retries=1,
        )
        choose >> [glue, batch] >> verify
    return dag


for _feed in FEEDS:
    globals()[_feed.dag_id] = build_dag(_feed)
