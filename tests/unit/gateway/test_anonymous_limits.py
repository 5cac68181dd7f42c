"""Anonymous callers per network: a forged X-Forwarded-For or a fresh IPv6 host buys no budget."""

from __future__ import annotations

import httpx
from starlette.types import Receive, Scope, Send

from gateway.auth import Authentication
from gateway.limits.admission import AdmissionControl, admission_of
from gateway.limits.buckets import TokenBuckets
from gateway.limits.client_address import ClientAddresses
from gateway.settings import parse_networks


class Nobody:
    """Every caller is anonymous: the limit under test is the per-address one."""

    async def authenticate(self, authorization: str | None) -> Authentication:
        return Authentication()


class Inner:
    def __init__(self) -> None:
        self.addresses: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        admission = admission_of(scope)
        assert admission is not None
        self.addresses.append(admission.client_address)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def statuses(
    inner: Inner, calls: list[tuple[str, dict[str, str]]], *, trusted: str = "", budget: int = 2
) -> list[int]:
    """Each call from its peer address with its headers, against one shared budget."""
    control = AdmissionControl(
        inner,
        authenticator=Nobody(),  # type: ignore[arg-type]
        addresses=ClientAddresses(parse_networks(trusted)),
        anonymous=TokenBuckets(budget, clock=lambda: 0.0),  # time stands still: no refill
    )
    codes = []
    for peer, headers in calls:
        transport = httpx.ASGITransport(app=control, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
            codes.append((await http.post("/graphql", json={}, headers=headers)).status_code)
    return codes


async def test_a_forged_forwarded_header_from_an_untrusted_peer_buys_nothing() -> None:
    inner = Inner()
    forged = [("198.51.100.7", {"x-forwarded-for": f"203.0.113.{n}"}) for n in range(5)]
    assert await statuses(inner, forged) == [200, 200, 429, 429, 429]
    assert inner.addresses == ["198.51.100.7"] * 2


async def test_behind_a_trusted_proxy_each_client_has_its_own_budget() -> None:
    inner = Inner()
    proxied = [("10.0.0.2", {"x-forwarded-for": f"203.0.113.{n % 2}"}) for n in range(6)]
    codes = await statuses(inner, proxied, trusted="10.0.0.0/8")
    assert codes == [200, 200, 200, 200, 429, 429]
    assert sorted(set(inner.addresses)) == ["203.0.113.0", "203.0.113.1"]


async def test_hosts_of_one_ipv6_64_share_its_budget() -> None:
    inner = Inner()
    hosts = [(f"2001:db8:1:2::{n:x}", {}) for n in range(1, 4)] + [("2001:db8:1:3::1", {})]
    assert await statuses(inner, hosts) == [200, 200, 429, 200]
    assert inner.addresses == ["2001:db8:1:2::/64", "2001:db8:1:2::/64", "2001:db8:1:3::/64"]
