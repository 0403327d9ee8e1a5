"""Chamber camera access: the P1/A1 JPEG-over-TLS stream and the X1/H2/P2S RTSPS address.

P1 and A1 printers serve 1280x720 JPEG frames on a TLS socket (port 6000): the client sends an
80-byte auth packet, then reads frames, each a 16-byte header whose first little-endian u32 is
the JPEG size, followed by the JPEG itself. A printer that does not like the access code closes
the connection without sending a frame.

`JpegCameraClient` speaks that protocol; `CameraStream` keeps one connection running only while
someone looks at the camera and remembers the latest frame, so an idle dashboard costs nothing.
Access codes never appear in logs, exception messages or reprs.
"""

import asyncio
import contextlib
import logging
import ssl
import struct
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final, Self
from urllib.parse import quote

from .errors import AuthError, BambuError, ConnectError, ConnectTimeout, TlsError

_LOGGER = logging.getLogger(__name__)

CAMERA_PORT: Final = 6000
RTSPS_PORT: Final = 322
USERNAME: Final = "bblp"

MAX_FRAME_SIZE: Final = 8 * 1024 * 1024
"""Largest JPEG accepted; a real 1280x720 frame is well under 1 MB, so more means garbage."""

AUTH_PACKET: Final = struct.Struct("<IIII32s32s")
FRAME_HEADER: Final = struct.Struct("<IIII")
_AUTH_MAGIC: Final = 0x40
_AUTH_KIND: Final = 0x3000
_JPEG_START: Final = b"\xff\xd8\xff"
_JPEG_END: Final = b"\xff\xd9"

DEFAULT_CONNECT_TIMEOUT: Final = 10.0
DEFAULT_FRAME_TIMEOUT: Final = 10.0
"""The printer sends about a frame a second even when idle: ten silent seconds mean a dead link."""

_CLOSE_TIMEOUT: Final = 2.0
_STREAM_LIMIT: Final = 256 * 1024


class CameraProtocolError(BambuError):
    """The camera sent something that is not a valid frame; the connection must be dropped."""


def rtsps_url(host: str, access_code: str, port: int = RTSPS_PORT) -> str:
    """Return the RTSPS address of an X1/H2/P2S camera, with the access code safely quoted.

    The result contains the access code: hand it to the stream component, never log it.
    """
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # a bare IPv6 address needs brackets in a URL
    return f"rtsps://{USERNAME}:{quote(access_code, safe='')}@{host}:{port}/streaming/live/1"


def build_auth_packet(access_code: str, username: str = USERNAME) -> bytes:
    """Return the 80-byte packet a client sends right after the TLS handshake.

    Raises AuthError when a field does not fit its 32 bytes (such a code can never be right).
    """
    user = username.encode()
    code = access_code.encode()
    if len(user) > 32 or len(code) > 32:
        raise AuthError("access code or username longer than 32 bytes")
    return AUTH_PACKET.pack(_AUTH_MAGIC, _AUTH_KIND, 0, 0, user, code)


def parse_frame_size(header: bytes, max_size: int = MAX_FRAME_SIZE) -> int:
    """Return the payload size announced by a 16-byte frame header, or raise on absurd sizes.

    Only the size is checked: the other three words carry nothing the client needs, and being
    strict about them would just add ways for a firmware update to break the camera.
    """
    if len(header) != FRAME_HEADER.size:
        raise CameraProtocolError(f"frame header of {len(header)} bytes")
    size = FRAME_HEADER.unpack(header)[0]
    if size == 0 or size > max_size:
        raise CameraProtocolError(f"frame size {size} out of range (1..{max_size})")
    return int(size)


def check_jpeg(payload: bytes) -> None:
    """Raise CameraProtocolError unless the payload starts and ends like a JPEG image."""
    if not payload.startswith(_JPEG_START) or not payload.endswith(_JPEG_END):
        raise CameraProtocolError("frame payload is not a JPEG image")


def _ssl_reason(err: ssl.SSLError) -> str:
    """Return OpenSSL's short reason (set only on errors OpenSSL raised) or the error's type."""
    reason = getattr(err, "reason", None)
    return reason if isinstance(reason, str) and reason else type(err).__name__


async def _close_writer(writer: asyncio.StreamWriter) -> None:
    """Close a stream without ever hanging on a peer that ignores the TLS close_notify."""
    writer.close()
    try:
        async with asyncio.timeout(_CLOSE_TIMEOUT):
            await writer.wait_closed()
    except (TimeoutError, OSError, ssl.SSLError):
        writer.transport.abort()
    except asyncio.CancelledError:
        writer.transport.abort()
        raise


