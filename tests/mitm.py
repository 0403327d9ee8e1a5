"""A TLS man in the middle for security tests: a rogue certificate in front of a real endpoint.

`MitmProxy` listens on loopback, presents a certificate issued by its own CA for the printer's
serial (what an attacker on the LAN would forge), and relays everything to the real endpoint
over a properly verified connection. It records every byte clients sent it, so a test can prove
that a client which refused the certificate never revealed its access code, and (with a client
that trusts the rogue CA) that the relay really works.
"""

import asyncio
import contextlib
import ssl
from pathlib import Path
from types import TracebackType
from typing import Self

from custom_components.bambu_printer.printer.tls import create_ssl_context
from simulator.ca import TestCA

_CHUNK = 65536


class MitmProxy:
    """Relay TLS connections from clients to ``upstream``, terminating TLS with a rogue cert."""

    def __init__(
        self,
        directory: Path,
        serial: str,
        upstream_host: str,
        upstream_port: int,
        upstream_ca: Path,
    ) -> None:
        self.rogue_ca = TestCA(directory / "rogue-ca", name="Rogue CA")
        pair = self.rogue_ca.issue(serial)
        self._server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server_context.load_cert_chain(pair.cert_path, pair.key_path)
        self._upstream_context = create_ssl_context(upstream_ca)
        self._serial = serial
        self._upstream = (upstream_host, upstream_port)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.received = bytearray()
        self.handshakes = 0
        self.refused_handshakes = 0

    @property
    def host(self) -> str:
        """Return the address clients are lured to."""
        return "127.0.0.1"

    @property
    def port(self) -> int:
        """Return the port clients are lured to."""
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._relay(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                await writer.start_tls(self._server_context)
            except (ssl.SSLError, OSError, ConnectionError):
                self.refused_handshakes += 1
                return
            self.handshakes += 1
            up_reader, up_writer = await asyncio.open_connection(
                *self._upstream, ssl=self._upstream_context, server_hostname=self._serial
            )
            try:
                await asyncio.gather(
                    self._pipe(reader, up_writer, record=True),
                    self._pipe(up_reader, writer, record=False),
                )
            finally:
                up_writer.transport.abort()
        finally:
            writer.transport.abort()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, record: bool
    ) -> None:
        with contextlib.suppress(OSError, ssl.SSLError, ConnectionError):
            while data := await reader.read(_CHUNK):
                if record:
                    self.received += data
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
