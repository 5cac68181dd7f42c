"""The standalone export verifier spells out the AuditEvent wire format by hand (it imports
nothing of ours); these tests keep its tables in step with protos/consilium/audit/v1."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from google.protobuf.descriptor import FieldDescriptor

from consilium.audit.v1 import audit_pb2

_TOOL = Path(__file__).resolve().parents[3] / "tools" / "audit_event_wire.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_event_wire", _TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_field_of_an_audit_event_is_known_to_the_verifier() -> None:
    tool = _tool()
    known = {**tool.STRINGS, **tool.BYTES, **{n: e[0] for n, e in tool.ENUMS.items()}}
    known |= {2: "occurred_at", 4: "sequence", 10: "fields"}
    for field in audit_pb2.AuditEvent.DESCRIPTOR.fields:
        assert known.get(field.number) == field.name, f"the verifier misreads {field.name}"
        if field.number in tool.BYTES:
            assert field.type == FieldDescriptor.TYPE_BYTES


def test_every_enum_value_is_known_to_the_verifier() -> None:
    tool = _tool()
    for number, (name, prefix, names) in tool.ENUMS.items():
        enum = audit_pb2.AuditEvent.DESCRIPTOR.fields_by_number[number].enum_type
        proto = {v.number: v.name.removeprefix(prefix) for v in enum.values}
        assert names == proto, f"the verifier's {name} values differ from the proto"