class CameraConnection:
    """One authenticated camera connection; reads validated frames until it breaks."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter | None,
        *,
        max_frame_size: int = MAX_FRAME_SIZE,
        frame_timeout: float = DEFAULT_FRAME_TIMEOUT,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._max_frame_size = max_frame_size
        self._frame_timeout = frame_timeout
        self._frames = 0
        self._broken = False

    @property
    def frames_read(self) -> int:
        """Return how many valid frames this connection has delivered."""
        return self._frames

    async def read_frame(self) -> bytes:
        """Return the next JPEG frame, reassembled from as many reads as it takes.

        Raises AuthError when the camera closes before the first frame (wrong access code),
        ConnectTimeout when no frame arrives in time, CameraProtocolError on a malformed frame
        and ConnectError when the link breaks. After any error the connection is unusable.
        """
        if self._broken:
            raise ConnectError("camera connection already failed")
        received = False
        ok = False
        try:
            async with asyncio.timeout(self._frame_timeout):
                try:
                    header = await self._reader.readexactly(FRAME_HEADER.size)
                except asyncio.IncompleteReadError as err:
                    received = bool(err.partial)
                    raise
                received = True
                size = parse_frame_size(header, self._max_frame_size)
                payload = await self._reader.readexactly(size)
            check_jpeg(payload)
            ok = True
        except BambuError:
            raise
        except Exception as err:
            raise self._translate(err, received=received) from err
        finally:
            if not ok:
                self._broken = True
        self._frames += 1
        return payload

    def _translate(self, err: Exception, *, received: bool) -> BambuError:
        """Map a low-level failure to the library's typed errors."""
        first = self._frames == 0
        closed = isinstance(err, (asyncio.IncompleteReadError, ConnectionResetError))
        error: BambuError
        if isinstance(err, TimeoutError):
            what = "first frame" if first else "next frame"
            error = ConnectTimeout(f"camera sent no {what} within {self._frame_timeout:g} s")
        elif closed and first and not received:
            error = AuthError("camera closed the connection before any frame (wrong access code?)")
        elif isinstance(err, asyncio.IncompleteReadError):
            error = (
                CameraProtocolError("camera closed the connection in the middle of a frame")
                if received
                else ConnectError("camera closed the stream")
            )
        elif isinstance(err, ssl.SSLError):
            error = TlsError(f"TLS error on the camera stream: {_ssl_reason(err)}")
        elif isinstance(err, OSError):
            error = ConnectError(f"camera connection lost: {err.strerror or type(err).__name__}")
        else:
            error = CameraProtocolError(f"unexpected failure reading a frame: {type(err).__name__}")
        return error

    async def close(self) -> None:
        """Close the connection; safe to call more than once."""
        self._broken = True
        writer, self._writer = self._writer, None
        if writer is not None:
            await _close_writer(writer)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class JpegCameraClient:
    """Client of the P1/A1 chamber camera on port 6000.

    The ssl_context must verify like the MQTT connection does (Bambu CA bundle or an injected
    CA); the certificate name checked is the printer's serial number.
    """

    def __init__(
        self,
        host: str,
        serial: str,
        access_code: str,
        ssl_context: ssl.SSLContext,
        port: int = CAMERA_PORT,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        frame_timeout: float = DEFAULT_FRAME_TIMEOUT,
        max_frame_size: int = MAX_FRAME_SIZE,
    ) -> None:
        self.host = host
        self.serial = serial
        self.port = port
        self._access_code = access_code
        self._ssl_context = ssl_context
        self.connect_timeout = connect_timeout
        self.frame_timeout = frame_timeout
        self.max_frame_size = max_frame_size

    def __repr__(self) -> str:
        return f"JpegCameraClient(host={self.host!r}, port={self.port}, serial={self.serial!r})"

    async def connect(self) -> CameraConnection:
        """Open a TLS connection, authenticate and return it, ready to read frames.

        Raises ConnectError (refused, unreachable), ConnectTimeout, TlsError (untrusted
        certificate, wrong name, failed handshake) or AuthError (a code that cannot fit).
        Whether the code is right only shows when the first frame comes (or does not).
        """
        packet = build_auth_packet(self._access_code)
        where = f"{self.host}:{self.port}"
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self.host,
                    self.port,
                    ssl=self._ssl_context,
                    server_hostname=self.serial,
                    limit=_STREAM_LIMIT,
                )
        except TimeoutError as err:
            raise ConnectTimeout(f"camera at {where} did not answer in time") from err
        except ssl.SSLError as err:  # before OSError: SSLError is one
            reason = _ssl_reason(err)
            raise TlsError(f"TLS handshake with the camera at {where} failed: {reason}") from err
        except OSError as err:
            reason = err.strerror or type(err).__name__
            raise ConnectError(f"cannot reach the camera at {where}: {reason}") from err
        except ValueError as err:  # a host name that cannot be encoded (label too long)
            raise ConnectError(f"invalid camera host {self.host!r}") from err
        try:
            writer.write(packet)
            await writer.drain()
        except BaseException as err:
            await _close_writer(writer)
            if isinstance(err, (OSError, ssl.SSLError)):
                raise ConnectError(f"camera at {where} closed the connection") from err
            raise
        _LOGGER.debug("Camera connection to %s open", where)
        return CameraConnection(
            reader,
            writer,
            max_frame_size=self.max_frame_size,
            frame_timeout=self.frame_timeout,
        )

    async def frames(self) -> AsyncGenerator[bytes]:
        """Yield frames from one connection until it fails (the typed error is raised).

        Close the iterator when done (`contextlib.aclosing`) so the socket closes at once.
        """
        async with await self.connect() as connection:
            while True:
                yield await connection.read_frame()

    async def fetch_frame(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109  (API: converted to ConnectTimeout)
    ) -> bytes:
        """Connect, return one frame and disconnect: a still without a running stream."""
        try:
            async with asyncio.timeout(timeout):
                async with await self.connect() as connection:
                    return await connection.read_frame()
        except TimeoutError as err:
            raise ConnectTimeout(f"no camera frame within {timeout:g} s") from err


