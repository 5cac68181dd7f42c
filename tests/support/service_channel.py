"""A loopback channel that presents a dev service's own credential, as that service would."""

from __future__ import annotations

from pathlib import Path

import grpc

from plumbing.auth.service import ServiceCredentials
from plumbing.grpc.channel import create_channel


def service_channel(
    address: str, data_dir: Path, *, audience: str, caller: str = "gateway"
) -> grpc.aio.Channel:
    """A channel to `audience` at `address` whose every call carries `caller`'s service token,
    signed with the dev key `caller` has (or gets) under `data_dir`."""
    credentials = ServiceCredentials.load(caller, data_dir, environ={})
    return create_channel(
        address,
        service=f"test.{audience}",
        service_token=lambda: credentials.metadata(audience=audience),
    )
