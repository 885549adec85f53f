"""The FoodNow feed on Kafka: configuration, the write-ahead offset plan and its state, the batch source,
routing, idempotent sinks, the outage policy, the SLA ledger, conservation and reporting.
"""
