"""Adversarial canaries for the log redactor: every shape of personal data that slipped
through before (issue 9, finding 8) must leave no trace in a formatted log line."""

from __future__ import annotations

import json
import logging

import pytest

from plumbing.logging import (
    JsonFormatter,
    PersonalDataFilter,
    TraceContextFilter,
    also_redact,
    redact,
    redact_names,
)

NPI = "1234567893"


def formatted(msg: str, *args: object, **extra: object) -> str:
    """One record through the handler's filters and the JSON formatter, as configured."""
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, args or None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    PersonalDataFilter().filter(record)
    TraceContextFilter().filter(record)
    return JsonFormatter("identity").format(record)


@pytest.mark.parametrize(
    "text",
    [
        "npi 123-456-7893 rejected",
        "npi 123 456 7893 rejected",
        "npi 123.456.7893 rejected",
        "npi 12 34 56 78 93 rejected",
        "npi 1-2-3-4-5-6-7-8-9-3 rejected",
        "npi=1234567893x",
        "card 80840" + NPI,
        "phone (123) 456-7893",
    ],
)
def test_npis_in_any_spacing_are_redacted(text: str) -> None:
    cleaned = redact(text)
    assert "7893" not in cleaned, cleaned


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("owner=usr_abcdefghijklmnopqrstuvwxyz", "usr_abcdefghijklmnopqrstuvwxyz"[4:]),
        ("ownerusr_abcdefghij234567abcdefgh", "abcdefghij234567abcdefgh"),
        ("alias:als_qwertyuiop234567qwertyuiop", "qwertyuiop234567qwertyuiop"),
        ("xals_qwertyuiop234567qwertyuiop", "qwertyuiop234567qwertyuiop"),
        ("scope thr_mnbvcxzlkjhgfdsapoiuytrewq", "mnbvcxzlkjhgfdsapoiuytrewq"),
        ("record iar_0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"),
        ("USR_ABCDEFGHIJKLMNOPQRSTUVWXYZ", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        ("event 3f2b8c1e-9d4a-4f6b-8e2a-1c5d7e9f0a3b", "3f2b8c1e-9d4a-4f6b-8e2a-1c5d7e9f0a3b"),
    ],
)
def test_ids_are_redacted_without_a_word_boundary(text: str, leak: str) -> None:
    assert leak not in redact(text)


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("to:jane.doe@example.org,", "jane.doe@example.org"),
        ("x=Jane.Doe+tag@Example.ORG", "Doe+tag@Example.ORG"),
        ("url ?email=jane.doe%40example.org&x", "jane.doe%40example.org"),
        ("zoë.müller@klinik.de", "müller@klinik.de"),
    ],
)
def test_emails_anywhere_are_redacted(text: str, leak: str) -> None:
    assert leak not in redact(text)


def test_structured_extras_are_redacted_recursively() -> None:
    line = formatted(
        "registered",
        fields={
            "email": "jane.doe@example.org",
            "npi": int(NPI),
            "nested": {"ids": ["usr_abcdefghijklmnopqrstuvwxyz", ("123 456 7893",)]},
            "jane.doe@example.org": "as a key",
        },
        subject="als_qwertyuiop234567qwertyuiop",
    )
    assert "example.org" not in line
    assert "7893" not in line
    assert "abcdefghijklmnopqrstuvwxyz" not in line
    entry = json.loads(line)
    assert entry["nested"]["ids"][0] == "[user-id]"
    assert entry["npi"] == "[10-digit]"


def test_other_extra_attributes_are_redacted_too() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "ok", None, None)
    record.subject = "als_qwertyuiop234567qwertyuiop"
    record.people = ["jane.doe@example.org"]
    PersonalDataFilter().filter(record)
    assert "qwertyuiop" not in str(record.subject)
    assert "jane" not in str(record.people)


def test_the_request_subjects_names_are_masked_in_its_context() -> None:
    with redact_names(["Jane Q Doe"]):
        assert "Jane" not in redact("profile of Jane Q Doe read")
        assert "doe" not in redact("matched surname DOE and doe").lower()
        assert "jane" not in redact("glued:janeq").lower()
        line = formatted("subject %s", "jane", fields={"who": {"name": "Doe, Jane"}})
        assert "jane" not in line.lower() and "doe" not in line.lower()
        # A single letter of a name is no name part worth masking.
        assert redact("Q") == "Q"
    assert redact("profile of Jane Q Doe read") == "profile of Jane Q Doe read"


def test_names_of_nested_contexts_add_up_and_are_isolated_per_task() -> None:
    with redact_names(["Jane Doe"]):
        with redact_names(["Mary-Ann O'Neil"]):
            cleaned = redact("Jane Doe and Mary-Ann O'Neil")
            for part in ("Jane", "Doe", "Mary", "Ann", "Neil"):
                assert part not in cleaned
        assert "Mary" in redact("Mary")
        assert "Jane" not in redact("Jane")


async def test_names_do_not_leak_into_another_requests_context() -> None:
    import asyncio

    seen: list[str] = []

    async def other_request() -> None:
        seen.append(redact("Jane"))

    with redact_names(["Jane Doe"]):
        pass
    await asyncio.gather(other_request())
    assert seen == ["Jane"]


def test_exception_text_is_redacted_with_names() -> None:
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", None, None)
    with redact_names(["Jane Doe"]):
        try:
            raise ValueError(
                "duplicate row (Jane Doe, 123-456-7893, usr_abcdefghijklmnopqrstuvwxyz)"
            )
        except ValueError as exc:
            record.exc_info = (type(exc), exc, exc.__traceback__)
        PersonalDataFilter().filter(record)
    text = JsonFormatter("identity").format(record)
    for leak in ("Jane", "Doe", "7893", "abcdefghijklmnop"):
        assert leak not in text


def test_ordinary_text_is_kept() -> None:
    text = "rpc /consilium.content.v1.ContentService/CreatePost OK in 12.5 ms (post pst_abc)"
    assert redact(text) == text


def test_trace_ids_in_messages_stay_searchable() -> None:
    """A trace id often holds ten decimal digits in a row; it names no one and must survive."""
    trace_id = "0af76519161234567893eb211c80319c"
    assert redact(f"unhandled error (trace {trace_id})") == f"unhandled error (trace {trace_id})"
    assert "7893" not in redact("npi 1234567893 and 0af7 1234567893")


def test_also_redact_adds_to_the_current_scope_until_it_ends() -> None:
    with redact_names(["Jane Doe"]):
        also_redact(["Mary Major"])
        assert "Mary" not in redact("Mary Major and Jane Doe") and "Jane" not in redact("Jane")
    assert redact("Mary Major") == "Mary Major"
