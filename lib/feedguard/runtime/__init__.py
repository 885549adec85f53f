"""What a job needs around the logic: Glue-style arguments, the error-to-exit-code wrapper, the Spark
session factory, the Glue adapter, logging, and building the reporters (metrics, alerts).
"""
