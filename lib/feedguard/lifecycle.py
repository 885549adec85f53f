"""A run's life cycle in the lake: undo runs that never finished, close the ones that did.

A run writes an in-flight marker first and clears it last, after its run log row. The next run of
the same dataset finds markers left by runs that died and deletes their rows from every table (and
reopens the dead letters an unfinished replay resolved), so a rerun neither loses nor duplicates.
"""

from __future__ import annotations

import logging
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from feedguard.lake import Lake
from feedguard.replay import undo_replay
from feedguard.runlog import clear_inflight, inflight_runs, write_run

log = logging.getLogger(__name__)


def recover_inflight(spark: SparkSession, lake: Lake, source: str, dataset: str) -> list[str]:
    """Undo runs that started but never finished: delete their rows everywhere, then forget them."""
    recovered = inflight_runs(lake.inflight(source, dataset))
    for run_id in recovered:
        log.warning("run %s of %s/%s did not finish: removing its partial output", run_id, source, dataset)
        for path, column in (
            (lake.table(source, dataset), "_run_id"),
            (lake.dead_letter, "run_id"),
            (lake.ledger, "run_id"),
            (lake.runs, "run_id"),
            (lake.dq_results, "run_id"),
        ):
            if DeltaTable.isDeltaTable(spark, path):
                DeltaTable.forPath(spark, path).delete(F.col(column) == run_id)
        undo_replay(spark, lake, run_id)
        clear_inflight(lake.inflight(source, dataset), run_id)
    return recovered


def close_run(spark: SparkSession, lake: Lake, summary: dict[str, Any]) -> None:
    """Write the run log (Delta row + JSON) and clear the in-flight marker: the run is done."""
    write_run(spark, lake.runs, summary)
    clear_inflight(lake.inflight(summary["source"], summary["dataset"]), summary["run_id"])
