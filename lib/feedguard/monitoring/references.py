r"""The metrics a CloudWatch dashboard widget or alarm names, read from its definition (SEARCH included).

A dashboard ``metrics`` line is ``[namespace, name, dim1, value1, ..., {options}]`` where ``"."`` repeats the
line above; an expression line is ``[{"expression": ...}]``. ``SEARCH('{Namespace,"Dim A",DimB} MetricName="X"
...', ...)`` names the metric ``X`` with the dimension set ``{Dim A, DimB}``. Metric math over ids names no
metric of its own. An alarm names a metric with ``Namespace``/``MetricName``/``Dimensions`` or in each
``Metrics[].MetricStat.Metric``.

>>> query = "SEARCH('{AWS/Kafka,\"Cluster Name\",\"Broker ID\"} MetricName=\"CpuUser\"', 'Average', 300)"
>>> [(r.namespace, r.name, sorted(r.dimension_names)) for r in expression_refs(query)]
[('AWS/Kafka', 'CpuUser', ['Broker ID', 'Cluster Name'])]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_SEARCH = re.compile(r"SEARCH\(\s*'(?P<query>(?:[^'\\]|\\.)*)'")
_SCHEMA = re.compile(r"\{(?P<schema>[^}]*)\}")
_METRIC_NAME = re.compile(r"""MetricName\s*=\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[A-Za-z0-9_.\-/]+))""")


@dataclass(frozen=True)
class MetricRef:
    """A metric as a widget or alarm names it: namespace, name and dimension values (or None in SEARCH)."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str | None], ...]
    where: str = ""

    @property
    def dimension_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.dimensions)

    def dimension(self, name: str) -> str | None:
        return dict(self.dimensions).get(name)


def expression_refs(expression: str, where: str = "") -> list[MetricRef]:
    """The metrics each ``SEARCH`` of a metric-math expression names (other functions name none)."""
    refs = []
    for search in _SEARCH.finditer(expression):
        query = search.group("query").replace("\\'", "'")
        schema = _SCHEMA.search(query)
        name = _METRIC_NAME.search(query)
        if not schema or not name:
            raise ValueError(f"{where}: SEARCH without a {{schema}} and a MetricName: {query!r}")
        parts = [p.strip().strip('"') for p in schema.group("schema").split(",")]
        metric = name.group("quoted") if name.group("quoted") is not None else name.group("bare")
        refs.append(MetricRef(parts[0], metric, tuple((d, None) for d in parts[1:]), where))
    return refs


def _line_refs(lines: Sequence[Sequence[Any]], where: str) -> Iterator[MetricRef]:
    previous: list[Any] = []
    for raw in lines:
        options = next((x for x in raw if isinstance(x, Mapping)), {})
        if "expression" in options:
            yield from expression_refs(str(options["expression"]), where)
            continue
        plain = [x for x in raw if not isinstance(x, Mapping)]
        line = [previous[i] if x == "." and i < len(previous) else x for i, x in enumerate(plain)]
        previous = line
        if len(line) < 2 or len(line) % 2:
            raise ValueError(f"{where}: malformed metric line {raw!r}")
        dims = tuple((str(line[i]), str(line[i + 1])) for i in range(2, len(line), 2))
        yield MetricRef(str(line[0]), str(line[1]), dims, where)


def widget_refs(widget: Mapping[str, Any]) -> list[MetricRef]:
    """Every metric a dashboard widget names (metric widgets; alarm, log and text widgets name none)."""
    props = widget.get("properties", {})
    where = str(props.get("title", widget.get("type")))
    return list(_line_refs(props.get("metrics", []), where)) if widget.get("type") == "metric" else []


def _dims(dimensions: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, str | None], ...]:
    return tuple(
        (str(d["Name"]), None if isinstance(d["Value"], Mapping) else str(d["Value"])) for d in dimensions
    )


def alarm_refs(properties: Mapping[str, Any], where: str = "") -> list[MetricRef]:
    """Every metric an alarm's properties name (a ``Ref`` dimension value stays None: a parameter)."""
    if "MetricName" in properties:
        return [
            MetricRef(
                str(properties["Namespace"]),
                str(properties["MetricName"]),
                _dims(properties.get("Dimensions", [])),
                where,
            )
        ]
    refs: list[MetricRef] = []
    for query in properties.get("Metrics", []):
        stat = query.get("MetricStat")
        if stat:
            metric = stat["Metric"]
            refs.append(
                MetricRef(
                    metric["Namespace"], metric["MetricName"], _dims(metric.get("Dimensions", [])), where
                )
            )
        elif "Expression" in query and isinstance(query["Expression"], str):
            refs += expression_refs(query["Expression"], where)
    return refs
