"""Alert state in the lake: ``<lake>/_alerts/state.json`` (a local folder, or ``s3://`` with a client).

Example::

    state = load_alert_state(lake_path)
    alerts, state = alerts_for_run(summary, state, thresholds)
    save_alert_state(lake_path, state)
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Final

from feedguard.alerts.notifiers import AlertConfigError
from feedguard.alerts.rules import AlertState

log = logging.getLogger(__name__)

STATE_KEY: Final = "_alerts/state.json"
_S3_SCHEMES: Final = ("s3://", "s3a://")


def alert_state_path(lake_path: str) -> str:
    return f"{lake_path.rstrip('/')}/{STATE_KEY}"


def load_alert_state(lake_path: str, *, s3_client: Any = None) -> AlertState:
    """The saved state, or an empty one when there is none; an unreadable file is reported and ignored."""
    path = alert_state_path(lake_path)
    if path.startswith(_S3_SCHEMES):
        bucket, key = _split_s3(path, s3_client)
        try:
            text = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        except s3_client.exceptions.NoSuchKey:
            return AlertState()
    else:
        local = Path(path)
        if not local.exists():
            return AlertState()
        text = local.read_text(encoding="utf-8")
    try:
        return AlertState.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("alert state %s unreadable (%s); starting afresh", path, type(exc).__name__)
        return AlertState()


def save_alert_state(lake_path: str, state: AlertState, *, s3_client: Any = None) -> str:
    """Write the state (atomically on a local disk); returns where it was written."""
    path = alert_state_path(lake_path)
    text = json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n"
    if path.startswith(_S3_SCHEMES):
        bucket, key = _split_s3(path, s3_client)
        s3_client.put_object(
            Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json"
        )
        return path
    local = Path(path)
    local.parent.mkdir(parents=True, exist_ok=True)
    tmp = local.with_name(local.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, local)
    return path


def _split_s3(path: str, s3_client: Any) -> tuple[str, str]:
    if s3_client is None:
        raise AlertConfigError(f"alert state on {path} needs an S3 client")
    bucket, _, key = path.split("://", 1)[1].partition("/")
    return bucket, key