@dataclass(frozen=True, slots=True)
class Frame:
    """A JPEG frame with the (stream clock) time it arrived and its running number."""

    data: bytes = field(repr=False)
    timestamp: float
    sequence: int


class CameraStream:
    """The latest frame of one camera, with the connection open only while it is wanted.

    Viewers hold the stream (`acquire`/`release` or `async with stream:`); a still request
    (`latest_frame`) counts as a short visit. When no one has held or asked for it for
    `idle_timeout` seconds the connection closes, so an idle dashboard costs no CPU.
    The clock and sleep are injectable so tests can control time.
    """

    def __init__(
        self,
        client: JpegCameraClient,
        *,
        idle_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        reconnect_delay: float = 1.0,
        max_reconnect_delay: float = 60.0,
    ) -> None:
        self._client = client
        self.idle_timeout = idle_timeout
        self._clock = clock
        self._sleep = sleep
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._consumers = 0
        self._last_activity = clock()
        self._latest: Frame | None = None
        self._sequence = 0
        self._failed_attempts = 0
        self._last_error: BambuError | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = False
        self._closed = False
        self._changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"CameraStream({self._client!r}, running={self.running}, viewers={self._consumers})"

    @property
    def running(self) -> bool:
        """Return True while the stream task (connecting, streaming or backing off) exists."""
        return self._task is not None

    @property
    def connected(self) -> bool:
        """Return True while an authenticated connection is delivering frames."""
        return self._connected

    @property
    def closed(self) -> bool:
        """Return True once `close` was called: no viewer or still request is served again."""
        return self._closed

    @property
    def consumers(self) -> int:
        """Return how many viewers currently hold the stream."""
        return self._consumers

    @property
    def latest(self) -> Frame | None:
        """Return the most recent frame, however old, or None before the first one."""
        return self._latest

    @property
    def last_error(self) -> BambuError | None:
        """Return the error of the last failed attempt; cleared by the next good frame."""
        return self._last_error

    def add_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` when the connection state or last error changes; returns an undo."""
        self._listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return remove

    def acquire(self) -> None:
        """Register a viewer and start the connection if it is not running."""
        self._check_open()
        self._consumers += 1
        self._touch()
        self._ensure_running()

    def release(self) -> None:
        """Unregister a viewer; the idle countdown starts when the last one leaves."""
        if self._consumers <= 0:
            return
        self._consumers -= 1
        self._touch()

    async def __aenter__(self) -> Self:
        self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    async def next_frame(
        self,
        after: int = 0,
        timeout: float | None = None,  # noqa: ASYNC109  (API: converted to ConnectTimeout)
    ) -> Frame:
        """Wait for a frame whose sequence number is above `after` (hold the stream meanwhile).

        Raises ConnectTimeout when none comes within `timeout` seconds, and the connection
        error (AuthError, TlsError, ConnectError) when an attempt fails before a frame.
        """
        self._check_open()
        failed_attempts = self._failed_attempts
        try:
            async with asyncio.timeout(timeout):
                while True:
                    frame = self._latest
                    if frame is not None and frame.sequence > after:
                        return frame
                    error = self._last_error
                    if self._failed_attempts != failed_attempts and error is not None:
                        # A fresh exception per waiter: re-raising the stored one would grow
                        # its traceback with every waiter.
                        raise type(error)(*error.args) from error
                    if self._closed:
                        raise ConnectError("camera stream closed")
                    await self._changed.wait()
        except TimeoutError as err:
            raise ConnectTimeout(f"no camera frame within {timeout:g} s") from err

    async def frames(self) -> AsyncGenerator[bytes]:
        """Yield every new frame while holding the stream (for MJPEG).

        Close the iterator when done (`contextlib.aclosing`) so the viewer is released at once.
        """
        async with self:
            sequence = self._latest.sequence if self._latest else 0
            while True:
                frame = await self.next_frame(sequence)
                sequence = frame.sequence
                yield frame.data

    async def latest_frame(
        self,
        max_age: float = 2.0,
        timeout: float = 5.0,  # noqa: ASYNC109  (API: the caller's answer-time bound)
    ) -> bytes:
        """Return a frame no older than `max_age` seconds, starting the stream if needed.

        Counts as activity: the stream stays up `idle_timeout` seconds after the request.
        """
        self._check_open()
        self._touch()
        frame = self._latest
        if frame is not None and self._clock() - frame.timestamp <= max_age:
            return frame.data
        self._ensure_running()
        try:
            frame = await self.next_frame(frame.sequence if frame else 0, timeout)
        finally:
            self._touch()
        return frame.data

    async def close(self) -> None:
        """Stop the connection for good; afterwards nothing of the stream is left running."""
        self._closed = True
        self._notify()
        await self._stop_task()

    async def stop(self) -> None:
        """Stop the connection now; the next `acquire` or still request starts it again."""
        await self._stop_task()

    async def _stop_task(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_connected(False)

    def _check_open(self) -> None:
        if self._closed:
            raise ConnectError("camera stream closed")

    def _touch(self) -> None:
        self._last_activity = self._clock()
        self._wake.set()

    def _notify(self) -> None:
        """Wake every waiter; each waiter re-checks the state it waits for."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _call_listeners(self) -> None:
        for callback in list(self._listeners):
            try:
                callback()
            except Exception:
                _LOGGER.exception("Camera stream listener failed")

    def _set_connected(self, connected: bool) -> None:
        if connected != self._connected:
            self._connected = connected
            self._call_listeners()

    def _ensure_running(self) -> None:
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._run(), name=f"bambu camera {self._client.host}")

    async def _run(self) -> None:
        """Keep the connection up until the stream has been idle long enough."""
        connection = asyncio.create_task(self._connection_loop())
        try:
            await self._wait_until_idle()
            _LOGGER.debug("Camera %s idle, closing the stream", self._client.host)
        finally:
            connection.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connection
            if self._task is asyncio.current_task():
                self._task = None
            self._set_connected(False)

    async def _wait_until_idle(self) -> None:
        while True:
            self._wake.clear()
            if self._consumers > 0:
                await self._wake.wait()
                continue
            remaining = self._last_activity + self.idle_timeout - self._clock()
            if remaining <= 0:
                return
            await self._sleep(remaining)

    async def _connection_loop(self) -> None:
        delay = self._reconnect_delay
        while True:
            frames = 0
            try:
                async with await self._client.connect() as connection:
                    while True:
                        data = await connection.read_frame()
                        frames += 1
                        self._on_frame(data)
                        delay = self._reconnect_delay
            except BambuError as err:
                self._on_error(err, failed_attempt=frames == 0)
            except Exception as err:
                # A bug, not the camera: log it, keep the stream alive and retry.
                _LOGGER.exception("Unexpected error in the camera stream of %s", self._client.host)
                error = CameraProtocolError(f"unexpected error: {type(err).__name__}")
                self._on_error(error, failed_attempt=False)
            finally:
                self._set_connected(False)
            await self._sleep(delay)
            delay = min(delay * 2, self._max_reconnect_delay)

    def _on_frame(self, data: bytes) -> None:
        self._sequence += 1
        self._latest = Frame(data, self._clock(), self._sequence)
        if self._last_error is not None:
            self._last_error = None
            self._call_listeners()
        self._set_connected(True)
        self._notify()

    def _on_error(self, err: BambuError, *, failed_attempt: bool) -> None:
        """Record a failure; one before any frame (refused, auth, TLS) also fails waiters."""
        previous = self._last_error
        self._last_error = err
        if failed_attempt and not isinstance(err, CameraProtocolError):
            self._failed_attempts += 1
        if type(previous) is not type(err):
            level = logging.WARNING if isinstance(err, (AuthError, TlsError)) else logging.DEBUG
            _LOGGER.log(level, "Camera %s: %s", self._client.host, err)
            self._call_listeners()
        self._notify()
