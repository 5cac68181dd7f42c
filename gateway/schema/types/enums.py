"""GraphQL enums and their mapping to the protobuf enums of the services."""

from __future__ import annotations

import enum
from typing import Any, TypeVar

import strawberry

from consilium.anonymity.v1 import anonymity_pb2 as anon
from consilium.content.v1 import types_pb2 as ctypes
from consilium.identity.v1 import identity_pb2 as ipb


@strawberry.enum(description="How the author appears on a post or comment.")
class Visibility(enum.Enum):
    IDENTIFIED = "IDENTIFIED"
    PSEUDONYMOUS = "PSEUDONYMOUS"
    ANONYMOUS = "ANONYMOUS"


@strawberry.enum
class PostKind(enum.Enum):
    CASE = "CASE"
    DISCUSSION = "DISCUSSION"
    POLL = "POLL"


@strawberry.enum
class Role(enum.Enum):
    MEMBER = "MEMBER"
    MODERATOR = "MODERATOR"
    AUDITOR = "AUDITOR"
    ADMIN = "ADMIN"


@strawberry.enum
class VerificationStatus(enum.Enum):
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"
    SUSPENDED = "SUSPENDED"


@strawberry.enum
class Reaction(enum.Enum):
    LIKE = "LIKE"
    INSIGHTFUL = "INSIGHTFUL"
    AGREE = "AGREE"
    SUPPORT = "SUPPORT"


@strawberry.enum(description="Patient age band; HIPAA Safe Harbor caps ages at 90+.")
class AgeBand(enum.Enum):
    NEONATE = "NEONATE"
    INFANT = "INFANT"
    CHILD = "CHILD"
    ADOLESCENT = "ADOLESCENT"
    YOUNG_ADULT = "YOUNG_ADULT"
    MIDDLE_AGED = "MIDDLE_AGED"
    OLDER_ADULT = "OLDER_ADULT"
    NINETY_PLUS = "NINETY_PLUS"


@strawberry.enum
class Sex(enum.Enum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    INTERSEX = "INTERSEX"
    UNDISCLOSED = "UNDISCLOSED"


@strawberry.enum
class CaseStatus(enum.Enum):
    OPEN = "OPEN"
    SOLVED = "SOLVED"


ProtoEnum = tuple[Any, str]
E = TypeVar("E", bound=enum.Enum)


def to_proto(value: enum.Enum, proto: ProtoEnum) -> int:
    """`Visibility.ANONYMOUS` -> the number of `VISIBILITY_ANONYMOUS`."""
    wrapper, prefix = proto
    number: int = wrapper.Value(f"{prefix}_{value.value}")
    return number


def from_proto(enum_type: type[E], proto: ProtoEnum, number: int) -> E | None:
    """The GraphQL enum member for a protobuf number; None for UNSPECIFIED or unknown values."""
    wrapper, prefix = proto
    try:
        short = wrapper.Name(number).removeprefix(f"{prefix}_")
    except ValueError:
        return None
    return enum_type(short) if short in enum_type.__members__ else None


VISIBILITY = (anon.Visibility, "VISIBILITY")
POST_KIND = (ctypes.PostKind, "POST_KIND")
REACTION = (ctypes.ReactionKind, "REACTION_KIND")
AGE_BAND = (ctypes.AgeBand, "AGE_BAND")
SEX = (ctypes.Sex, "SEX")
CASE_STATUS = (ctypes.CaseStatus, "CASE_STATUS")
ROLE = (ipb.Role, "ROLE")
VERIFICATION = (ipb.VerificationStatus, "VERIFICATION_STATUS")
