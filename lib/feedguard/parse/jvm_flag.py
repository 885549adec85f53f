"""The JSON fast path's text flag in one streaming pass on the JVM, when its jar is on the classpath.

The byte-count flag of :mod:`feedguard.parse.json_shape` and :mod:`feedguard.parse.json_tokens` is built
from Spark SQL expressions only, so it runs anywhere, but it costs more than the parse it guards (every
count copies the record). ``feedguard.jvm.JsonRecordFlag`` (``jvm/src``, built by ``make setup`` into
the jar cache, shipped to Glue with ``--extra-jars``) tells the same thing in one pass of Jackson's
streaming parser: true unless the record is one JSON object whose every key is a field of the object
the contract describes (exact case, once) and whose every value is written as the JSON type of its field,
with nothing before or after it and no NUL, U+FFFD or lone surrogate in it. Like the byte counts it may
flag a good record, never pass a bad one; the exact checks then name the errors.

The Spark conf ``spark.feedguard.jsonFlag`` chooses: ``auto`` (the default: the JVM flag when its class
loads), ``jvm`` (required: a clear error when the jar is missing) or ``sql`` (the byte counts).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from pyspark import SparkContext
from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from feedguard.contracts.contract import DECIMAL_RE, Contract, FieldSpec
from feedguard.errors import UsageError

FLAG_CLASS = "feedguard.jvm.JsonRecordFlag"
JAR_PREFIX = "feedguard-jvm-"
CONF_KEY = "spark.feedguard.jsonFlag"
MAX_MEMBERS = 64  # the JVM flag tracks the keys of one object in a 64-bit set

_KINDS = {
    "string": "text",
    "timestamp": "text",
    "date": "text",
    "integer": "integer",
    "long": "long",
    "double": "number",
    "boolean": "boolean",
}


def _shape(spec: FieldSpec) -> str | None:
    """One field's shape in the descriptor grammar of ``jvm/src/feedguard/jvm/Shape.java``."""
    if spec.type == "struct":
        return _members(spec.fields or ())
    if spec.type == "array":
        item = _shape(spec.items) if spec.items is not None else None
        return None if item is None else f"array[{item}]"
    if DECIMAL_RE.match(spec.type):
        return "number"
    return _KINDS.get(spec.type)


def _members(fields: tuple[FieldSpec, ...]) -> str | None:
    if not fields or len(fields) > MAX_MEMBERS:
        return None
    shapes = [(spec.name, _shape(spec)) for spec in fields]
    if any(shape is None for _, shape in shapes):
        return None
    return "struct{" + ",".join(f"{name}:{shape}" for name, shape in shapes) + "}"


def descriptor(contract: Contract) -> str | None:
    """The record's shape for the JVM flag, or None when the flag cannot describe it (use the byte counts)."""
    return _members(contract.fields)


def _function_name(text: str) -> str:
    return "feedguard_json_flag_" + hashlib.sha1(text.encode()).hexdigest()[:16]


@lru_cache(maxsize=8)
def _class_loads(context: SparkContext) -> bool:
    jvm = context._jvm
    assert jvm is not None
    try:
        jvm.org.apache.spark.util.Utils.classForName(FLAG_CLASS, True, False)
    except Exception:
        return False
    return True


def json_text_flag(spark: SparkSession, contract: Contract) -> str | None:
    """Register the JVM flag for ``contract`` in ``spark`` and return its function name, or None when the
    byte-count flag is to be used (see the module for ``spark.feedguard.jsonFlag``)."""
    choice = spark.conf.get(CONF_KEY, "auto") or "auto"
    if choice not in ("auto", "jvm", "sql"):
        raise UsageError(f"{CONF_KEY} must be auto, jvm or sql, not {choice!r}")
    text = descriptor(contract)
    if choice == "sql" or (choice == "auto" and text is None):
        return None
    loads = _class_loads(spark.sparkContext)
    if choice == "jvm" and text is None:
        raise UsageError(
            f"{CONF_KEY}=jvm, but the contract {contract.source}/{contract.dataset} has an object of over "
            f"{MAX_MEMBERS} fields (the JVM flag cannot describe it: use auto or sql)"
        )
    if choice == "jvm" and not loads:
        raise UsageError(
            f"{CONF_KEY}=jvm, but {FLAG_CLASS} is not on the classpath (run 'make setup'; with spark-submit "
            f"pass the {JAR_PREFIX}*.jar of the jar cache to --jars; on Glue add it to --extra-jars)"
        )
    if not loads or text is None:
        return None
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    name = _function_name(text)
    flag = jvm.feedguard.jvm.JsonRecordFlag(text)
    spark._jsparkSession.udf().register(name, flag, jvm.org.apache.spark.sql.types.DataTypes.BooleanType)
    return name


def call_flag(name: str, raw: Column) -> Column:
    """The registered flag applied to the record text."""
    return F.call_function(name, raw)
