"""Protobuf <-> domain conversions for identity; protobuf goes no further than this module."""

from __future__ import annotations

from collections.abc import Iterable

from consilium.identity.v1 import identity_pb2 as pb
from plumbing.errors import FieldViolation, InvalidArgument
from plumbing.timestamps import timestamp
from services.identity.domain.physician import Physician, Role, VerificationStatus
from services.identity.domain.specialties import Specialty, find_specialty

_STATUS_TO_PB = {
    VerificationStatus.PENDING: pb.VERIFICATION_STATUS_PENDING,
    VerificationStatus.VERIFIED: pb.VERIFICATION_STATUS_VERIFIED,
    VerificationStatus.REJECTED: pb.VERIFICATION_STATUS_REJECTED,
    VerificationStatus.SUSPENDED: pb.VERIFICATION_STATUS_SUSPENDED,
}
_ROLE_TO_PB = {
    Role.MEMBER: pb.ROLE_MEMBER,
    Role.MODERATOR: pb.ROLE_MODERATOR,
    Role.AUDITOR: pb.ROLE_AUDITOR,
    Role.ADMIN: pb.ROLE_ADMIN,
}
_ROLE_FROM_PB = {v: k for k, v in _ROLE_TO_PB.items()}


def status_to_proto(status: VerificationStatus) -> pb.VerificationStatus.ValueType:
    return _STATUS_TO_PB[status]


def specialty_to_proto(specialty: Specialty) -> pb.Specialty:
    return pb.Specialty(
        code=specialty.code, name=specialty.name, classification=specialty.classification
    )


def physician_to_proto(physician: Physician) -> pb.Physician:
    message = pb.Physician(
        user_id=physician.user_id,
        verification=status_to_proto(physician.verification),
        roles=sorted(_ROLE_TO_PB[r] for r in physician.roles),
        created_at=timestamp(physician.created_at),
        erased=physician.erased,
    )
    if not physician.erased:
        message.email = physician.email
        message.full_name = physician.full_name
        message.npi = physician.npi
        message.country = physician.country
        specialty = find_specialty(physician.specialty_code)
        if specialty is not None:
            message.specialty.CopyFrom(specialty_to_proto(specialty))
    return message


def persona_attributes_to_proto(physician: Physician) -> pb.PersonaAttributes:
    return pb.PersonaAttributes(
        user_id=physician.user_id,
        full_name=physician.full_name,
        verification=status_to_proto(physician.verification),
        specialty_code=physician.specialty_code,
        erased=physician.erased,
    )


def roles_from_proto(values: Iterable[int], field: str = "roles") -> frozenset[Role]:
    roles: set[Role] = set()
    for index, value in enumerate(values):
        role = _ROLE_FROM_PB.get(value)  # type: ignore[call-overload]
        if role is None:
            raise InvalidArgument(
                [
                    FieldViolation(
                        f"{field}[{index}]", "unknown role; use MEMBER, MODERATOR, AUDITOR or ADMIN"
                    )
                ]
            )
        roles.add(role)
    return frozenset(roles)


def actor_status_to_proto(physician: Physician | None) -> pb.CheckActorResponse:
    """An account's current standing for CheckActor: status and roles, no personal data."""
    if physician is None:
        return pb.CheckActorResponse(exists=False)
    return pb.CheckActorResponse(
        exists=True,
        erased=physician.erased,
        verification=status_to_proto(physician.verification),
        roles=sorted(_ROLE_TO_PB[role] for role in physician.roles),
    )
