#!/usr/bin/env bash
# Start or stop the local single-node Kafka broker (KRaft, broker + controller) for FoodNow runs.
#
#   scripts/kafka.sh up       # 127.0.0.1:9092 (controller 9093), data and broker.log in .cache/kafka-local/
#   scripts/kafka.sh down     # graceful stop
#   scripts/kafka.sh status   # exit 0 when running, 3 when down
#
# Overrides: KAFKA_DIR, KAFKA_PORT, KAFKA_CONTROLLER_PORT, PY (default .venv/bin/python).
# The jars come from `make setup` (.cache/jars/kafka); see lib/feedguard_dev/kafka_broker.py.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PY:-.venv/bin/python}"
command="${1:-}"

case "$command" in
  up | down | status) ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac

PYTHONPATH="$(cd "$(dirname "$0")/.." && pwd)/lib${PYTHONPATH:+:$PYTHONPATH}" \
  exec "$PY" -m feedguard_dev.kafka_broker "$command" \
  --dir "${KAFKA_DIR:-.cache/kafka-local}" \
  --port "${KAFKA_PORT:-9092}" \
  --controller-port "${KAFKA_CONTROLLER_PORT:-9093}"
