"""The client address: X-Forwarded-For believed only through the proxies the operator trusts."""

from __future__ import annotations

import pytest

from gateway.limits.client_address import UNKNOWN, ClientAddresses
from gateway.settings import parse_networks

PROXIES = ClientAddresses(parse_networks("10.0.0.0/8, 192.168.1.10"))


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() -> None:
    addresses = ClientAddresses()
    assert addresses.resolve("203.0.113.5", ["198.51.100.1"]) == "203.0.113.5"
    assert addresses.resolve("127.0.0.1", ["198.51.100.1"]) == "127.0.0.1"


def test_an_untrusted_peer_cannot_forward() -> None:
    assert PROXIES.resolve("203.0.113.5", ["198.51.100.1"]) == "203.0.113.5"


def test_a_trusted_peer_names_the_client_as_the_rightmost_untrusted_hop() -> None:
    # The client forged the leftmost entry; the proxies appended the rest.
    header = ["6.6.6.6, 198.51.100.23, 10.1.2.3"]
    assert PROXIES.resolve("192.168.1.10", header) == "198.51.100.23"
    assert PROXIES.resolve("10.9.9.9", ["198.51.100.23", "10.1.2.3"]) == "198.51.100.23"


def test_garbage_stops_the_walk_at_the_last_good_hop() -> None:
    assert PROXIES.resolve("10.0.0.1", ["nonsense, 10.0.0.2"]) == "10.0.0.2"
    assert PROXIES.resolve("10.0.0.1", []) == "10.0.0.1"


def test_ipv6_clients_are_keyed_by_their_64_and_mapped_ipv4_as_ipv4() -> None:
    addresses = ClientAddresses()
    first = addresses.resolve("2001:db8:1:2::1")
    assert first == addresses.resolve("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert addresses.resolve("2001:db8:1:3::1") != first
    assert addresses.resolve("::ffff:198.51.100.7") == "198.51.100.7"
    assert PROXIES.resolve("10.0.0.1", ["[2001:db8::1]:443"]) == "2001:db8::/64"


def test_no_peer_is_unknown() -> None:
    assert ClientAddresses().resolve(None) == UNKNOWN


def test_a_bad_trusted_proxy_entry_is_named() -> None:
    with pytest.raises(ValueError, match="not-a-network"):
        parse_networks("10.0.0.0/8, not-a-network")
