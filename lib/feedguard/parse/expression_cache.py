"""A contract's column expressions, built once per Spark context.

Building the expressions of a contract's checks takes thousands of py4j calls (seconds, whatever the
data size). The Columns are unresolved expressions that any DataFrame of the same Spark context can use,
so each builder is memoised per (Spark context, contract): the second file run, Kafka batch or test in a
process reuses them. The context is part of the key because a Column belongs to one JVM.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

from pyspark import SparkContext

from feedguard.contracts.contract import Contract

T = TypeVar("T")


def per_context(build: Callable[[Contract], T]) -> Callable[[Contract], T]:
    """``build`` memoised per active Spark context and contract (equal contracts share one entry)."""

    @lru_cache(maxsize=32)
    def cached(context: SparkContext | None, contract: Contract) -> T:
        return build(contract)

    @wraps(build)
    def wrapper(contract: Contract) -> T:
        return cached(SparkContext._active_spark_context, contract)

    return wrapper
