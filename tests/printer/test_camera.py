"""Camera client and stream against the simulated camera server over loopback TLS."""

import asyncio
import contextlib
import io
import logging
import math
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image

from custom_components.bambu_printer.printer import camera as camera_module
from custom_components.bambu_printer.printer.camera import (
    AUTH_PACKET,
    CameraConnection,
    CameraProtocolError,
    CameraStream,
    JpegCameraClient,
    build_auth_packet,
    rtsps_url,
)
from custom_components.bambu_printer.printer.errors import (
    AuthError,
    BambuError,
    ConnectError,
    ConnectTimeout,
    TlsError,
)
from custom_components.bambu_printer.printer.tls import create_ssl_context
from simulator.ca import TestCA
from simulator.camera_server import CameraServer, Fault
from simulator.jpeg import JpegRenderer, Overlay

# Home Assistant's test plugin blocks sockets; these tests need loopback ones. leak_check
# (tests/printer/conftest.py) fails a test that leaves a task behind, the server's included.
pytestmark = pytest.mark.usefixtures("socket_enabled", "leak_check")

SERIAL = "01P00A123456789"
CODE = "12345678"


# --- certificates: the simulator's test CA, server certificate CN = serial ----------------------


@dataclass(frozen=True)
class Certs:
    ca_file: Path
    server: ssl.SSLContext
    client: ssl.SSLContext


def _make_certs(folder: Path, serial: str) -> Certs:
    ca = TestCA(folder)
    pair = ca.issue(serial)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pair.cert_path, pair.key_path)
    return Certs(ca.cert_path, server, create_ssl_context(ca.cert_path))


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return _make_certs(tmp_path_factory.mktemp("camera-ca"), SERIAL)


# --- helpers ----------------------------------------------------------------------------------


