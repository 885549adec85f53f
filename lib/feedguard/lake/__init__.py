"""Everything the lake holds and how it is written: the layout (``Lake``), storage (local or S3), Delta
sinks that read their own commit metrics, the processed-files ledger, the run log, the feed lease and a
run's life cycle (undo a dead run, close a finished one).
"""
