"""Identity-side types: the signed-in viewer, physicians (admin and reveal views), specialties."""

from __future__ import annotations

import strawberry

from consilium.identity.v1 import identity_pb2 as ipb
from gateway.schema.types.enums import ROLE, VERIFICATION, Role, VerificationStatus, from_proto


@strawberry.type(description="A specialty from the NUCC Health Care Provider Taxonomy.")
class Specialty:
    code: str
    name: str

    @classmethod
    def from_proto(cls, specialty: ipb.Specialty) -> Specialty:
        return cls(code=specialty.code, name=specialty.name)


def _verification(physician: ipb.Physician) -> VerificationStatus:
    status = from_proto(VerificationStatus, VERIFICATION, physician.verification)
    return status or VerificationStatus.PENDING


def _roles(physician: ipb.Physician) -> list[Role]:
    return [r for r in (from_proto(Role, ROLE, n) for n in physician.roles) if r is not None]


@strawberry.type(name="Viewer", description="The signed-in physician: their own data only.")
class ViewerProfile:
    id: strawberry.ID
    email: str
    full_name: str
    npi: str
    specialty: Specialty
    verification: VerificationStatus
    roles: list[Role]

    @classmethod
    def from_proto(cls, physician: ipb.Physician) -> ViewerProfile:
        return cls(
            id=strawberry.ID(physician.user_id),
            email=physician.email,
            full_name=physician.full_name,
            npi=physician.npi,
            specialty=Specialty.from_proto(physician.specialty),
            verification=_verification(physician),
            roles=_roles(physician),
        )


@strawberry.type(description="A physician's identity, for admins and audited reveals only.")
class Physician:
    id: strawberry.ID
    full_name: str
    npi: str
    specialty: Specialty
    verification: VerificationStatus

    @classmethod
    def from_proto(cls, physician: ipb.Physician) -> Physician:
        return cls(
            id=strawberry.ID(physician.user_id),
            full_name=physician.full_name,
            npi=physician.npi,
            specialty=Specialty.from_proto(physician.specialty),
            verification=_verification(physician),
        )


@strawberry.type
class AuthPayload:
    token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    viewer: ViewerProfile


@strawberry.input
class RegisterInput:
    email: str
    password: str
    full_name: str
    npi: str
    specialty: str = strawberry.field(description="NUCC code from `specialties`.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2, e.g. US.")
