"""The log filter keeps personal data out of log lines and adds trace ids."""

import json
import logging

import pytest

from plumbing.logging import JsonFormatter, PersonalDataFilter, TraceContextFilter, redact


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("login failed for jane.doe@example.org", "jane.doe@example.org"),
        ("npi 1234567893 rejected", "1234567893"),
        ("user usr_ABCDEF234567 suspended", "usr_ABCDEF234567"),
        ("bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl", "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"),
    ],
)
def test_redact_removes_personal_data(text: str, leak: str) -> None:
    assert leak not in redact(text)


def test_redact_keeps_ordinary_text() -> None:
    text = "rpc /consilium.identity.v1.IdentityService/Login OK in 12.5 ms"
    assert redact(text) == text


def test_filter_cleans_arguments_and_exceptions() -> None:
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "user %s", ("a@b.org",), None)
    try:
        raise ValueError("duplicate key npi=1234567893")
    except ValueError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    PersonalDataFilter().filter(record)
    TraceContextFilter().filter(record)
    line = JsonFormatter("identity").format(record)
    assert "a@b.org" not in line
    assert "1234567893" not in line
    entry = json.loads(line)
    assert entry["component"] == "identity"
    assert "ValueError" in entry["exception"]
