"""Who is calling, by network: the client address, from X-Forwarded-For only via trusted proxies.

Anyone can write `X-Forwarded-For`, so it is read only when the peer that connected is a
proxy the operator named (`CONSILIUM_GATEWAY_TRUSTED_PROXIES`, addresses or CIDR networks).
Then the header is read from the right, skipping further trusted hops: the first address no
trusted proxy vouches for is the client. Without trusted proxies the peer is the client.

An IPv6 client is keyed by its /64: one host commonly holds a whole /64, and keying on
single addresses would hand it 2**64 budgets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from gateway.settings import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: What keys a caller whose address is unknown (no peer, e.g. some test transports).
UNKNOWN = "unknown"


class ClientAddresses:
    """Resolves the client of a request from its peer and its `X-Forwarded-For` headers."""

    def __init__(self, trusted: Iterable[Network] = ()) -> None:
        self._trusted = tuple(trusted)

    def resolve(self, peer: str | None, forwarded_for: Sequence[str] = ()) -> str:
        """The client's key: an IPv4 address, an IPv6 /64, or `unknown`."""
        address = _address(peer)
        if address is None:
            return UNKNOWN
        if self._is_trusted(address):
            hops = [h.strip() for value in forwarded_for for h in value.split(",")]
            for hop in reversed([h for h in hops if h]):
                forwarded = _address(hop)
                if forwarded is None:
                    break  # garbage from whoever is beyond: trust nothing further left
                address = forwarded
                if not self._is_trusted(forwarded):
                    break
        return _key(address)

    def _is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self._trusted)


def _address(text: str | None) -> Address | None:
    if not text:
        return None
    candidate = text.strip()
    if candidate.startswith("[") and "]" in candidate:  # [v6]:port
        candidate = candidate[1 : candidate.index("]")]
    elif candidate.count(":") == 1:  # v4:port
        candidate = candidate.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _key(address: Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
