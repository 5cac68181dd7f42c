"""Blind tags and sealed person links (plumbing.auditlink): what erasure can shred."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from plumbing.auditlink import (
    TAG_KEY_ENV,
    AuditLinkError,
    load_tag_key,
    new_sealing_key,
    open_subject,
    seal_subject,
    subject_tag,
)

USER = "usr_abcdefghijklmnopqrstuvwxyz"


def test_a_tag_is_stable_keyed_and_names_no_id() -> None:
    key, other = bytes(32), b"\x01" * 32
    assert subject_tag(key, USER) == subject_tag(key, USER)
    assert subject_tag(key, USER) != subject_tag(other, USER)
    assert subject_tag(key, USER) != subject_tag(key, USER[:-1] + "a")
    assert USER not in subject_tag(key, USER)
    assert subject_tag(key, USER).startswith("ptag_")


def test_a_sealed_link_opens_only_with_its_key_and_event() -> None:
    key = new_sealing_key()
    sealed = seal_subject(key, USER, event_id="ev-1")
    assert USER.encode() not in sealed
    assert open_subject(key, sealed, event_id="ev-1") == USER
    with pytest.raises(AuditLinkError):
        open_subject(key, sealed, event_id="ev-2")  # moved to another event
    with pytest.raises(AuditLinkError):
        open_subject(new_sealing_key(), sealed, event_id="ev-1")  # a shredded key's successor


def test_the_tag_key_comes_from_the_environment_or_a_dev_file(tmp_path: Path) -> None:
    configured = base64.b64encode(b"k" * 32).decode()
    assert load_tag_key(tmp_path, environ={TAG_KEY_ENV: configured}) == b"k" * 32
    dev = load_tag_key(tmp_path, environ={})
    assert load_tag_key(tmp_path, environ={}) == dev  # shared by identity and the ledger
    assert (tmp_path / "keys" / "audit-tag-key").stat().st_mode & 0o777 == 0o600
    with pytest.raises(AuditLinkError):
        load_tag_key(tmp_path / "prod", environ={}, allow_dev=False)
    with pytest.raises(AuditLinkError):
        load_tag_key(tmp_path, environ={TAG_KEY_ENV: base64.b64encode(b"short").decode()})
