"""feedguard: contract-driven, loss-free ingest of partner feeds into Delta Lake."""
