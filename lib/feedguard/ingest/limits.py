"""Caps on hostile input: named defaults that a contract's ``limits:`` block may override.

Each cap ends in a clear outcome, never in a crash or an exhausted JVM:

- ``max_decompressed_bytes`` and ``max_compression_ratio``: the driver stops decompressing a gzip file
  past either cap (a 1 MB file that expands to 1 GB is stopped after ``RATIO_CHECK_AFTER_BYTES``); the
  file is quarantined byte for byte with verdict ``file_corrupt`` and a reason naming the cap.
- ``max_record_bytes``: a longer record is dead-lettered ``record_too_large`` (its raw bytes are still
  kept in full: the reader had to read them) and is not parsed.
- ``max_csv_columns``: a CSV line with more fields is dead-lettered ``too_many_columns`` and never
  reaches the CSV parser (above its ``maxColumns`` the parser throws and fails the whole job).
- ``max_nesting_depth``: JSON nested deeper is dead-lettered as too deeply nested (Spark's JSON parser
  refuses such records; its ``maxNestingDepth`` is this cap).
"""

from __future__ import annotations

GIB = 1 << 30
MIB = 1 << 20

MAX_DECOMPRESSED_BYTES = 16 * GIB
MAX_COMPRESSION_RATIO = 200  # plain JSON and CSV compress 5 to 20 times; 1000 is zeros
RATIO_CHECK_AFTER_BYTES = 64 * MIB  # the ratio is judged once this much has been decompressed
MAX_RECORD_BYTES = 128 * MIB
MAX_CSV_COLUMNS = 20_480  # the CSV parser's own default ``maxColumns``; a contract may only lower it
MAX_NESTING_DEPTH = 1_000  # Spark's (Jackson's) default ``maxNestingDepth``


def describe_bytes(size: int) -> str:
    """``1.5 GiB``, ``64 MiB``, ``812 bytes``: a size for a message."""
    for unit, name in ((GIB, "GiB"), (MIB, "MiB"), (1 << 10, "KiB")):
        if size >= unit:
            return f"{size / unit:.4g} {name}"
    return f"{size} bytes"
