"""Spark schemas generated from a contract (never written twice).

Example::

    schema = spark_schema(contract)                 # typed, with the corrupt-record column
    wide = parse_schema(contract)                   # what the JSON parser reads: decimals widened
    text_schema = string_schema(contract)           # every top-level field as string (CSV)
"""

from __future__ import annotations

from pyspark.sql import types as T

from feedguard.contracts.contract import DECIMAL_RE, MAX_DECIMAL_PRECISION, Contract, FieldSpec

CORRUPT_COLUMN = "_corrupt_record"

_PRIMITIVES: dict[str, T.DataType] = {
    "string": T.StringType(),
    "integer": T.IntegerType(),
    "long": T.LongType(),
    "double": T.DoubleType(),
    "boolean": T.BooleanType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
}


def field_type(spec: FieldSpec) -> T.DataType:
    """The Spark type of one contract field (recursing into structs and arrays)."""
    if spec.type == "struct":
        assert spec.fields is not None
        return T.StructType([T.StructField(f.name, field_type(f), True) for f in spec.fields])
    if spec.type == "array":
        assert spec.items is not None
        return T.ArrayType(field_type(spec.items), True)
    match = DECIMAL_RE.match(spec.type)
    if match:
        return T.DecimalType(int(match[1]), int(match[2]))
    return _PRIMITIVES[spec.type]


def wide_decimal(spec: FieldSpec) -> T.DecimalType:
    """The decimal a contract's ``decimal(p,s)`` is read into before its exactness is checked.

    The same integer digits (``p - s``) and every other digit of 38 as decimal places, so a value
    with more places than ``s`` shows (``17.884``, float noise such as ``25.650000000000002``) instead
    of being rounded by the parser. See :mod:`feedguard.parse.exactness`.
    """
    declared = field_type(spec)
    assert isinstance(declared, T.DecimalType)
    integer_digits = declared.precision - declared.scale
    return T.DecimalType(MAX_DECIMAL_PRECISION, MAX_DECIMAL_PRECISION - integer_digits)


def parse_type(spec: FieldSpec) -> T.DataType:
    """The type the JSON parser reads a field into: the contract type with decimals widened."""
    if spec.type == "struct":
        assert spec.fields is not None
        return T.StructType([T.StructField(f.name, parse_type(f), True) for f in spec.fields])
    if spec.type == "array":
        assert spec.items is not None
        return T.ArrayType(parse_type(spec.items), True)
    if DECIMAL_RE.match(spec.type):
        return wide_decimal(spec)
    return field_type(spec)


def parse_schema(contract: Contract) -> T.StructType:
    """What ``from_json`` reads (decimals widened, see :func:`wide_decimal`), with the corrupt column."""
    fields = [T.StructField(f.name, parse_type(f), True) for f in contract.fields]
    return T.StructType([*fields, T.StructField(CORRUPT_COLUMN, T.StringType(), True)])


def spark_schema(contract: Contract, *, corrupt_column: bool = True) -> T.StructType:
    """The typed schema of the contract; all fields nullable (required is checked, not enforced)."""
    fields = [T.StructField(f.name, field_type(f), True) for f in contract.fields]
    if corrupt_column:
        fields.append(T.StructField(CORRUPT_COLUMN, T.StringType(), True))
    return T.StructType(fields)


def string_schema(contract: Contract, *, corrupt_column: bool = True) -> T.StructType:
    """Every top-level field as a string: CSV is parsed as text, then cast field by field."""
    fields = [T.StructField(f.name, T.StringType(), True) for f in contract.fields]
    if corrupt_column:
        fields.append(T.StructField(CORRUPT_COLUMN, T.StringType(), True))
    return T.StructType(fields)
