"""Structured logging with trace ids, and a filter that keeps personal data out of log lines."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

# Safety net only: code must not log personal data in the first place. These patterns catch
# the shapes that would hurt most if they slipped through, wherever they sit in the text (no
# word boundaries: an id glued to other text is still an id), and over-redact on purpose.
_SEPARATOR = r"[ \t.\-/\u2010-\u2015]"
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Emails, also URL-encoded (`%40`) and with non-ASCII letters.
    (re.compile(r"[\w.%+'-]+(?:@|%40)[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}"), "[email]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "[token]"),
    # Identity's user ids, anonymity's alias, thread-scope and access-record ids. Post and
    # comment ids (`pst_`, `cmt_`) are public and kept: they name content, not people.
    (re.compile(r"usr_[A-Za-z0-9]+", re.IGNORECASE), "[user-id]"),
    (re.compile(r"(?:als|thr|iar)_[A-Za-z0-9]+", re.IGNORECASE), "[alias-id]"),
    (
        re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE),
        "[uuid]",
    ),
)

# NPIs: any run of ten or more digits, in any grouping (`123-456-7893`, `123 456 7893`,
# `(123) 456-7893`, the 15-digit card form with the 80840 prefix, an NPI glued to other
# digits). No Luhn check: a redacted phone number or date costs nothing, a leaked NPI names
# a doctor.
_DIGIT_RUN = re.compile(r"\(?\d(?:\)?" + _SEPARATOR + r"{0,2}\(?\d)*")
_HEX = frozenset("0123456789abcdefABCDEF")


def _inside_hex_token(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] lies in a trace, span or event id (16+ hex characters with a
    letter): those carry no personal data, and masking them would break log correlation."""
    while start > 0 and text[start - 1] in _HEX:
        start -= 1
    while end < len(text) and text[end] in _HEX:
        end += 1
    token = text[start:end]
    return len(token) >= 16 and all(c in _HEX for c in token) and not token.isdigit()


def _mask_ten_digits(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        run = match.group()
        if sum(c.isdigit() for c in run) < 10 or (
            run.isdigit() and _inside_hex_token(text, match.start(), match.end())
        ):
            return run
        return "[10-digit]"

    return _DIGIT_RUN.sub(replace, text)


class _NameScope:
    """The names masked in one context (a request): the terms and one pattern matching them."""

    __slots__ = ("pattern", "terms")

    def __init__(self, terms: frozenset[str] = frozenset()) -> None:
        self.terms = terms
        self.pattern: re.Pattern[str] | None = None
        self._compile()

    def add(self, names: Iterable[str]) -> None:
        terms = set(self.terms)
        for name in names:
            terms |= _name_terms(name)
        if len(terms) != len(self.terms):
            self.terms = frozenset(terms)
            self._compile()

    def _compile(self) -> None:
        if not self.terms:
            self.pattern = None
            return
        # Longest first, so a whole name is masked before its parts are.
        ordered = sorted(self.terms, key=len, reverse=True)
        alternatives = "|".join(re.escape(t) for t in ordered).replace(r"\ ", r"\s+")
        self.pattern = re.compile(alternatives, re.IGNORECASE)


_subject_names: contextvars.ContextVar[_NameScope | None] = contextvars.ContextVar(
    "consilium_redacted_names", default=None
)
_NAME_PART = re.compile(r"[^\W\d_]{3,}")


def _name_terms(name: str) -> set[str]:
    """The whole name (spacing normalised) and each part of three letters or more."""
    whole = " ".join(name.split()).casefold()
    return {whole, *(part.casefold() for part in _NAME_PART.findall(name))} - {""}


@contextlib.contextmanager
def redact_names(names: Iterable[str] = ()) -> Iterator[None]:
    """Masks `names` (and their parts of ≥ 3 letters, any case) in every log line written in
    this context. Nested contexts add up; the set is a contextvar, so concurrent requests never
    see each other's. Each gRPC call runs in one (see `plumbing.grpc.interceptors`)."""
    outer = _subject_names.get()
    scope = _NameScope(outer.terms if outer is not None else frozenset())
    scope.add(names)
    reset = _subject_names.set(scope)
    try:
        yield
    finally:
        _subject_names.reset(reset)


def also_redact(names: Iterable[str]) -> None:
    """Adds `names` to the innermost `redact_names` scope, for the rest of it: identity calls it
    whenever it loads a person, so the request's later log lines never name its subject."""
    scope = _subject_names.get()
    if scope is None:
        scope = _NameScope()
        _subject_names.set(scope)
    scope.add(names)


def redact(text: str) -> str:
    """Replaces anything that looks like personal data in `text`, and the names of the
    current request's subject (`redact_names`)."""
    scope = _subject_names.get()
    if scope is not None and scope.pattern is not None:
        text = scope.pattern.sub("[name]", text)
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return _mask_ten_digits(text)


def redact_value(value: object) -> object:
    """`value` with every string in it redacted: dicts (keys too), lists and tuples recursively;
    other scalars are redacted as their text when that text holds personal data (an NPI int)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact(str(k)): redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v) for v in value]
    if value is None or isinstance(value, bool | float):
        return value
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "trace_id",
    "span_id",
    "component",
}


class PersonalDataFilter(logging.Filter):
    """Rewrites each record's message (with its arguments), its exception text and every
    structured extra (`extra=`, e.g. `fields`) through `redact`."""

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
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key in list(record.__dict__):
            if key not in _STANDARD_ATTRIBUTES:
                setattr(record, key, redact_value(record.__dict__[key]))
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
