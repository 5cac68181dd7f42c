"""Every value of the audit service's enums has its GraphQL counterpart, so they cannot drift:
an auditor must never see null where the ledger says HIDE_ALIAS or TRUNCATED."""

from __future__ import annotations

import enum

import pytest

from gateway.schema.types.audit import (
    ACTION,
    ACTOR_ROLE,
    DECISION,
    PROBLEM_KIND,
    SUBJECT_KIND,
    AuditAction,
    AuditActorRole,
    AuditDecision,
    AuditSubjectKind,
    ChainProblemKind,
)
from gateway.schema.types.enums import ProtoEnum, from_proto, to_proto


@pytest.mark.parametrize(
    ("graphql", "proto"),
    [
        (AuditAction, ACTION),
        (AuditDecision, DECISION),
        (AuditActorRole, ACTOR_ROLE),
        (AuditSubjectKind, SUBJECT_KIND),
        (ChainProblemKind, PROBLEM_KIND),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_every_proto_value_has_a_graphql_value(graphql: type[enum.Enum], proto: ProtoEnum) -> None:
    wrapper, prefix = proto
    unspecified = f"{prefix}_UNSPECIFIED"
    names = [v.name for v in wrapper.DESCRIPTOR.values if v.name != unspecified]
    assert names, "the proto enum has values"
    for name in names:
        member = from_proto(graphql, proto, wrapper.Value(name))
        assert member is not None, f"{name} has no {graphql.__name__} value"
        assert to_proto(member, proto) == wrapper.Value(name)
    assert len(graphql) == len(names), "a GraphQL value the proto does not have"
