"""The scrape endpoint: a tiny asyncio HTTP server answering `GET /metrics` on its own port.

Its own port, not the gateway's public one, so a NetworkPolicy can admit Prometheus to it
alone; asyncio rather than prometheus_client's threaded server, so it starts and stops with
the component's event loop and serves nothing but the exposition format.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

log = logging.getLogger("consilium.metrics")

_MAX_REQUEST_HEAD = 8192
_READ_TIMEOUT = 5.0


class MetricsEndpoint:
    """Serves `registry` at `http://<host>:<port>/metrics`; port 0 picks a free one."""

    def __init__(self, host: str, port: int, *, registry: CollectorRegistry = REGISTRY) -> None:
        self._host = host
        self._port = port
        self._registry = registry
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("metrics on port %d", self.port)
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._open):  # a scrape in progress, or a client that idles
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            await self._answer(reader, writer)
        except (
            ConnectionError,
            TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ):
            pass  # the client went away, idled, or sent no request we read: nothing to answer
        finally:
            self._open.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with asyncio.timeout(_READ_TIMEOUT):
            head = await reader.readuntil(b"\r\n\r\n")
        request_line = head[:_MAX_REQUEST_HEAD].split(b"\r\n", 1)[0].split()
        if len(request_line) >= 2 and request_line[0] in (b"GET", b"HEAD"):
            path = request_line[1].split(b"?", 1)[0]
            if path == b"/metrics":
                body = generate_latest(self._registry)
                status, content_type = "200 OK", CONTENT_TYPE_LATEST
            else:
                body, status, content_type = b"not found\n", "404 Not Found", "text/plain"
        else:
            body, status, content_type = b"GET only\n", "405 Method Not Allowed", "text/plain"
        payload = b"" if request_line[:1] == [b"HEAD"] else body
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
