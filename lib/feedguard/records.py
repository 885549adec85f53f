"""Typed records for the lake's internal tables: the Spark schema of a table is derived from its record type.

A table's row is a frozen dataclass (or a ``NamedTuple``); :func:`spark_schema` turns its annotations into
the ``StructType`` the table is written with, so each schema is written once. Python types map to Spark
types as ``str``: string, ``int``: bigint, ``float``: double, ``bool``: boolean, ``datetime``: timestamp,
``date``: date, ``bytes``: binary; ``X | None`` is a nullable column; ``Int32`` (an ``int`` annotated with
Spark's ``IntegerType``) is an int column. ``Nullable[X]`` marks a column that is nullable in the table
although the record always fills it (kept as the table was first written).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from pyspark.sql import types as T

Int32 = Annotated[int, T.IntegerType()]


class _NullableMark:
    """Marker: the column is nullable even though the record's type is not optional."""


NULLABLE = _NullableMark()

_SCALARS: dict[Any, T.DataType] = {
    str: T.StringType(),
    int: T.LongType(),
    float: T.DoubleType(),
    bool: T.BooleanType(),
    dt.datetime: T.TimestampType(),
    dt.date: T.DateType(),
    bytes: T.BinaryType(),
}


def _field_names(record: type) -> list[str]:
    if dataclasses.is_dataclass(record):
        return [f.name for f in dataclasses.fields(record)]
    names = getattr(record, "_fields", None)  # a NamedTuple
    if names is None:
        raise TypeError(f"{record.__name__} is neither a dataclass nor a NamedTuple")
    return list(names)


def _column(name: str, hint: Any) -> T.StructField:
    nullable, spark_type = False, None
    if get_origin(hint) is Annotated:
        hint, *marks = get_args(hint)
        spark_type = next((m for m in marks if isinstance(m, T.DataType)), None)
        nullable = any(m is NULLABLE for m in marks)
    if get_origin(hint) in (Union, types.UnionType):
        inner = [a for a in get_args(hint) if a is not type(None)]
        nullable = nullable or len(inner) < len(get_args(hint))
        hint = inner[0] if len(inner) == 1 else hint
        if get_origin(hint) is Annotated:
            hint, *marks = get_args(hint)
            spark_type = spark_type or next((m for m in marks if isinstance(m, T.DataType)), None)
    if spark_type is None:
        if hint not in _SCALARS:
            raise TypeError(f"column {name}: no Spark type for {hint!r}")
        spark_type = _SCALARS[hint]
    return T.StructField(name, spark_type, nullable)


def spark_schema(record: type) -> T.StructType:
    """The table schema of a record type, column for field, in field order."""
    hints = get_type_hints(record, include_extras=True)
    return T.StructType([_column(name, hints[name]) for name in _field_names(record)])


def as_row(record: Any) -> tuple[Any, ...]:
    """A record's values in column order (for ``createDataFrame``)."""
    if dataclasses.is_dataclass(record):
        return tuple(getattr(record, f.name) for f in dataclasses.fields(record))
    return tuple(record)
