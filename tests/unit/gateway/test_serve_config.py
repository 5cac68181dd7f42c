"""How uvicorn runs the gateway: one config for `consilium serve gateway` and the tests."""

from __future__ import annotations

import pytest

from gateway.serve import uvicorn_config
from gateway.settings import GatewaySettings


def test_websocket_compression_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    config = uvicorn_config(object(), GatewaySettings())
    assert config.ws_per_message_deflate is False
    assert config.proxy_headers is False and config.access_log is False
    monkeypatch.setenv("CONSILIUM_GATEWAY_WS_COMPRESSION", "true")
    assert uvicorn_config(object(), GatewaySettings()).ws_per_message_deflate is True
