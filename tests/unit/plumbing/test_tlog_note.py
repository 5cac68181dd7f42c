"""plumbing.tlog.note: C2SP signed notes, checked against golang.org/x/mod/sumdb/note's own vectors."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from plumbing.tlog import NoteError, NoteSigner, NoteVerifier, open_note, sign_note

# From golang.org/x/mod sumdb/note/note_test.go (TestNewVerifier, TestSign, TestOpen).
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY_DATA = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"  # 0x01 || Ed25519 seed
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
    "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01"
    "oOTGwnWLox33WWd1RvMc+QQ=\n"
)


def _peter_signer() -> NoteSigner:
    seed = base64.b64decode(PETER_SKEY_DATA)[1:]
    return NoteSigner("PeterNeumann", Ed25519PrivateKey.from_private_bytes(seed))


def test_vkey_round_trips_and_matches_go() -> None:
    peter = NoteVerifier.from_vkey(PETER_VKEY)
    assert peter.name == "PeterNeumann"
    assert peter.key_hash == 0xC74F20A3
    assert peter.vkey == PETER_VKEY
    assert _peter_signer().verifier.vkey == PETER_VKEY


def test_signing_gives_the_bytes_go_gives() -> None:
    assert sign_note(TEXT, _peter_signer()) == TEXT + "\n" + PETER_SIG


def test_open_verifies_known_keys_and_sets_aside_unknown_ones() -> None:
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [NoteVerifier.from_vkey(PETER_VKEY)])
    assert note.text == TEXT
    assert [(s.name, s.key_hash) for s in note.signatures] == [("PeterNeumann", 0xC74F20A3)]
    assert [(s.name, s.key_hash) for s in note.unverified] == [("EnochRoot", 0xAF0CFE78)]
    both = open_note(
        (TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode(),
        [NoteVerifier.from_vkey(ENOCH_VKEY), NoteVerifier.from_vkey(PETER_VKEY)],
    )
    assert {s.name for s in both.signatures} == {"PeterNeumann", "EnochRoot"}


def test_a_note_signed_by_nobody_known_is_refused_naming_the_signers() -> None:
    with pytest.raises(NoteError, match=r"UNKNOWN_KEY.*EnochRoot") as caught:
        open_note(TEXT + "\n" + ENOCH_SIG, [NoteVerifier.from_vkey(PETER_VKEY)])
    assert caught.value.code == "UNKNOWN_KEY"


def test_edited_text_fails_the_signature() -> None:
    edited = TEXT.replace("answer", "Answer")
    with pytest.raises(NoteError) as caught:
        open_note(edited + "\n" + PETER_SIG, [NoteVerifier.from_vkey(PETER_VKEY)])
    assert caught.value.code == "BAD_SIGNATURE"


def test_same_name_other_key_is_unknown_not_trusted() -> None:
    impostor = NoteSigner("PeterNeumann", Ed25519PrivateKey.generate())
    with pytest.raises(NoteError) as caught:
        open_note(sign_note(TEXT, impostor), [NoteVerifier.from_vkey(PETER_VKEY)])
    assert caught.value.code == "UNKNOWN_KEY"


@pytest.mark.parametrize(
    "message",
    [
        TEXT + PETER_SIG,  # no blank line
        TEXT + "\n" + PETER_SIG.rstrip("\n"),  # signature block without final newline
        TEXT + "\n" + PETER_SIG.replace("\u2014 ", "- "),  # not an em dash
        TEXT + "\n" + "\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUg=\n",
        TEXT + "\n" + "\u2014 PeterNeumann AAAA\n",  # shorter than key hash + 1 byte
        TEXT + "\n" + "\u2014 PeterNeumann not*base64\n",
        "tab\there\n\n" + PETER_SIG,  # control character
        TEXT + "\n" + PETER_SIG * 101,
    ],
)
def test_malformed_notes_are_refused(message: str) -> None:
    with pytest.raises(NoteError) as caught:
        open_note(message, [NoteVerifier.from_vkey(PETER_VKEY)])
    assert caught.value.code == "MALFORMED_NOTE"


def test_invalid_utf8_is_malformed() -> None:
    with pytest.raises(NoteError, match="UTF-8"):
        open_note(b"\xff\n\n" + PETER_SIG.encode(), [NoteVerifier.from_vkey(PETER_VKEY)])


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong hash
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # short hash
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+" + base64.b64encode(b"\x02" + bytes(32)).decode(),  # not type 1
        "PeterNeumann",
        "",
    ],
)
def test_malformed_vkeys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError) as caught:
        NoteVerifier.from_vkey(vkey)
    assert caught.value.code == "MALFORMED_KEY"


def test_signing_refuses_text_without_final_newline_and_bad_names() -> None:
    with pytest.raises(NoteError, match="newline"):
        sign_note("no newline", _peter_signer())
    with pytest.raises(NoteError, match="key name"):
        NoteSigner("a+b", Ed25519PrivateKey.generate()).signature_line(TEXT)
