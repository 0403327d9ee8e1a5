"""The printer side of the P1/A1 chamber camera: a TLS server streaming JPEG frames.

It checks the 80-byte auth packet (a wrong access code gets the connection closed without a
frame, like a real printer), then sends 16-byte headers and JPEG payloads at `fps` frames a
second. Tests inject faults (bad headers, truncated or oversized frames, slow partial writes)
to exercise the client's error handling.
"""

import asyncio
import enum
import hmac
import math
import ssl
import struct
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Final, Self

from .issued import remember
from .jpeg import JpegRenderer, Overlay

AUTH_PACKET: Final = struct.Struct("<IIII32s32s")
FRAME_HEADER: Final = struct.Struct("<IIII")
USERNAME: Final = b"bblp"
_AUTH_MAGIC: Final = 0x40
_AUTH_KIND: Final = 0x3000


class Fault(enum.Enum):
    """A misbehaviour applied to the next frame sent (one fault per frame)."""

    BAD_HEADER = "bad_header"
    """Header announcing a size of 0, then the connection stays open."""
    OVERSIZED = "oversized"
    """Header announcing a 64 MB frame, then the connection closes."""
    BAD_JPEG = "bad_jpeg"
    """A payload of the right size that is not a JPEG image."""
    TRUNCATED = "truncated"
    """Header and half the payload, then the connection closes."""
    SLOW = "slow"
    """A valid frame written in small pieces with pauses, to force partial reads."""
    CLOSE = "close"
    """The connection closes where the next frame would start."""


def _default_source() -> Callable[[], bytes]:
    renderer = JpegRenderer()
    idle = Overlay(job_name="", state="IDLE")
    return lambda: renderer.render(idle)


class CameraServer:
    """A simulated chamber camera on 127.0.0.1; one instance per simulated printer."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext | None,
        access_code: str,
        frame_source: Callable[[], bytes] | None = None,
        fps: float = 1.0,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        auth_timeout: float = 5.0,
        slow_chunk: int = 997,
        slow_delay: float = 0.002,
    ) -> None:
        self._ssl_context = ssl_context
        self._access_code = access_code.encode()
        remember(access_code)
        self._frame_source = frame_source or _default_source()
        self.fps = fps
        self.host = host
        self._port = port
        self.auth_timeout = auth_timeout
        self.slow_chunk = slow_chunk
        self.slow_delay = slow_delay
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._streaming: set[asyncio.StreamWriter] = set()
        self._faults: deque[Fault] = deque()
        self.auth_failures = 0
        self.connections_total = 0
        self.frames_sent = 0

    def __repr__(self) -> str:
        return f"CameraServer(host={self.host!r}, port={self._port}, fps={self.fps:g})"

    @property
    def fps(self) -> float:
        """Frames per second sent to each client; `math.inf` sends as fast as they read."""
        return self._fps

    @fps.setter
    def fps(self, value: float) -> None:
        if not value > 0:
            raise ValueError("fps must be positive")
        self._fps = value

    @property
    def port(self) -> int:
        """Return the TCP port (the chosen free port once started)."""
        return self._port

    @property
    def active_clients(self) -> int:
        """Return how many authenticated clients are being streamed to right now."""
        return len(self._streaming)

    async def start(self) -> None:
        """Listen on host:port (port 0 picks a free one, then `.port` tells which)."""
        if self._server is not None:
            return
        # Plain TCP first, TLS in the handler: a client that rejects our certificate is then
        # this server's business (counted as a closed connection), not an error asyncio
        # reports to the loop's exception handler.
        self._server = await asyncio.start_server(self._handle, self.host, self._port)
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection; idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        await self._cancel_handlers()
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def set_access_code(self, access_code: str, *, drop_clients: bool = True) -> None:
        """Change the access code, like the printer's settings screen; drops viewers by default."""
        self._access_code = access_code.encode()
        remember(access_code)
        if drop_clients:
            self.drop_clients()

    def drop_clients(self) -> None:
        """Close every client connection abruptly (the server keeps listening)."""
        for task in list(self._handlers):
            task.cancel()

    def inject_fault(self, fault: Fault, count: int = 1) -> None:
        """Apply `fault` to the next `count` frames sent (to whichever client comes first)."""
        self._faults.extend([fault] * count)

    async def _cancel_handlers(self) -> None:
        tasks = list(self._handlers)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _auth_ok(self, packet: bytes) -> bool:
        magic, kind, _, _, user, code = AUTH_PACKET.unpack(packet)
        return (
            magic == _AUTH_MAGIC
            and kind == _AUTH_KIND
            and user.rstrip(b"\0") == USERNAME
            and hmac.compare_digest(code.rstrip(b"\0"), self._access_code)
        )

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - start_server runs handlers as tasks
        self._handlers.add(task)
        self.connections_total += 1
        try:
            if self._ssl_context is not None:
                await writer.start_tls(self._ssl_context, ssl_handshake_timeout=self.auth_timeout)
            await self._serve(reader, writer)
            # A graceful close (TLS close_notify), as the printer does after a wrong code.
            writer.close()
            async with asyncio.timeout(1.0):
                await writer.wait_closed()
        except (OSError, TimeoutError, asyncio.CancelledError):
            pass  # the client went away, or the server is stopping/dropping clients
        finally:
            self._streaming.discard(writer)
            self._handlers.discard(task)
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self.auth_timeout):
                packet = await reader.readexactly(AUTH_PACKET.size)
        except (TimeoutError, asyncio.IncompleteReadError):
            return
        if not self._auth_ok(packet):
            self.auth_failures += 1
            return  # like the printer: close without sending a frame
        self._streaming.add(writer)
        await self._stream(writer)

    async def _stream(self, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            fault = self._faults.popleft() if self._faults else None
            if not await self._send(writer, self._frame_source(), fault):
                return
            self.frames_sent += 1
            if math.isinf(self._fps):
                await asyncio.sleep(0)
                continue
            now = loop.time()
            next_at = max(next_at + 1 / self._fps, now - 1.0)  # no burst after a stall
            await asyncio.sleep(max(0.0, next_at - now))

    async def _send(self, writer: asyncio.StreamWriter, frame: bytes, fault: Fault | None) -> bool:
        """Write one frame (or its faulty version); return False to close the connection."""
        if fault is Fault.CLOSE:
            return False
        if fault is Fault.BAD_HEADER:
            writer.write(FRAME_HEADER.pack(0, 0, 1, 0))
        elif fault is Fault.OVERSIZED:
            writer.write(FRAME_HEADER.pack(64 * 1024 * 1024, 0, 1, 0))
            await writer.drain()
            return False
        elif fault is Fault.BAD_JPEG:
            writer.write(FRAME_HEADER.pack(len(frame), 0, 1, 0) + bytes(len(frame)))
        elif fault is Fault.TRUNCATED:
            writer.write(FRAME_HEADER.pack(len(frame), 0, 1, 0) + frame[: len(frame) // 2])
            await writer.drain()
            return False
        elif fault is Fault.SLOW:
            data = FRAME_HEADER.pack(len(frame), 0, 1, 0) + frame
            for start in range(0, len(data), self.slow_chunk):
                writer.write(data[start : start + self.slow_chunk])
                await writer.drain()
                await asyncio.sleep(self.slow_delay)
        else:
            writer.write(FRAME_HEADER.pack(len(frame), 0, 1, 0))
            writer.write(frame)
        await writer.drain()
        return True
