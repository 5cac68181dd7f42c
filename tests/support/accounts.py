"""Accounts tests store straight into identity's database: there is no admin yet to make
staff, and a test wants an account in a known state without the sign-up flow."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from services.identity.adapters.store import SqlIdentityStore
from services.identity.domain.passwords import HashParameters, Passwords
from services.identity.domain.physician import Physician, Role, VerificationStatus, new_user_id
from services.identity.domain.validation import npi_check_digit

PASSWORD = "correct horse battery staple 42"

#: One counter for the whole run, so no two tests' accounts share the unique NPI.
_npis = itertools.count(100_000)
#: The cheapest argon2id cost: tests hash many passwords (hashes are rehashed on login anyway).
_passwords = Passwords(HashParameters(time_cost=1, memory_cost_kib=64, parallelism=1))


def next_npi() -> str:
    """A fresh NPI with a valid check digit."""
    stem = f"1{next(_npis):08d}"
    return stem + npi_check_digit(stem)


async def store_account(
    store: SqlIdentityStore,
    *roles: Role,
    verified: bool = True,
    email: str | None = None,
    full_name: str = "Staff Member",
    npi: str | None = None,
    specialty_code: str = "207R00000X",
) -> tuple[str, str]:
    """A MEMBER holding `roles` too, VERIFIED unless `verified` is False, with `PASSWORD`;
    returns its user id and email (sign in with them)."""
    user_id = new_user_id()
    email = email or f"{user_id[4:16]}@staff.example.org"
    physician = Physician(
        user_id=user_id,
        email=email,
        full_name=full_name,
        npi=npi or next_npi(),
        specialty_code=specialty_code,
        country="US",
        verification=VerificationStatus.VERIFIED if verified else VerificationStatus.PENDING,
        roles=frozenset({Role.MEMBER, *roles}),
        created_at=datetime.now(UTC),
    )
    async with store.transaction() as repo:
        await repo.add(physician, _passwords.hash_password(PASSWORD))
    return user_id, email
