"""Alert state in the lake: ``<lake>/_alerts/state.json`` (a local folder or ``s3://``).

Example::

    state = load_alert_state(lake_path)
    alerts, state = alerts_for_run(summary, state, thresholds)
    save_alert_state(lake_path, state)
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from feedguard.alerts.rules import AlertState
from feedguard.lake.storage import S3Storage, Storage, is_s3, storage_for

log = logging.getLogger(__name__)

STATE_KEY: Final = "_alerts/state.json"


def alert_state_path(lake_path: str) -> str:
    return f"{lake_path.rstrip('/')}/{STATE_KEY}"


def _storage(path: str, s3_client: Any) -> Storage:
    return S3Storage(s3_client) if s3_client is not None and is_s3(path) else storage_for(path)


def load_alert_state(lake_path: str, *, s3_client: Any = None) -> AlertState:
    """The saved state, or an empty one when there is none; an unreadable file is reported and ignored."""
    path = alert_state_path(lake_path)
    storage = _storage(path, s3_client)
    if not storage.exists(path):
        return AlertState()
    try:
        return AlertState.from_json(json.loads(storage.read_text(path)))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("alert state %s unreadable (%s); starting afresh", path, type(exc).__name__)
        return AlertState()


def save_alert_state(lake_path: str, state: AlertState, *, s3_client: Any = None) -> str:
    """Write the state (atomically on a local disk); returns where it was written."""
    path = alert_state_path(lake_path)
    _storage(path, s3_client).write_text(path, json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n")
    return path
