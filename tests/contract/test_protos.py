"""The proto contracts: generated code is current, buf lint passes, and content stays alias-only."""

from __future__ import annotations

import filecmp
import importlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor, FileDescriptor

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"
GEN = ROOT / "gen"
VENV_BIN = ROOT / ".venv" / "bin"
GEN_SCRIPT = ROOT / "scripts" / "gen_protos.sh"

#: Kept by hand, not written by the generator, so not compared.
HAND_KEPT = {Path("consilium/__init__.py")}


def _generated_files(out: Path) -> set[Path]:
    return {
        path.relative_to(out)
        for path in (out / "consilium").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    } - HAND_KEPT


def _generated_modules() -> list[str]:
    return sorted(
        ".".join(path.with_suffix("").parts).removesuffix(".__init__")
        for path in _generated_files(GEN)
        if path.suffix == ".py"
    )


# --- generated code -------------------------------------------------------------------------


def test_generated_code_matches_the_protos(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(GEN_SCRIPT), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"scripts/gen_protos.sh failed:\n{result.stderr}"

    fresh, committed = _generated_files(tmp_path), _generated_files(GEN)
    stale = sorted(
        str(p) for p in fresh & committed if not filecmp.cmp(tmp_path / p, GEN / p, shallow=False)
    )
    missing = sorted(str(p) for p in fresh - committed)
    extra = sorted(str(p) for p in committed - fresh)
    problems = [
        f"{label}: {', '.join(paths)}"
        for label, paths in (
            ("stale (the protos changed since)", stale),
            ("missing from gen/", missing),
            ("in gen/ but no longer generated", extra),
        )
        if paths
    ]
    assert not problems, (
        "gen/ is out of date with protos/. Run `make protos` and commit gen/.\n  "
        + "\n  ".join(problems)
    )


def test_generation_covers_every_proto() -> None:
    protos = sorted(p.relative_to(PROTOS) for p in PROTOS.rglob("*.proto"))
    assert protos, "no .proto files under protos/"
    for proto in protos:
        stem = proto.with_suffix("")
        assert (GEN / f"{stem}_pb2.py").is_file(), f"no generated module for {proto}"
        assert (GEN / f"{stem}_pb2.pyi").is_file(), f"no .pyi stub for {proto}"


@pytest.mark.parametrize("module", _generated_modules())
def test_generated_module_imports(module: str) -> None:
    importlib.import_module(module)


def test_every_service_has_a_grpc_module_and_stub() -> None:
    services = {
        (file.name, service.full_name)
        for file in _all_consilium_files()
        for service in file.services_by_name.values()
    }
    assert {name for _, name in services} == {
        "consilium.identity.v1.IdentityService",
        "consilium.anonymity.v1.AnonymityService",
        "consilium.content.v1.ContentService",
        "consilium.audit.v1.AuditService",
        # Served by every audit producer (identity, anonymity, the ledger's own chain).
        "consilium.audit.v1.AuditHeadService",
    }
    for file_name, service_name in services:
        module = importlib.import_module(_module_of(file_name) + "_grpc")
        short = service_name.rsplit(".", 1)[1]
        assert hasattr(module, f"{short}Stub"), f"{module.__name__} lacks {short}Stub"
        assert hasattr(module, f"add_{short}Servicer_to_server")


# --- buf ------------------------------------------------------------------------------------


def test_buf_lint_passes() -> None:
    buf = VENV_BIN / "buf"
    if not buf.exists():
        found = shutil.which("buf")
        assert found, "buf is not installed; run `bash scripts/bootstrap.sh` (dev group: buf-bin)"
        buf = Path(found)
    result = subprocess.run(
        [str(buf), "lint"], cwd=PROTOS, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, (
        "buf lint found problems (fix the .proto files; rules in protos/buf.yaml):\n"
        + result.stdout
        + result.stderr
    )


# --- the privacy line -----------------------------------------------------------------------

#: Event files on topics content produces or consumes; they are held to content's rules.
CONTENT_FACING_EVENT_FILES = (
    "consilium/events/v1/content_events.proto",
    "consilium/events/v1/anonymity_events.proto",
)

#: Any of these inside a field or message name hints at a person's identity.
FORBIDDEN_FRAGMENTS = (
    "user",
    "email",
    "mail",
    "npi",
    "name",
    "phone",
    "physician",
    "doctor",
    "person",
    "owner",
    "account",
    "identity",
    "handle",
    "password",
)

#: Words for someone acting on content: a string field naming one must hold an alias id.
PERSON_ROLES = frozenset(
    {
        "author",
        "voter",
        "reactor",
        "viewer",
        "actor",
        "creator",
        "moderator",
        "commenter",
        "poster",
        "member",
        "subject",
        "reporter",
    }
)

#: Names that contain a fragment but are not about people, each with the reason.
ALLOWED = {
    # A community's own name ("Cardiology cases"), not a person's.
    ("consilium.content.v1.Community", "name"),
}

_STRINGISH = (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES)


def _all_consilium_files() -> list[FileDescriptor]:
    files = []
    for module in _generated_modules():
        if module.endswith("_pb2"):
            files.append(importlib.import_module(module).DESCRIPTOR)
    return files


def _module_of(file_name: str) -> str:
    return file_name.removesuffix(".proto").replace("/", ".") + "_pb2"


def _content_facing_files() -> list[FileDescriptor]:
    content = [f for f in _all_consilium_files() if f.package == "consilium.content.v1"]
    events = [importlib.import_module(_module_of(n)).DESCRIPTOR for n in CONTENT_FACING_EVENT_FILES]
    return content + events


def _reachable_messages(files: list[FileDescriptor]) -> Iterator[Descriptor]:
    """Every message defined in `files`, used by their RPCs, or nested or referenced from those."""
    pending: list[Descriptor] = []
    for file in files:
        pending.extend(file.message_types_by_name.values())
        for service in file.services_by_name.values():
            for method in service.methods:
                pending += [method.input_type, method.output_type]
    seen: set[str] = set()
    while pending:
        message = pending.pop()
        if message.full_name in seen:
            continue
        seen.add(message.full_name)
        yield message
        pending.extend(message.nested_types)
        pending.extend(f.message_type for f in message.fields if f.message_type is not None)


def privacy_violations(files: list[FileDescriptor]) -> list[str]:
    """Fields and messages in `files` (and all they reference) that could carry who someone is."""
    found = []
    checked = {file.name for file in files}
    for file in files:
        for dependency in file.dependencies:
            if (
                dependency.package.startswith("consilium.")
                and dependency.package != "consilium.content.v1"
                and dependency.name not in checked
            ):
                found.append(f"{file.name} imports {dependency.name}")
    for message in _reachable_messages(files):
        if any(fragment in message.name.lower() for fragment in FORBIDDEN_FRAGMENTS):
            found.append(f"message {message.full_name}")
        for field in message.fields:
            where = f"{message.full_name}.{field.name}"
            if (message.full_name, field.name) in ALLOWED:
                continue
            if any(fragment in field.name.lower() for fragment in FORBIDDEN_FRAGMENTS):
                found.append(where)
                continue
            words = set(field.name.lower().split("_"))
            if field.type in _STRINGISH and words & PERSON_ROLES and "alias" not in words:
                found.append(f"{where} (names a person but is not an alias id)")
    return found


def test_content_contracts_carry_no_identity() -> None:
    files = _content_facing_files()
    assert {f.package for f in files} == {"consilium.content.v1", "consilium.events.v1"}
    violations = privacy_violations(files)
    assert not violations, (
        "Content's contracts may carry only alias ids, never a user id, name, email or NPI "
        "(DESIGN P1). Use an alias id from anonymity instead of:\n  " + "\n  ".join(violations)
    )


def test_content_contracts_were_actually_walked() -> None:
    # Guards the test above against passing vacuously (e.g. if discovery found no files).
    walked = {
        f"{m.full_name}.{f.name}"
        for m in _reachable_messages(_content_facing_files())
        for f in m.fields
    }
    assert {
        "consilium.content.v1.Post.author_alias_id",
        "consilium.content.v1.CreatePostRequest.author_alias_id",
        "consilium.content.v1.VotePollRequest.voter_alias_id",
        "consilium.events.v1.PostCreated.author_alias_id",
        "consilium.events.v1.AliasSuspended.alias_id",
        "google.protobuf.Timestamp.seconds",
    } <= walked


def _synthetic_content_file(fields: dict[str, str]) -> FileDescriptor:
    """A throwaway `consilium.content.v1` file whose Post has `fields` (name -> proto type)."""
    proto = descriptor_pb2.FileDescriptorProto(
        name="consilium/content/v1/synthetic.proto", package="consilium.content.v1", syntax="proto3"
    )
    types = {"string": FieldDescriptor.TYPE_STRING, "bool": FieldDescriptor.TYPE_BOOL}
    post = proto.message_type.add(name="Post")
    for number, (name, kind) in enumerate(fields.items(), start=1):
        post.field.add(
            name=name, number=number, type=types[kind], label=FieldDescriptor.LABEL_OPTIONAL
        )
    community = proto.message_type.add(name="Community")
    community.field.add(
        name="name",
        number=1,
        type=FieldDescriptor.TYPE_STRING,
        label=FieldDescriptor.LABEL_OPTIONAL,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return pool.FindFileByName(proto.name)


@pytest.mark.parametrize(
    "field",
    [
        "user_id",
        "author_user_id",
        "email",
        "full_name",
        "author_name",
        "display_name",
        "npi",
        "author_id",
        "voter",
        "owner_id",
        "handle",
    ],
)
def test_privacy_check_catches_identity_fields(field: str) -> None:
    file = _synthetic_content_file({"author_alias_id": "string", field: "string"})
    violations = privacy_violations([file])
    assert len(violations) == 1, violations
    assert f"consilium.content.v1.Post.{field}" in violations[0]


def test_privacy_check_allows_alias_ids_and_community_names() -> None:
    file = _synthetic_content_file(
        {
            "author_alias_id": "string",
            "viewer_alias_ids": "string",
            "viewer_has_voted": "bool",
            "title": "string",
            "specialty_tags": "string",
        }
    )
    assert privacy_violations([file]) == []
