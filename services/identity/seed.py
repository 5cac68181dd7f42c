"""Demo accounts for `make dev`: staff with known logins and verified physicians, fixed seed.

Every NPI made here is synthetic: valid in form (check digit) but drawn at random from a
fixed seed, never looked up in the NPPES registry. Names are invented.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from services.identity.domain.events import events_between
from services.identity.domain.passwords import Passwords
from services.identity.domain.physician import Physician, Role, VerificationStatus, new_user_id
from services.identity.domain.validation import npi_check_digit
from services.identity.ports import IdentityStore

DEMO_PASSWORD = "consilium-demo"
DEMO_DOMAIN = "demo.consilium"
SEED = 20261124
#: (code) specialties that get many demo members, so their personas can show the specialty
#: under k-anonymity (K=11); the rest get one or two, and stay hidden.
_COMMON = ("207RC0000X", "207Q00000X", "207P00000X", "207R00000X")
_STAFF = (("admin", Role.ADMIN), ("moderator", Role.MODERATOR), ("auditor", Role.AUDITOR))
_FIRST = (
    "Amara",
    "Ben",
    "Chen",
    "Dana",
    "Elif",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
)
_LAST = (
    "Adeyemi",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kim",
    "Larsen",
    "Moreau",
    "Novak",
    "Okafor",
    "Patel",
)
_COUNTRIES = ("US", "US", "US", "CA", "GB", "DE", "IE", "AU")


def _npi(rng: random.Random) -> str:
    stem = str(rng.choice((1, 2))) + "".join(str(rng.randrange(10)) for _ in range(8))
    return stem + npi_check_digit(stem)


def demo_physicians(count: int = 60) -> list[Physician]:
    """The staff accounts and `count` verified physicians, the same list on every run."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not secrets
    from services.identity.domain.specialties import all_specialties

    rare = [s.code for s in all_specialties() if s.code not in _COMMON]
    created = datetime(2026, 1, 5, tzinfo=UTC)
    people: list[Physician] = []
    used_npis: set[str] = set()

    def make(email: str, name: str, specialty: str, roles: frozenset[Role]) -> Physician:
        npi = _npi(rng)
        while npi in used_npis:
            npi = _npi(rng)
        used_npis.add(npi)
        return Physician(
            user_id=new_user_id(),
            email=email,
            full_name=name,
            npi=npi,
            specialty_code=specialty,
            country=rng.choice(_COUNTRIES),
            verification=VerificationStatus.VERIFIED,
            roles=roles | {Role.MEMBER},
            created_at=created + timedelta(days=len(people)),
        )

    for handle, role in _STAFF:
        people.append(
            make(
                f"{handle}@{DEMO_DOMAIN}", f"Demo {handle.title()}", "207R00000X", frozenset({role})
            )
        )
    for index in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        specialty = _COMMON[index % len(_COMMON)] if index < count * 4 // 5 else rng.choice(rare)
        email = f"{first}.{last}.{index}@{DEMO_DOMAIN}".lower()
        people.append(make(email, f"Dr. {first} {last}", specialty, frozenset()))
    return people


async def seed_demo_physicians(store: IdentityStore, passwords: Passwords) -> int:
    """Stores the demo accounts (and their events) unless there are physicians; returns how many."""
    async with store.transaction() as repo:
        if await repo.has_any():
            return 0
        # One hash for all: they share the demo password, and argon2 is slow on purpose.
        password_hash = passwords.hash_password(DEMO_PASSWORD)
        people = demo_physicians()
        for physician in people:
            await repo.add(physician, password_hash)
            # Anonymity learns of them as of anyone: PhysicianRegistered, then PhysicianVerified.
            await repo.emit(events_between(None, physician))
    return len(people)
