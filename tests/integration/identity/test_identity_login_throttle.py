"""Sign-in throttling over real gRPC, on SQLite and PostgreSQL, with time driven by a clock.

Settings here: 3 failures from one address, 7 for the email everywhere, waits of 60 s
doubling up to 600 s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from identity_harness import PASSWORD, IdentityClient, running
from sqlalchemy import select

from consilium.identity.v1 import identity_pb2 as pb
from services.identity import login_guard
from services.identity.adapters.tables import login_throttle
from services.identity.settings import IdentitySettings

WRONG = "not the password at all"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 29, 12, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def throttled(
    identity_settings: IdentitySettings, clock: Clock
) -> AsyncIterator[IdentityClient]:
    settings = identity_settings.model_copy(
        update={
            "login_address_attempts": 3,
            "login_email_attempts": 7,
            "login_backoff_seconds": 60.0,
            "login_max_backoff_seconds": 600.0,
        }
    )
    async with running(settings, clock=clock) as client:
        yield client


async def attempt(
    identity: IdentityClient, email: str, password: str, address: str = "198.51.100.7"
) -> tuple[grpc.StatusCode, int | None]:
    """The outcome of one sign-in: OK or the status code, and RetryInfo's seconds if any."""
    request = pb.LoginRequest(email=email, password=password, client_address=address)
    try:
        await identity.stub.Login(request)
    except grpc.aio.AioRpcError as error:
        return error.code(), retry_after(error)
    return grpc.StatusCode.OK, None


def retry_after(error: grpc.aio.AioRpcError) -> int | None:
    status = rpc_status.from_call(error)
    for detail in status.details if status else ():
        retry = error_details_pb2.RetryInfo()
        if detail.Unpack(retry):
            return retry.retry_delay.seconds
    return None


UNAUTH = (grpc.StatusCode.UNAUTHENTICATED, None)
OK = (grpc.StatusCode.OK, None)


def limited(seconds: int) -> tuple[grpc.StatusCode, int]:
    return grpc.StatusCode.RESOURCE_EXHAUSTED, seconds


async def test_brute_force_is_cut_and_even_the_right_password_waits(
    throttled: IdentityClient, clock: Clock
) -> None:
    doctor = await throttled.register()
    bystander = await throttled.register()
    for _ in range(3):
        assert await attempt(throttled, doctor.email, WRONG) == UNAUTH
    # Throttled for the configured 60 s: the right password is refused too.
    assert await attempt(throttled, doctor.email, PASSWORD) == limited(60)
    assert await attempt(throttled, doctor.email.upper(), PASSWORD) == limited(60)
    clock.advance(59)
    assert await attempt(throttled, doctor.email, PASSWORD) == limited(1)
    # Another account, from the same address, is not touched.
    assert await attempt(throttled, bystander.email, PASSWORD) == OK
    clock.advance(1)
    # The wait is over; one more failure doubles it.
    assert await attempt(throttled, doctor.email, WRONG) == UNAUTH
    assert await attempt(throttled, doctor.email, PASSWORD) == limited(120)
    clock.advance(120)
    assert await attempt(throttled, doctor.email, PASSWORD) == OK
    # Success from this address starts its count again.
    for _ in range(2):
        assert await attempt(throttled, doctor.email, WRONG) == UNAUTH
    assert await attempt(throttled, doctor.email, PASSWORD) == OK


async def test_a_guesser_at_one_address_does_not_lock_the_doctor_out_elsewhere(
    throttled: IdentityClient, clock: Clock
) -> None:
    doctor = await throttled.register()
    for _ in range(3):
        await attempt(throttled, doctor.email, WRONG, address="203.0.113.9")
    assert await attempt(throttled, doctor.email, PASSWORD, "203.0.113.9") == limited(60)
    assert await attempt(throttled, doctor.email, PASSWORD, "192.0.2.44") == OK


async def test_guesses_spread_over_addresses_meet_the_email_wide_limit(
    throttled: IdentityClient, clock: Clock
) -> None:
    doctor = await throttled.register()
    for index in range(7):  # two or three from each address: under the per-address limit
        outcome = await attempt(throttled, doctor.email, WRONG, f"203.0.113.{index % 3}")
        assert outcome == UNAUTH
    # The seventh failure in all blocks the email everywhere, a fresh address included.
    assert await attempt(throttled, doctor.email, PASSWORD, "192.0.2.44") == limited(60)
    clock.advance(60)
    assert await attempt(throttled, doctor.email, PASSWORD, "192.0.2.44") == OK


async def test_unknown_emails_are_throttled_exactly_like_known_ones(
    throttled: IdentityClient, clock: Clock
) -> None:
    doctor = await throttled.register()
    unknown = "nobody.here@example.org"

    async def story(email: str) -> list[tuple[grpc.StatusCode, int | None]]:
        outcomes = [await attempt(throttled, email, WRONG) for _ in range(4)]
        clock.advance(30)
        outcomes.append(await attempt(throttled, email, WRONG))
        clock.advance(30)
        outcomes += [await attempt(throttled, email, WRONG) for _ in range(2)]
        return outcomes

    known_story = await story(doctor.email)
    assert known_story == [UNAUTH] * 3 + [limited(60), limited(30), UNAUTH, limited(120)]
    assert await story(unknown) == known_story


async def test_the_throttle_table_names_no_email_and_no_address(
    throttled: IdentityClient, clock: Clock
) -> None:
    doctor = await throttled.register()
    for _ in range(3):
        await attempt(throttled, doctor.email, WRONG, address="203.0.113.77")
    async with throttled.instance.engine.connect() as connection:
        rows = (await connection.execute(select(login_throttle))).all()
    assert len(rows) == 2  # the email, and the email from that address
    text = repr(rows).lower()
    assert doctor.email.lower() not in text
    assert doctor.email.split("@")[0] not in text
    assert "203.0.113.77" not in text


async def test_quiet_keys_are_purged_and_a_success_leaves_no_row(
    throttled: IdentityClient, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(login_guard, "PURGE_EVERY", 1)  # purge at every sign-in
    doctor = await throttled.register()
    assert await attempt(throttled, doctor.email, PASSWORD) == OK
    assert await rows(throttled) == 0
    await attempt(throttled, "guess.one@example.org", WRONG)
    assert await rows(throttled) == 2
    clock.advance(24 * 3600 + 1)  # past the default forget time of a day
    await attempt(throttled, "guess.two@example.org", WRONG)
    assert await rows(throttled) == 2  # guess.one's are gone, guess.two's are new


async def rows(identity: IdentityClient) -> int:
    async with identity.instance.engine.connect() as connection:
        return len((await connection.execute(select(login_throttle))).all())
