"""Probe: what the JSON flag costs, whole and with its parts switched off (docs/benchmarks.md, issue 19).

    .venv/bin/python bench/flag_probe.py bench/out/input/quickbite_1000000.jsonl

Reads the file as text with the lineage columns the jobs use, then times ``flag_json_records`` into a
``noop`` sink (best of two runs) with the JVM text flag (``spark.feedguard.jsonFlag=jvm``, see
:mod:`feedguard.parse.jvm_flag`), with the byte-count flag (``sql``) whole, without its token-type test,
without its shape test and without both, and counts the flagged records of each variant (a variant that
flags fewer than the whole flag misses bad records). The first input of ``make bench`` is a good file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

import feedguard.parse.json_records as json_records
from feedguard.contracts.contract import Contract, load_contract
from feedguard.parse.jvm_flag import CONF_KEY
from feedguard.runtime.session import build_session

CONTRACT = Path(__file__).resolve().parents[1] / "contracts" / "quickbite" / "orders.v1.yaml"


def never(raw: Column, contract: Contract) -> Column:
    return F.lit(False)


def timed_noop(df: DataFrame) -> float:
    started = time.perf_counter()
    df.write.format("noop").mode("overwrite").save()
    return time.perf_counter() - started


def probe(raw: DataFrame, contract: Contract, label: str) -> None:
    best = min(timed_noop(raw.transform(json_records.flag_json_records, contract)) for _ in range(2))
    flagged = raw.transform(json_records.flag_json_records, contract).where("_maybe_bad").count()
    print(f"{label}: noop write {best:.2f} s, flagged {flagged}", flush=True)


def main(path: str) -> None:
    spark = build_session("flag-probe", conf={"spark.driver.memory": "4g", "spark.ui.enabled": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    contract = load_contract(str(CONTRACT))
    raw = spark.read.text(path).select(
        F.lit(path).alias("_source_file"),
        F.lit(0).cast("long").alias("_block_start"),
        F.monotonically_increasing_id().alias("_row_in_block"),
        F.col("value").alias("_raw"),
        F.lit(None).cast("string").alias("_doc_error"),
    )
    # rebuild the flag's expressions for every variant (they are built once per session otherwise)
    json_records._flag_columns = json_records._flag_columns.__wrapped__  # type: ignore[attr-defined]
    json_records._byte_count_flag = json_records._byte_count_flag.__wrapped__  # type: ignore[attr-defined]
    tokens, shape = json_records.tokens_may_be_bad, json_records.shape_may_be_bad
    print(f"text with lineage only: noop write {timed_noop(raw):.2f} s", flush=True)
    spark.conf.set(CONF_KEY, "jvm")
    probe(raw, contract, "the JVM text flag")
    spark.conf.set(CONF_KEY, "sql")
    probe(raw, contract, "the byte-count flag, whole")
    json_records.tokens_may_be_bad = never
    probe(raw, contract, "without the token-type test")
    json_records.shape_may_be_bad = never
    probe(raw, contract, "without both")
    json_records.tokens_may_be_bad = tokens
    probe(raw, contract, "without the shape test")
    json_records.shape_may_be_bad = shape
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
