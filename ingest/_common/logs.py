"""Structured, redacted logs: one event name plus key=value fields per line.

Fields also travel in `record.fields` for handlers that emit JSON. Every string value is
passed through the connector's `Redactor` first, so tokens never reach a log.
"""

from __future__ import annotations

import logging
from typing import Any

from ingest._common.redact import Redactor


def log_event(
    logger: logging.Logger,
    level: int,
    event: str,
    redactor: Redactor,
    **fields: Any,
) -> None:
    if not logger.isEnabledFor(level):
        return
    clean = {k: redactor(v) if isinstance(v, str) else v for k, v in fields.items()}
    text = " ".join(f"{k}={v}" for k, v in clean.items())
    logger.log(level, "%s %s", event, text, extra={"event": event, "fields": clean})
