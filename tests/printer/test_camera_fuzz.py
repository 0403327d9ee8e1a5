"""Fuzzed frame headers and partial payloads: only typed errors, never unbounded buffering."""

import asyncio
import ssl
import struct
import tracemalloc
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.bambu_printer.printer.camera import (
    FRAME_HEADER,
    MAX_FRAME_SIZE,
    CameraConnection,
    CameraProtocolError,
    build_auth_packet,
    check_jpeg,
    parse_frame_size,
    rtsps_url,
)
from custom_components.bambu_printer.printer.errors import (
    AuthError,
    BambuError,
    ConnectError,
    TlsError,
)

SMALL_MAX = 4096
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame(payload: bytes, *rest: int) -> bytes:
    words = (*rest, 0, 1, 0)[:3]
    return FRAME_HEADER.pack(len(payload), *words) + payload


jpegs = st.binary(max_size=200).map(lambda body: b"\xff\xd8\xff" + body + b"\xff\xd9")
u32 = st.integers(0, 2**32 - 1)
pieces = st.one_of(
    jpegs.map(frame),  # a valid frame
    st.tuples(jpegs, u32, u32, u32).map(lambda t: frame(t[0], t[1], t[2], t[3])),  # odd words
    st.tuples(u32, u32, u32, u32).map(lambda t: struct.pack("<IIII", *t)),  # a random header
    st.binary(max_size=64),  # garbage
    st.binary(max_size=200).map(frame),  # right size, not a JPEG
    jpegs.map(lambda j: frame(j)[: len(j) // 2 + 16]),  # truncated frame
)
streams = st.lists(pieces, max_size=8).map(b"".join)


class RecordingReader(asyncio.StreamReader):
    """A StreamReader that remembers the largest read it was asked for."""

    largest = 0

    async def readexactly(self, n: int) -> bytes:
        self.largest = max(self.largest, n)
        return await super().readexactly(n)


async def read_all(data: bytes, chunks: list[int], max_size: int = SMALL_MAX) -> list[bytes]:
    """Feed `data` in the given chunk sizes while a CameraConnection reads; return its frames."""
    reader = RecordingReader()
    connection = CameraConnection(reader, None, max_frame_size=max_size, frame_timeout=5)

    async def feed() -> None:
        position = 0
        for size in [*chunks, len(data)]:
            reader.feed_data(data[position : position + max(size, 1)])
            position += max(size, 1)
            await asyncio.sleep(0)
            if position >= len(data):
                break
        reader.feed_eof()

    feeder = asyncio.create_task(feed())
    frames: list[bytes] = []
    error: BambuError | None = None
    try:
        while True:
            frames.append(await connection.read_frame())
    except BambuError as err:  # anything else fails the test
        error = err
    finally:
        await feeder
        await connection.close()
    assert type(error).__module__.startswith("custom_components.bambu_printer.printer")
    # Whatever the header claims, the client never asks for more than one bounded frame.
    assert reader.largest <= max(FRAME_HEADER.size, max_size)
    return frames


@FUZZ
@given(data=streams, chunks=st.lists(st.integers(1, 300), max_size=30))
async def test_fuzzed_streams_only_raise_typed_errors(data: bytes, chunks: list[int]) -> None:
    frames = await read_all(data, chunks)
    for payload in frames:
        assert payload.startswith(b"\xff\xd8\xff")
        assert payload.endswith(b"\xff\xd9")
        assert len(payload) <= SMALL_MAX


@FUZZ
@given(payloads=st.lists(jpegs, min_size=1, max_size=6), chunks=st.lists(st.integers(1, 7)))
async def test_valid_frames_survive_any_split(payloads: list[bytes], chunks: list[int]) -> None:
    data = b"".join(frame(p) for p in payloads)
    assert await read_all(data, chunks) == payloads


@FUZZ
@given(header=st.binary(min_size=16, max_size=16))
def test_parse_frame_size_accepts_only_sane_sizes(header: bytes) -> None:
    size = struct.unpack_from("<I", header)[0]
    if 0 < size <= MAX_FRAME_SIZE:
        assert parse_frame_size(header) == size
    else:
        with pytest.raises(CameraProtocolError):
            parse_frame_size(header)


@pytest.mark.parametrize("header", [b"", b"\x01\x00\x00\x00", bytes(17)])
def test_parse_frame_size_rejects_wrong_header_lengths(header: bytes) -> None:
    with pytest.raises(CameraProtocolError):
        parse_frame_size(header)


@FUZZ
@given(payload=st.binary(max_size=64))
def test_check_jpeg_only_raises_protocol_errors(payload: bytes) -> None:
    if payload.startswith(b"\xff\xd8\xff") and payload.endswith(b"\xff\xd9"):
        check_jpeg(payload)
    else:
        with pytest.raises(CameraProtocolError):
            check_jpeg(payload)


@FUZZ
@given(code=st.text(max_size=40))
def test_auth_packet_is_80_bytes_or_an_auth_error(code: str) -> None:
    if len(code.encode()) > 32:
        with pytest.raises(AuthError) as info:
            build_auth_packet(code)
        assert code not in str(info.value)
    else:
        packet = build_auth_packet(code)
        assert len(packet) == 80
        assert packet[48:].rstrip(b"\0") == code.encode().rstrip(b"\0")


@FUZZ
@given(code=st.text(min_size=1, max_size=40), host=st.sampled_from(["10.0.0.5", "p.lan", "::1"]))
def test_rtsps_url_round_trips_any_access_code(code: str, host: str) -> None:
    parts = urlsplit(rtsps_url(host, code))
    assert parts.scheme == "rtsps"
    assert parts.username == "bblp"
    assert unquote(parts.password or "", errors="strict") == code
    assert parts.port == 322
    assert parts.path == "/streaming/live/1"


async def test_absurd_sizes_are_rejected_before_buffering() -> None:
    """A header announcing 4 GB is refused at once; memory stays at the header's size."""
    reader = asyncio.StreamReader()
    reader.feed_data(struct.pack("<IIII", 2**32 - 1, 0, 1, 0) + bytes(1000))
    connection = CameraConnection(reader, None)
    tracemalloc.start()
    try:
        with pytest.raises(CameraProtocolError):
            await connection.read_frame()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024


async def test_payload_buffering_is_bounded_by_the_frame_size() -> None:
    """Endless bytes after a header claiming the maximum: the read takes the frame and stops."""
    reader = asyncio.StreamReader(limit=64 * 1024)
    connection = CameraConnection(reader, None, max_frame_size=SMALL_MAX, frame_timeout=1)
    reader.feed_data(struct.pack("<IIII", SMALL_MAX, 0, 1, 0))

    async def flood() -> None:
        while True:
            reader.feed_data(b"\x00" * 512)
            await asyncio.sleep(0)

    flooder = asyncio.create_task(flood())
    try:
        with pytest.raises(CameraProtocolError):  # the frame is complete, but not a JPEG
            await connection.read_frame()
    finally:
        flooder.cancel()
        await asyncio.gather(flooder, return_exceptions=True)
    # The connection is dropped after the error: nothing reads (or keeps) the flood.
    with pytest.raises(BambuError):
        await connection.read_frame()


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (ConnectionResetError(), AuthError),  # reset before any byte: the code was refused
        (ConnectionAbortedError(), ConnectError),
        (ssl.SSLError(1, "decryption failed"), TlsError),
        (ValueError("odd"), CameraProtocolError),
    ],
)
async def test_reader_failures_become_typed_errors(
    failure: Exception, expected: type[BambuError]
) -> None:
    reader = asyncio.StreamReader()
    reader.set_exception(failure)
    with pytest.raises(expected):
        await CameraConnection(reader, None).read_frame()


async def test_reset_after_frames_is_a_connect_error() -> None:
    reader = asyncio.StreamReader()
    payload = b"\xff\xd8\xff\x00\xff\xd9"
    reader.feed_data(frame(payload))
    connection = CameraConnection(reader, None)
    assert await connection.read_frame() == payload
    reader.set_exception(ConnectionResetError())
    with pytest.raises(ConnectError) as info:
        await connection.read_frame()
    assert not isinstance(info.value, AuthError)
