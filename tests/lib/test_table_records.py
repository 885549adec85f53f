"""Every internal table's schema is derived from its record type, and stays what existing lakes hold.

The expected columns below are the schemas the tables were written with before the record types existed
(name, Spark type, nullable): a lake written by an earlier version must keep reading and appending.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

import pytest
from pyspark.sql import types as T

from feedguard.ingest.routing import DEAD_LETTER_SCHEMA, DeadLetterRow
from feedguard.kafka.sla import SLA_SCHEMA, SlaTableRow
from feedguard.kafka.state import OFFSETS_SCHEMA, OffsetRow
from feedguard.lake.ledger import LEDGER_SCHEMA, LedgerRow
from feedguard.lake.runlog import RUN_SCHEMA, RunLogRow
from feedguard.metrics.table import METRICS_SCHEMA, MetricsRow
from feedguard.quality.outcome import DQ_RESULTS_SCHEMA, DqResultRow
from feedguard.records import Int32, as_row, spark_schema

TABLES = {
    "_dead_letter": (DEAD_LETTER_SCHEMA, DeadLetterRow),
    "_ledger": (LEDGER_SCHEMA, LedgerRow),
    "_runs": (RUN_SCHEMA, RunLogRow),
    "_dq_results": (DQ_RESULTS_SCHEMA, DqResultRow),
    "_metrics": (METRICS_SCHEMA, MetricsRow),
    "_kafka_offsets": (OFFSETS_SCHEMA, OffsetRow),
    "_kafka_sla": (SLA_SCHEMA, SlaTableRow),
}

WRITTEN_BEFORE: dict[str, list[tuple[str, str, bool]]] = {
    "_dead_letter": [
        ("source", "string", False),
        ("dataset", "string", False),
        ("contract_version", "int", False),
        ("run_id", "string", False),
        ("source_file", "string", True),
        ("source_line", "bigint", True),
        ("raw_text", "string", True),
        ("error_type", "string", False),
        ("error_detail", "string", True),
        ("error_field", "string", True),
        ("kafka_topic", "string", True),
        ("kafka_partition", "int", True),
        ("kafka_offset", "bigint", True),
        ("kafka_key", "string", True),
        ("kafka_timestamp", "timestamp", True),
        ("ingested_at", "timestamp", False),
        ("ingest_date", "date", False),
        ("status", "string", False),
        ("resolved_at", "timestamp", True),
        ("resolved_by_contract_version", "int", True),
        ("replay_run_id", "string", True),
        ("raw_bytes", "binary", True),
        ("raw_encoding", "string", True),
    ],
    "_ledger": [
        ("source", "string", False),
        ("dataset", "string", False),
        ("file_uri", "string", False),
        ("size", "bigint", False),
        ("mtime", "double", False),
        ("run_id", "string", False),
        ("verdict", "string", True),
        ("processed_at", "timestamp", False),
        ("content_sha256", "string", True),
    ],
    "_runs": [
        ("run_id", "string", False),
        ("job_name", "string", True),
        ("source", "string", False),
        ("dataset", "string", False),
        ("contract_version", "int", True),
        ("status", "string", False),
        ("exit_code", "int", False),
        ("records_read", "bigint", False),
        ("records_valid", "bigint", False),
        ("records_dead_lettered", "bigint", False),
        ("files", "int", False),
        ("started_at", "timestamp", False),
        ("ended_at", "timestamp", False),
        ("duration_seconds", "double", False),
        ("message", "string", True),
        ("summary_json", "string", False),
    ],
    "_dq_results": [
        ("run_id", "string", False),
        ("source", "string", True),
        ("dataset", "string", True),
        ("suite", "string", False),
        ("expectation_type", "string", False),
        ("column", "string", True),
        ("severity", "string", False),
        ("success", "boolean", False),
        ("element_count", "bigint", True),
        ("unexpected_count", "bigint", True),
        ("unexpected_percent", "double", True),
        ("kwargs_json", "string", True),
        ("evaluated_at", "timestamp", False),
    ],
    "_metrics": [
        ("run_id", "string", False),
        ("namespace", "string", False),
        ("metric_name", "string", False),
        ("value", "double", False),
        ("unit", "string", False),
        ("source", "string", True),
        ("dataset", "string", True),
        ("job", "string", True),
        ("environment", "string", True),
        ("contract_version", "string", True),
        ("timestamp", "timestamp", False),
        ("destination", "string", False),
    ],
    "_kafka_offsets": [
        ("topic", "string", False),
        ("partition", "int", False),
        ("batch_seq", "bigint", False),
        ("status", "string", False),
        ("start_offset", "bigint", False),
        ("end_offset", "bigint", False),
        ("expected_offset", "bigint", True),
        ("earliest_offset", "bigint", False),
        ("latest_offset", "bigint", False),
        ("lost_start", "bigint", True),
        ("lost_end", "bigint", True),
        ("run_id", "string", False),
        ("planned_at", "timestamp", False),
        ("committed_at", "timestamp", True),
    ],
    "_kafka_sla": [
        ("topic", "string", False),
        ("outage_start", "timestamp", True),
        ("outage_end", "timestamp", True),
        ("duration_seconds", "double", True),
        ("detected_by_run_id", "string", False),
        ("messages_lost", "bigint", False),
        ("consumer_lag_at_recovery", "bigint", True),
        ("in_maintenance_window", "boolean", False),
        ("kind", "string", False),
        ("lost_ranges", "string", False),
        ("attempts", "int", False),
        ("failed_call", "string", True),
    ],
}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_each_table_schema_is_its_record_type_and_matches_existing_lakes(table: str) -> None:
    schema, record = TABLES[table]
    assert schema == spark_schema(record)
    assert [(f.name, f.dataType.simpleString(), f.nullable) for f in schema.fields] == WRITTEN_BEFORE[table]


def test_the_mapping_of_python_types() -> None:
    @dataclass(frozen=True)
    class Row:
        a: str
        b: int | None
        c: Int32
        d: Int32 | None
        e: dt.datetime
        f: dt.date | None
        g: bytes | None
        h: bool
        i: float

    assert spark_schema(Row) == T.StructType(
        [
            T.StructField("a", T.StringType(), False),
            T.StructField("b", T.LongType(), True),
            T.StructField("c", T.IntegerType(), False),
            T.StructField("d", T.IntegerType(), True),
            T.StructField("e", T.TimestampType(), False),
            T.StructField("f", T.DateType(), True),
            T.StructField("g", T.BinaryType(), True),
            T.StructField("h", T.BooleanType(), False),
            T.StructField("i", T.DoubleType(), False),
        ]
    )
    assert as_row(Row("x", None, 1, None, dt.datetime(2026, 1, 1), None, None, True, 0.5))[:3] == (
        "x",
        None,
        1,
    )

    class Tuple(NamedTuple):
        name: str
        size: int | None

    assert [f.name for f in spark_schema(Tuple).fields] == ["name", "size"]
    with pytest.raises(TypeError, match="column bad: no Spark type"):

        @dataclass
        class Bad:
            bad: list[str]

        spark_schema(Bad)
