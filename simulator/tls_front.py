"""A TCP front that ignores TLS 1.3 ClientHellos, as the P2S firmware 01.02.00.00 does.

That firmware's broker never answers a ClientHello offering TLS 1.3 (the handshake hangs
until the client gives up) and answers one offering at most TLS 1.2 at once (ha-bambulab
issue #2072). Mosquitto cannot be told to behave that way, so :class:`Tls13Silent` listens on
the printer's port, reads the ClientHello, and either stays silent (TLS 1.3 offered) or relays
the connection, untouched, to Mosquitto's TLS listener (which then negotiates TLS 1.2).
"""

import asyncio
import contextlib
import struct
from typing import Final

__all__ = ["Tls13Silent", "offers_tls13"]

_HANDSHAKE: Final = 22
_CLIENT_HELLO: Final = 1
_SUPPORTED_VERSIONS: Final = 43
_TLS13: Final = 0x0304
_MAX_HELLO: Final = 64 * 1024
_CHUNK: Final = 65536


def _handshake_bytes(data: bytes) -> bytes | None:
    """Join the handshake fragments of the leading records; None when one is not handshake."""
    out, index = bytearray(), 0
    while index + 5 <= len(data):
        kind, _version, length = struct.unpack_from("!BHH", data, index)
        if kind != _HANDSHAKE:
            return None
        out += data[index + 5 : index + 5 + length]
        index += 5 + length
    return bytes(out)


def _client_hello(data: bytes) -> bytes | None:
    """Return the ClientHello body at the start of ``data``: None while it is incomplete.

    Anything that is not a ClientHello gives an empty body.
    """
    handshake = _handshake_bytes(data)
    if handshake is None:
        return b""
    if len(handshake) < 4:
        return None
    if handshake[0] != _CLIENT_HELLO:
        return b""
    length = int.from_bytes(handshake[1:4])
    if len(handshake) < 4 + length:
        return None
    return handshake[4 : 4 + length]


def _supported_versions(hello: bytes) -> bytes:
    """Return the version list of the supported_versions extension (empty when absent)."""
    index = 2 + 32  # legacy_version, random
    try:
        index += 1 + hello[index]  # session id
        index += 2 + int.from_bytes(hello[index : index + 2])  # cipher suites
        index += 1 + hello[index]  # compression methods
    except IndexError:
        return b""
    end = index + 2 + int.from_bytes(hello[index : index + 2])
    index += 2
    while index + 4 <= min(end, len(hello)):
        kind, size = struct.unpack_from("!HH", hello, index)
        body = hello[index + 4 : index + 4 + size]
        index += 4 + size
        if kind == _SUPPORTED_VERSIONS and body:
            return body[1 : 1 + body[0]]
    return b""


def offers_tls13(data: bytes) -> bool | None:
    """Tell whether the ClientHello at the start of ``data`` offers TLS 1.3.

    None while the ClientHello is incomplete; False for anything that is not one (so it is
    passed on as it is).
    """
    hello = _client_hello(data)
    if hello is None:
        return None
    versions = _supported_versions(hello)
    return any(int.from_bytes(versions[i : i + 2]) == _TLS13 for i in range(0, len(versions), 2))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while chunk := await reader.read(_CHUNK):
        writer.write(chunk)
        await writer.drain()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


class Tls13Silent:
    """Listens on ``port``; relays connections whose ClientHello stays at TLS 1.2 to ``target``.

    A connection offering TLS 1.3 gets no answer at all; it ends when the client gives up or
    the front stops. :attr:`silenced` counts them.
    """

    def __init__(self, host: str, port: int, target_port: int) -> None:
        self.host = host
        self.port = port
        self.target_port = target_port
        self.silenced = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen on the port (the same one again after a stop: clients see a reboot)."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and end every connection, relayed or silent."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        upstream: asyncio.StreamWriter | None = None
        try:
            data = b""
            verdict: bool | None = None
            while verdict is None and len(data) < _MAX_HELLO:
                chunk = await reader.read(_CHUNK)
                if not chunk:
                    return
                data += chunk
                verdict = offers_tls13(data)
            if verdict:
                self.silenced += 1
                while await reader.read(_CHUNK):  # no answer, as the firmware gives none
                    pass
                return
            upstream_reader, upstream = await asyncio.open_connection(self.host, self.target_port)
            upstream.write(data)
            relays = [
                asyncio.ensure_future(_pipe(reader, upstream)),
                asyncio.ensure_future(_pipe(upstream_reader, writer)),
            ]
            try:
                await asyncio.wait(relays, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for relay in relays:
                    relay.cancel()
                await asyncio.gather(*relays, return_exceptions=True)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            if upstream is not None:
                await _close(upstream)
            await _close(writer)
            if task is not None:
                self._tasks.discard(task)
