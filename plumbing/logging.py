"""Structured logging with trace ids, and a filter that keeps personal data out of log lines."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

# Safety net only: code must not log personal data in the first place. These patterns catch
# the shapes that would hurt most if they slipped through: emails, NPIs (10 digits), bearer
# tokens (JWTs) and user ids.
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "[token]"),
    (re.compile(r"\busr_[A-Za-z0-9]+\b"), "[user-id]"),
    (re.compile(r"(?<!\d)[12]\d{9}(?!\d)"), "[10-digit]"),
)


def redact(text: str) -> str:
    """Replaces anything that looks like personal data in `text`."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class PersonalDataFilter(logging.Filter):
    """Rewrites each record's message (with its arguments) through `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Exception text is personal-data-prone (e.g. a driver echoing a row); keep the
            # type and the redacted text, drop the traceback's locals-free frames as-is.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class TraceContextFilter(logging.Filter):
    """Adds `trace_id` and `span_id` of the current span to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else ""
        record.span_id = format(ctx.span_id, "016x") if ctx.is_valid else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, trace ids, component."""

    def __init__(self, component: str) -> None:
        super().__init__()
        self._component = component

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "component": self._component,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("trace_id", "span_id"):
            value = getattr(record, key, "")
            if value:
                entry[key] = value
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = value
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


_TEXT_FORMAT = "%(asctime)s %(levelname)-7s [%(component)s] %(name)s: %(message)s %(trace_id)s"


class _ComponentFilter(logging.Filter):
    def __init__(self, component: str) -> None:
        super().__init__()
        self._component = component

    def filter(self, record: logging.LogRecord) -> bool:
        record.component = self._component
        return True


def configure_logging(component: str, *, level: str = "INFO", fmt: str = "json") -> None:
    """Routes the root logger to stderr with trace ids and the personal-data filter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(TraceContextFilter())
    handler.addFilter(PersonalDataFilter())
    handler.addFilter(_ComponentFilter(component))
    handler.setFormatter(
        JsonFormatter(component) if fmt == "json" else logging.Formatter(_TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Third-party chatter at INFO carries request details we do not control.
    # aiosqlite and asyncpg log every query parameter at DEBUG: personal data in identity.
    for noisy in (
        "aiokafka",
        "aiosqlite",
        "asyncpg",
        "sqlalchemy.engine",
        "sqlalchemy.pool",
        "alembic.runtime.migration",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