class FakeTime:
    """A clock and sleep under the test's control: sleepers wake when time is advanced."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future = asyncio.get_running_loop().create_future()
        entry = (self.now + delay, future)
        self._sleepers.append(entry)
        try:
            await future
        finally:
            self._sleepers.remove(entry)

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        for deadline, future in list(self._sleepers):
            if deadline <= self.now and not future.done():
                future.set_result(None)
        for _ in range(5):
            await asyncio.sleep(0)


async def wait_for(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Poll a condition the server side changes (it has no event to wait on)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def read_until_error(connection: CameraConnection, limit: int = 100) -> None:
    """Read frames until one fails (good frames already in flight come first)."""
    for _ in range(limit):
        await connection.read_frame()


def is_running(stream: CameraStream) -> bool:
    """Read the property through a call, so mypy does not narrow it across awaits."""
    return stream.running


def is_connected(stream: CameraStream) -> bool:
    """Read the property through a call, so mypy does not narrow it across awaits."""
    return stream.connected


def jpeg_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        image.load()  # decodes the whole image: a truncated JPEG fails here
        size: tuple[int, int] = image.size
        return size


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def server(certs: Certs) -> AsyncIterator[CameraServer]:
    async with CameraServer(certs.server, CODE, fps=50) as camera:
        yield camera


@pytest.fixture
def make_client(certs: Certs) -> Callable[..., JpegCameraClient]:
    def make(port: int, code: str = CODE, serial: str = SERIAL, **kwargs: Any) -> JpegCameraClient:
        return JpegCameraClient("127.0.0.1", serial, code, certs.client, port, **kwargs)

    return make


def _client_side(task: asyncio.Task[object]) -> bool:
    coro = task.get_coro()
    return not getattr(coro, "__qualname__", "").startswith("CameraServer.")


@contextlib.contextmanager
def no_new_tasks() -> Iterator[None]:
    """Assert the client side starts no task that outlives the block (the server's may)."""
    before = asyncio.all_tasks()
    yield
    leftover = {t for t in asyncio.all_tasks() - before if not t.done() and _client_side(t)}
    assert not leftover, leftover


# --- pure helpers -----------------------------------------------------------------------------


def test_auth_packet_layout() -> None:
    packet = build_auth_packet(CODE)
    assert len(packet) == 80
    assert packet[:16] == bytes.fromhex("40000000 00300000 00000000 00000000")
    assert packet[16:48] == b"bblp" + bytes(28)
    assert packet[48:80] == CODE.encode() + bytes(24)
    assert AUTH_PACKET.unpack(packet)[5].rstrip(b"\0") == CODE.encode()


def test_auth_packet_rejects_codes_that_cannot_fit() -> None:
    with pytest.raises(AuthError) as info:
        build_auth_packet("x" * 33)
    assert "x" * 33 not in str(info.value)


@pytest.mark.parametrize(
    ("host", "code", "expected"),
    [
        ("192.168.1.20", "12345678", "rtsps://bblp:12345678@192.168.1.20:322/streaming/live/1"),
        ("printer.lan", "a@b:c/d%e f", "rtsps://bblp:a%40b%3Ac%2Fd%25e%20f@printer.lan:322/streaming/live/1"),
        ("fe80::1", "code", "rtsps://bblp:code@[fe80::1]:322/streaming/live/1"),
        ("[fe80::1]", "code", "rtsps://bblp:code@[fe80::1]:322/streaming/live/1"),
    ],
)  # fmt: skip
def test_rtsps_url(host: str, code: str, expected: str) -> None:
    url = rtsps_url(host, code)
    assert url == expected
    parts = urlsplit(url)
    assert parts.username == "bblp"
    assert unquote(parts.password or "") == code
    assert parts.port == 322


def test_reprs_hide_the_access_code(certs: Certs) -> None:
    client = JpegCameraClient("10.0.0.2", SERIAL, "s3cr3tc0de", certs.client)
    stream = CameraStream(client)
    server = CameraServer(certs.server, "s3cr3tc0de")
    for text in (repr(client), repr(stream), repr(server)):
        assert "s3cr3tc0de" not in text
    assert "10.0.0.2" in repr(client)


# --- client against the simulated camera -------------------------------------------------------


async def test_still_is_a_1280x720_jpeg(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    with no_new_tasks():
        frame = await make_client(server.port).fetch_frame()
        assert frame[:3] == b"\xff\xd8\xff"
        assert frame[-2:] == b"\xff\xd9"
        assert jpeg_size(frame) == (1280, 720)
    await wait_for(lambda: server.active_clients == 0)


async def test_stream_yields_successive_frames(
    certs: Certs, make_client: Callable[..., JpegCameraClient]
) -> None:
    renderer = JpegRenderer()
    counter = iter(range(1000))

    def source() -> bytes:
        return renderer.render(Overlay("benchy.3mf", "RUNNING", next(counter)))

    async with CameraServer(certs.server, CODE, source, fps=100) as camera:
        client = make_client(camera.port)
        frames: list[bytes] = []
        async with contextlib.aclosing(client.frames()) as stream:
            async for frame in stream:
                frames.append(frame)
                if len(frames) == 4:
                    break
        assert len(set(frames)) == 4  # each frame shows the next percentage
        assert all(jpeg_size(frame) == (1280, 720) for frame in frames)
        await wait_for(lambda: camera.active_clients == 0)


async def test_wrong_access_code_is_an_auth_error(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    with pytest.raises(AuthError) as info:
        await make_client(server.port, code="87654321").fetch_frame()
    assert "87654321" not in str(info.value)
    assert server.auth_failures == 1
    assert server.frames_sent == 0


async def test_changed_access_code_drops_viewers(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    client = make_client(server.port)
    async with await client.connect() as connection:
        await connection.read_frame()
        server.set_access_code("newcode1")
        with pytest.raises(ConnectError):
            await read_until_error(connection)
    with pytest.raises(AuthError):
        await client.fetch_frame()
    assert (await make_client(server.port, code="newcode1").fetch_frame())[:2] == b"\xff\xd8"


async def test_refused_port_is_a_connect_error(
    make_client: Callable[..., JpegCameraClient],
) -> None:
    with pytest.raises(ConnectError) as info:
        await make_client(free_port()).fetch_frame()
    assert not isinstance(info.value, ConnectTimeout)


async def test_untrusted_certificate_is_a_tls_error(server: CameraServer, tmp_path: Path) -> None:
    other = _make_certs(tmp_path, SERIAL)  # a CA the server's certificate does not chain to
    client = JpegCameraClient("127.0.0.1", SERIAL, CODE, other.client, server.port)
    with pytest.raises(TlsError):
        await client.fetch_frame()


async def test_wrong_serial_is_a_tls_error(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    with pytest.raises(TlsError):
        await make_client(server.port, serial="01P00A999999999").fetch_frame()


async def test_silent_host_is_a_connect_timeout(
    make_client: Callable[..., JpegCameraClient],
) -> None:
    async def never_handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.read()
        writer.close()

    silent = await asyncio.start_server(never_handshake, "127.0.0.1", 0)
    try:
        port = silent.sockets[0].getsockname()[1]
        with pytest.raises(ConnectTimeout):
            await make_client(port, connect_timeout=0.2).fetch_frame()
        with pytest.raises(ConnectTimeout):
            await make_client(port).fetch_frame(timeout=0.2)
    finally:
        silent.close()
        await silent.wait_closed()


async def test_no_first_frame_is_a_connect_timeout(
    certs: Certs, make_client: Callable[..., JpegCameraClient]
) -> None:
    async with CameraServer(certs.server, CODE, fps=0.01) as camera:
        client = make_client(camera.port, frame_timeout=0.3)
        async with await client.connect() as connection:
            await connection.read_frame()  # the first frame comes at once, the next in 100 s
            with pytest.raises(ConnectTimeout):
                await connection.read_frame()
            with pytest.raises(ConnectError):  # a failed connection stays failed
                await connection.read_frame()


@pytest.mark.parametrize(
    "fault", [Fault.BAD_HEADER, Fault.OVERSIZED, Fault.BAD_JPEG, Fault.TRUNCATED]
)
async def test_bad_frames_are_protocol_errors(
    server: CameraServer, make_client: Callable[..., JpegCameraClient], fault: Fault
) -> None:
    client = make_client(server.port)
    async with await client.connect() as connection:
        assert jpeg_size(await connection.read_frame()) == (1280, 720)
        server.inject_fault(fault)
        with pytest.raises(CameraProtocolError):
            await read_until_error(connection)
    # The next connection is fine again.
    assert jpeg_size(await client.fetch_frame()) == (1280, 720)


async def test_slow_partial_writes_are_reassembled(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    server.slow_chunk = 4096
    server.slow_delay = 0.0005
    server.inject_fault(Fault.SLOW, 2)
    async with await make_client(server.port).connect() as connection:
        for _ in range(3):
            assert jpeg_size(await connection.read_frame()) == (1280, 720)


async def test_closed_after_frames_is_a_connect_error(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    async with await make_client(server.port).connect() as connection:
        await connection.read_frame()
        server.inject_fault(Fault.CLOSE)
        with pytest.raises(ConnectError) as info:
            await read_until_error(connection)
        assert not isinstance(info.value, AuthError)
        assert connection.frames_read >= 1


async def test_fuzzed_bytes_over_tls_only_raise_typed_errors(
    certs: Certs, make_client: Callable[..., JpegCameraClient]
) -> None:
    """A raw TLS 'camera' sends fixed junk after the auth packet; the client stays typed."""
    payloads = [
        b"\x01",
        bytes(16),
        b"\xff" * 16,
        (5).to_bytes(4, "little") + bytes(12) + b"\xff\xd8\xff\xff\xd9",  # tiny but valid
        (5).to_bytes(4, "little") + bytes(12) + b"\xff\xd8\xff",
        (10).to_bytes(4, "little") + bytes(12) + b"not a jpeg",
    ]
    current: list[bytes] = []

    async def junk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.readexactly(80)
            writer.write(current[0])
            await writer.drain()
            writer.close()
            await writer.wait_closed()

    raw = await asyncio.start_server(junk, "127.0.0.1", 0, ssl=certs.server)
    try:
        client = make_client(raw.sockets[0].getsockname()[1], frame_timeout=2)
        for payload in payloads:
            current[:] = [payload]
            with contextlib.suppress(BambuError):
                async with contextlib.aclosing(client.frames()) as frames:
                    async for frame in frames:
                        assert frame == b"\xff\xd8\xff\xff\xd9"
    finally:
        raw.close()
        await raw.wait_closed()


# --- CameraStream -----------------------------------------------------------------------------


async def test_still_without_stream_opens_one_and_idles_out(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    fake = FakeTime()
    stream = CameraStream(make_client(server.port), clock=fake.clock, sleep=fake.sleep)
    try:
        assert not is_running(stream)
        loop = asyncio.get_running_loop()
        started = loop.time()
        frame = await stream.latest_frame()
        assert loop.time() - started < 5
        assert jpeg_size(frame) == (1280, 720)
        assert is_running(stream)
        assert is_connected(stream)
        assert server.active_clients == 1

        await fake.advance(29)
        assert is_running(stream)
        assert server.active_clients == 1
        await fake.advance(1.5)
        await wait_for(lambda: not is_running(stream))
        assert not is_connected(stream)
        await wait_for(lambda: server.active_clients == 0)
    finally:
        await stream.close()


async def test_viewers_keep_the_stream_and_release_starts_the_countdown(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    fake = FakeTime()
    stream = CameraStream(make_client(server.port), clock=fake.clock, sleep=fake.sleep)
    try:
        async with stream:
            first = await stream.next_frame(timeout=5)
            await fake.advance(120)  # a viewer is watching: no idle stop
            second = await stream.next_frame(first.sequence, timeout=5)
            assert second.sequence > first.sequence
            assert stream.consumers == 1
        assert stream.consumers == 0
        stream.release()  # an extra release is harmless
        assert stream.consumers == 0
        await fake.advance(10)
        assert is_running(stream)
        await fake.advance(25)
        await wait_for(lambda: not is_running(stream))
        await wait_for(lambda: server.active_clients == 0)
    finally:
        await stream.close()


async def test_mjpeg_frames_are_successive_and_release_the_viewer(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    fake = FakeTime()
    stream = CameraStream(make_client(server.port), clock=fake.clock, sleep=fake.sleep)
    try:
        await stream.latest_frame()
        seen = 0
        async with contextlib.aclosing(stream.frames()) as frames:
            async for frame in frames:
                assert jpeg_size(frame) == (1280, 720)
                assert stream.consumers == 1
                seen += 1
                if seen == 3:
                    break
        assert stream.consumers == 0
        assert stream.latest is not None
        assert stream.latest.sequence >= 4
    finally:
        await stream.close()


async def test_latest_frame_uses_a_fresh_frame_and_waits_for_a_stale_one(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    fake = FakeTime()
    stream = CameraStream(make_client(server.port), clock=fake.clock, sleep=fake.sleep)
    try:
        await stream.latest_frame()
        await stream.stop()  # frames stop coming; the one we have is kept
        assert not is_running(stream)
        kept = stream.latest
        assert kept is not None
        await fake.advance(1)
        assert await stream.latest_frame(max_age=2) == kept.data
        assert not is_running(stream)  # a fresh enough frame needs no connection
        await fake.advance(5)
        await stream.latest_frame(max_age=2)
        assert is_running(stream)
        assert stream.latest is not None
        assert stream.latest.sequence > kept.sequence
    finally:
        await stream.close()


async def test_stream_wrong_code_fails_fast_and_logs_without_the_code(
    server: CameraServer,
    make_client: Callable[..., JpegCameraClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeTime()
    stream = CameraStream(
        make_client(server.port, code="wr0ngc0de"), clock=fake.clock, sleep=fake.sleep
    )
    changes: list[BambuError | None] = []
    unsubscribe = stream.add_listener(lambda: changes.append(stream.last_error))
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(AuthError):
            await stream.latest_frame(timeout=5)
        assert isinstance(stream.last_error, AuthError)
        assert any(isinstance(error, AuthError) for error in changes)
        assert any(r.levelno == logging.WARNING for r in caplog.records)
        await fake.advance(1)  # the retry fails the same way: logged once, not per attempt
        await wait_for(lambda: server.auth_failures >= 2)
        assert sum(r.levelno == logging.WARNING for r in caplog.records) == 1
        assert "wr0ngc0de" not in caplog.text
        unsubscribe()
    finally:
        await stream.close()
    assert not is_running(stream)


async def test_stream_reconnects_after_a_bad_frame(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    fake = FakeTime()
    stream = CameraStream(make_client(server.port), clock=fake.clock, sleep=fake.sleep)
    try:
        async with stream:
            await stream.next_frame(timeout=5)
            server.inject_fault(Fault.BAD_HEADER)
            await wait_for(lambda: isinstance(stream.last_error, CameraProtocolError))
            assert not is_connected(stream)
            assert stream.latest is not None
            before = stream.latest.sequence
            await fake.advance(1)  # the reconnect back-off
            after = await stream.next_frame(before, timeout=5)
            assert jpeg_size(after.data) == (1280, 720)
            assert stream.last_error is None
            assert server.connections_total == 2
    finally:
        await stream.close()


async def test_stream_refused_raises_and_backs_off(
    make_client: Callable[..., JpegCameraClient],
) -> None:
    fake = FakeTime()
    stream = CameraStream(make_client(free_port()), clock=fake.clock, sleep=fake.sleep)
    try:
        with pytest.raises(ConnectError):
            await stream.latest_frame()
        waiter = asyncio.create_task(stream.latest_frame())
        await asyncio.sleep(0.05)
        await fake.advance(1)  # the second attempt comes after the 1 s back-off
        with pytest.raises(ConnectError):
            await waiter
    finally:
        await stream.close()


async def test_still_times_out_as_connect_timeout(
    certs: Certs, make_client: Callable[..., JpegCameraClient]
) -> None:
    async with CameraServer(certs.server, CODE, fps=0.01) as camera:
        fake = FakeTime()
        stream = CameraStream(make_client(camera.port), clock=fake.clock, sleep=fake.sleep)
        try:
            await stream.latest_frame()
            await fake.advance(10)
            with pytest.raises(ConnectTimeout):
                await stream.latest_frame(max_age=2, timeout=0.2)
        finally:
            await stream.close()


async def test_close_leaves_nothing_running(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    with no_new_tasks():
        stream = CameraStream(make_client(server.port))
        stream.acquire()
        waiter = asyncio.create_task(stream.next_frame(10**9))
        await stream.latest_frame()
        await stream.close()
        with pytest.raises(ConnectError):
            await waiter
        assert not is_running(stream)
        with pytest.raises(ConnectError):
            await stream.latest_frame()
        with pytest.raises(ConnectError):
            stream.acquire()
        await stream.close()  # idempotent
    await wait_for(lambda: server.active_clients == 0)


async def test_failing_listener_does_not_break_the_stream(
    server: CameraServer, make_client: Callable[..., JpegCameraClient]
) -> None:
    stream = CameraStream(make_client(server.port))

    def broken() -> None:
        raise RuntimeError("listener bug")

    stream.add_listener(broken)
    try:
        assert jpeg_size(await stream.latest_frame()) == (1280, 720)
    finally:
        await stream.close()


async def test_close_returns_promptly_when_the_peer_stalls(
    make_client: Callable[..., JpegCameraClient],
    certs: Certs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # If the TLS shutdown waited for the stalled peer, the 0.2 s bound aborts the socket.
    monkeypatch.setattr(camera_module, "_CLOSE_TIMEOUT", 0.2)
    release = asyncio.Event()

    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        transport = writer.transport
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()  # never reads, so never answers the close_notify
        await release.wait()
        writer.transport.abort()

    stalled = await asyncio.start_server(stall, "127.0.0.1", 0, ssl=certs.server)
    try:
        connection = await make_client(stalled.sockets[0].getsockname()[1]).connect()
        loop = asyncio.get_running_loop()
        started = loop.time()
        await connection.close()
        assert loop.time() - started < 2
    finally:
        release.set()
        stalled.close()
        await stalled.wait_closed()


# --- the simulated camera itself -----------------------------------------------------------------


async def test_server_validates_fps_and_starts_once(certs: Certs) -> None:
    with pytest.raises(ValueError):
        CameraServer(certs.server, CODE, fps=0)
    camera = CameraServer(certs.server, CODE)
    await camera.start()
    port = camera.port
    await camera.start()
    assert camera.port == port
    await camera.stop()
    await camera.stop()


async def test_server_closes_clients_that_do_not_authenticate(certs: Certs) -> None:
    async with CameraServer(certs.server, CODE, auth_timeout=0.2) as camera:
        for payload in (b"", b"\x40\x00"):  # silent, then a partial packet and EOF
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", camera.port, ssl=certs.client, server_hostname=SERIAL
            )
            writer.write(payload)
            if payload:
                writer.close()
            with contextlib.suppress(OSError):
                assert await reader.read() == b""
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await wait_for(lambda: not camera._handlers)
        assert camera.connections_total == 2
        assert camera.frames_sent == 0
        assert camera.auth_failures == 0


async def test_server_at_unlimited_rate_streams_back_to_back(
    certs: Certs, make_client: Callable[..., JpegCameraClient]
) -> None:
    async with CameraServer(certs.server, CODE, fps=math.inf) as camera:
        async with await make_client(camera.port).connect() as connection:
            for _ in range(20):
                await connection.read_frame()
        assert camera.frames_sent >= 20


def test_renderer_caches_by_overlay_and_clamps() -> None:
    renderer = JpegRenderer(cache_size=2)
    first = renderer.render(Overlay("cube", "RUNNING", 150, 3, 10))
    assert renderer.render(Overlay("cube", "RUNNING", 100, 3, 10)) is first  # clamped to 100
    assert renderer.renders == 1
    renderer.render(Overlay("cube", "RUNNING", 1))
    renderer.render(Overlay("cube", "RUNNING", 2))  # evicts the first
    assert renderer.render(Overlay("cube", "RUNNING", 100, 3, 10)) == first
    assert renderer.renders == 4
    assert jpeg_size(first) == (1280, 720)
    idle = renderer.source(Overlay)()
    assert jpeg_size(idle) == (1280, 720)


@pytest.mark.usefixtures("no_dns")
async def test_unencodable_host_is_a_connect_error(certs: Certs) -> None:
    client = JpegCameraClient("a" * 100 + ".lan", SERIAL, CODE, certs.client)
    with pytest.raises(ConnectError):
        await client.fetch_frame()


async def test_unexpected_failure_is_logged_and_retried(
    server: CameraServer,
    make_client: Callable[..., JpegCameraClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug below the stream (here: connect raising RuntimeError) does not kill it."""
    client = make_client(server.port)
    real_connect = client.connect
    calls = 0

    async def flaky_connect() -> CameraConnection:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("bug")
        return await real_connect()

    client.connect = flaky_connect  # type: ignore[method-assign]
    fake = FakeTime()
    stream = CameraStream(client, clock=fake.clock, sleep=fake.sleep)
    try:
        stream.acquire()
        await wait_for(lambda: isinstance(stream.last_error, CameraProtocolError))
        assert "Unexpected error in the camera stream" in caplog.text
        await fake.advance(1)
        assert jpeg_size((await stream.next_frame(timeout=5)).data) == (1280, 720)
    finally:
        await stream.close()
