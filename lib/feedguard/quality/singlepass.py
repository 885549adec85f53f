"""Compute the metrics a GX suite needs in one aggregate pass, then let GX judge them.

GX on Spark resolves a metric graph with many Spark jobs per suite (unexpected values, a window
for uniqueness, one query per SQL expectation...). Here every expectation still asks GX which
metrics it needs (``get_validation_dependencies``) and GX still decides success and shapes the
result (``metrics_validate``), but the counts come from one ``df.agg(...)`` over the cached batch.
Follow-up jobs run only for expectations that failed: the partial unexpected values (``limit``),
the exact count of duplicated rows when ``count(c) != count(distinct c)``, the offending rows of
an ``unexpected_rows_expectation``. Expectations whose metrics are not covered here (other types,
row conditions, suite parameters) are returned as ``unsupported`` for GX to run itself.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame, Row
from pyspark.sql import functions as F

MAX_QUERY_ROWS = 200  # GX's MAX_RESULT_RECORDS for unexpected_rows_query.table
QUERY_RE = re.compile(
    r"^\s*select\s+(?P<select>.+?)\s+from\s+\{batch\}\s+where\s+(?P<where>.+?)\s*$", re.I | re.S
)
DOMAIN_FILTERS = ("row_condition", "condition_parser", "filter_conditions", "ignore_row_if")


class UnsupportedMetricError(ValueError):
    """A metric this pass does not compute: GX computes the expectation itself."""


def _between(c: Column, v: dict[str, Any]) -> Column:
    low, high = v.get("min_value"), v.get("max_value")
    parts = []
    if low is not None:
        parts.append(c > F.lit(low) if v.get("strict_min") else c >= F.lit(low))
    if high is not None:
        parts.append(c < F.lit(high) if v.get("strict_max") else c <= F.lit(high))
    if not parts:
        raise UnsupportedMetricError("between without bounds")
    return reduce(lambda a, b: a & b, parts)


def _in_set(c: Column, v: dict[str, Any]) -> Column:
    values = v.get("value_set")
    return F.lit(True) if values is None else c.isin(list(values))


# Condition metric -> the Spark predicate GX uses for an *expected* value (same as GX's _spark fns).
CONDITIONS: dict[str, Callable[[Column, dict[str, Any]], Column]] = {
    "column_values.nonnull": lambda c, v: c.isNotNull(),
    "column_values.null": lambda c, v: c.isNull(),
    "column_values.in_set": _in_set,
    "column_values.not_in_set": lambda c, v: ~c.isin(list(v["value_set"])),
    "column_values.between": _between,
    "column_values.match_regex": lambda c, v: c.rlike(v["regex"]),
    "column_values.not_match_regex": lambda c, v: ~c.rlike(v["regex"]),
}
NULL_CONDITIONS = ("column_values.nonnull", "column_values.null")  # nulls are not filtered out first


def _column(name: str) -> Column:
    return F.col("`" + name.replace("`", "``") + "`")


def _has_parameters(values: dict[str, Any]) -> bool:
    return any(isinstance(v, dict) and "$PARAMETER" in v for v in values.values())


@dataclass
class SinglePass:
    """Plan metrics expectation by expectation, run one aggregate, resolve the rest lazily."""

    df: DataFrame
    partial_count: int = 20
    aggregates: dict[str, Column] = field(default_factory=dict)
    resolvers: dict[Any, Callable[[Row], Any]] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict)

    def _agg(self, key: str, column: Column) -> str:
        """Register an aggregate once; return its alias in the result row."""
        if key not in self.aggregates:
            self.aggregates[key] = column.alias(f"m{len(self.aggregates)}")
        return f"m{list(self.aggregates).index(key)}"

    def _rows(self) -> str:
        return self._agg("rows", F.count(F.lit(1)))

    def plan(self, metric_configurations: list[Any]) -> None:
        """Register every metric of one expectation; raise UnsupportedMetricError if one is unknown."""
        planned = {mc.id: self._resolver(mc) for mc in metric_configurations}
        self.resolvers.update(planned)

    def _resolver(self, mc: Any) -> Callable[[Row], Any]:
        name: str = mc.metric_name
        domain: dict[str, Any] = dict(mc.metric_domain_kwargs or {})
        values: dict[str, Any] = dict(mc.metric_value_kwargs or {})
        if any(domain.get(k) for k in DOMAIN_FILTERS) or _has_parameters(values):
            raise UnsupportedMetricError(f"{name}: row conditions and suite parameters are left to GX")
        if name == "table.row_count":
            alias = self._rows()
            return lambda row: int(row[alias])
        if name == "table.columns":
            columns = list(self.df.columns)
            return lambda row: columns
        if name.startswith("unexpected_rows_query."):
            return self._query_resolver(name, values)
        condition, _, suffix = name.rpartition(".")
        if "column" not in domain:
            raise UnsupportedMetricError(name)
        if condition == "column_values.unique":
            return self._unique_resolver(domain["column"], suffix)
        if condition not in CONDITIONS:
            raise UnsupportedMetricError(name)
        return self._map_resolver(condition, domain["column"], values, suffix)

    def _map_resolver(
        self, condition: str, column: str, values: dict[str, Any], suffix: str
    ) -> Callable[[Row], Any]:
        result_format = values.pop("result_format", {}) or {}
        c = _column(column)
        expected = CONDITIONS[condition](c, values)
        unexpected = ~expected if condition in NULL_CONDITIONS else c.isNotNull() & ~expected
        count = self._agg(f"unexpected:{unexpected}", F.sum(F.when(unexpected, 1).otherwise(0)))
        if suffix == "unexpected_count":
            return lambda row: int(row[count] or 0)
        if suffix == "unexpected_values":
            limit = int(result_format.get("partial_unexpected_count", self.partial_count))
            return lambda row: (
                []
                if not row[count]
                else [r[0] for r in self.df.where(unexpected).select(c).limit(limit).collect()]
            )
        if suffix in ("unexpected_index_list", "unexpected_index_query"):
            if isinstance(result_format, dict) and result_format.get("unexpected_index_column_names"):
                raise UnsupportedMetricError("unexpected_index_column_names")
            return lambda row: None
        raise UnsupportedMetricError(f"{condition}.{suffix}")

    def _duplicates(self, column: str, limit: int) -> tuple[int, list[Any]]:
        key = f"dups:{column}:{limit}"
        if key not in self._memo:
            c = _column(column)
            groups = self.df.where(c.isNotNull()).groupBy(c.alias("v")).count().where(F.col("count") > 1)
            total = groups.agg(F.sum("count")).first()
            sample: list[Any] = []
            for r in groups.orderBy("v").limit(limit).collect():
                sample.extend([r["v"]] * int(r["count"]))
            self._memo[key] = (int((total[0] if total else 0) or 0), sample[:limit])
        result: tuple[int, list[Any]] = self._memo[key]
        return result

    def _unique_resolver(self, column: str, suffix: str) -> Callable[[Row], Any]:
        c = _column(column)
        non_null = self._agg(f"count:{column}", F.count(c))
        distinct = self._agg(f"distinct:{column}", F.count_distinct(c))

        def clean(row: Row) -> bool:
            return bool(row[non_null] == row[distinct])

        if suffix == "unexpected_count":
            return lambda row: 0 if clean(row) else self._duplicates(column, self.partial_count)[0]
        if suffix == "unexpected_values":
            return lambda row: [] if clean(row) else self._duplicates(column, self.partial_count)[1]
        if suffix in ("unexpected_index_list", "unexpected_index_query"):
            return lambda row: None
        raise UnsupportedMetricError(f"column_values.unique.{suffix}")

    def _query_resolver(self, name: str, values: dict[str, Any]) -> Callable[[Row], Any]:
        query = str(values.get("unexpected_rows_query", ""))
        match = QUERY_RE.match(query)
        if match is None:
            raise UnsupportedMetricError(
                f"query not of the form SELECT ... FROM {{batch}} WHERE ...: {query}"
            )
        try:
            predicate = F.expr(match["where"])
            self.df.select(predicate)  # analysed now (no job): a bad predicate is left to GX
        except PySparkException as exc:
            raise UnsupportedMetricError(f"{query}: {exc}") from exc
        count = self._agg(f"query:{match['where']}", F.sum(F.when(predicate, 1).otherwise(0)))
        if name.endswith(".row_count"):
            return lambda row: int(row[count] or 0)
        if name.endswith(".table"):
            return lambda row: [] if not row[count] else self._query_rows(query)
        raise UnsupportedMetricError(name)

    def _query_rows(self, query: str) -> list[dict[str, Any]]:
        view = f"_feedguard_dq_{uuid.uuid4().hex}"
        self.df.createOrReplaceTempView(view)
        try:
            rows = self.df.sparkSession.sql(query.format(batch=view)).limit(MAX_QUERY_ROWS).collect()
        finally:
            self.df.sparkSession.catalog.dropTempView(view)
        return [r.asDict(recursive=True) for r in rows]

    def run(self) -> dict[Any, Any]:
        """One Spark job for every count, then the failure-only follow-ups; metrics keyed by GX id."""
        row = self.df.agg(*self.aggregates.values()).first() if self.aggregates else Row()
        assert row is not None
        return {metric_id: resolve(row) for metric_id, resolve in self.resolvers.items()}
