"""A small, strict MQTT 3.1.1 codec, so the client needs no thread-driven MQTT library.

Only the packets a printer connection uses are supported: CONNECT, CONNACK, PUBLISH (QoS 0
and 1), PUBACK, SUBSCRIBE, SUBACK, PINGREQ, PINGRESP and DISCONNECT. Anything else, and any
packet that breaks the specification, raises :class:`CodecError`; the connection treats that
as a broken link and reconnects. The :class:`Decoder` is incremental (feed it whatever the
socket returned) and bounded: a packet announcing more than ``max_packet_size`` bytes is
rejected from its fixed header, before any of its body is buffered; with
``skip_oversized_publish`` an oversized PUBLISH is discarded as it streams in instead, so one
absurd message costs bandwidth but not the connection.
"""

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from .errors import ProtocolError

__all__ = [
    "DEFAULT_MAX_PACKET_SIZE",
    "SUBACK_FAILURE",
    "CodecError",
    "ConnAck",
    "ConnAckCode",
    "Connect",
    "Decoder",
    "Disconnect",
    "Packet",
    "PacketTooLargeError",
    "PacketType",
    "PingReq",
    "PingResp",
    "PubAck",
    "Publish",
    "SubAck",
    "Subscribe",
    "decode_packet",
    "encode",
]

DEFAULT_MAX_PACKET_SIZE = 4 * 1024 * 1024
_MAX_REMAINING_LENGTH = 268_435_455  # the largest value four length bytes can carry
_PROTOCOL_NAME = b"MQTT"
_PROTOCOL_LEVEL = 4  # MQTT 3.1.1
SUBACK_FAILURE = 0x80


class CodecError(ProtocolError):
    """A packet broke the MQTT 3.1.1 rules (or is one this codec does not speak)."""


class PacketTooLargeError(CodecError):
    """A packet announced a body larger than the decoder accepts."""


class PacketType(IntEnum):
    """MQTT control packet types (the high nibble of the first byte)."""

    CONNECT = 1
    CONNACK = 2
    PUBLISH = 3
    PUBACK = 4
    SUBSCRIBE = 8
    SUBACK = 9
    PINGREQ = 12
    PINGRESP = 13
    DISCONNECT = 14


class ConnAckCode(IntEnum):
    """CONNACK return codes; 4 and 5 mean the credentials were refused."""

    ACCEPTED = 0
    UNACCEPTABLE_PROTOCOL_VERSION = 1
    IDENTIFIER_REJECTED = 2
    SERVER_UNAVAILABLE = 3
    BAD_USERNAME_OR_PASSWORD = 4
    NOT_AUTHORIZED = 5


@dataclass(frozen=True, slots=True)
class Connect:
    """CONNECT: opens a session; the password never appears in the repr."""

    client_id: str
    keepalive: int = 60
    clean_session: bool = True
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ConnAck:
    """CONNACK: the broker's answer to CONNECT."""

    return_code: int
    session_present: bool = False


@dataclass(frozen=True, slots=True)
class Publish:
    """PUBLISH: an application message (QoS 0 or 1; QoS 1 carries a packet id)."""

    topic: str
    payload: bytes
    qos: int = 0
    packet_id: int | None = None
    retain: bool = False
    dup: bool = False


@dataclass(frozen=True, slots=True)
class PubAck:
    """PUBACK: acknowledges a QoS 1 PUBLISH."""

    packet_id: int


@dataclass(frozen=True, slots=True)
class Subscribe:
    """SUBSCRIBE: (topic filter, requested QoS) pairs."""

    packet_id: int
    topics: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class SubAck:
    """SUBACK: granted QoS per filter, or 0x80 for a refused one."""

    packet_id: int
    return_codes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PingReq:
    """PINGREQ: keepalive probe from the client."""


@dataclass(frozen=True, slots=True)
class PingResp:
    """PINGRESP: the broker's answer to PINGREQ."""


@dataclass(frozen=True, slots=True)
class Disconnect:
    """DISCONNECT: the client's clean goodbye."""


type Packet = (
    Connect | ConnAck | Publish | PubAck | Subscribe | SubAck | PingReq | PingResp | Disconnect
)


# --------------------------------------------------------------------------------------------
# Encoding


def _encode_remaining_length(length: int) -> bytes:
    if not 0 <= length <= _MAX_REMAINING_LENGTH:
        raise CodecError(f"packet body of {length} bytes cannot be encoded")
    out = bytearray()
    while True:
        byte = length % 128
        length //= 128
        if length:
            byte |= 0x80
        out.append(byte)
        if not length:
            return bytes(out)


def _encode_string(value: str) -> bytes:
    return _encode_binary(value.encode("utf-8"))


def _encode_binary(value: bytes) -> bytes:
    if len(value) > 0xFFFF:
        raise CodecError("string longer than 65535 bytes")
    return struct.pack("!H", len(value)) + value


def _check_packet_id(packet_id: int | None) -> int:
    if packet_id is None or not 1 <= packet_id <= 0xFFFF:
        raise CodecError(f"invalid packet id {packet_id!r}")
    return packet_id


def _check_topic_name(topic: str) -> None:
    if not topic or "+" in topic or "#" in topic or "\x00" in topic:
        raise CodecError("invalid topic name")


def _frame(first_byte: int, body: bytes) -> bytes:
    return bytes((first_byte,)) + _encode_remaining_length(len(body)) + body


def encode(packet: Packet) -> bytes:
    """Serialize one packet; raises :class:`CodecError` for values MQTT cannot carry."""
    match packet:
        case Publish():
            data = _encode_publish(packet)
        case PubAck(packet_id=packet_id):
            data = _frame(PacketType.PUBACK << 4, struct.pack("!H", _check_packet_id(packet_id)))
        case PingReq():
            data = bytes((PacketType.PINGREQ << 4, 0))
        case PingResp():
            data = bytes((PacketType.PINGRESP << 4, 0))
        case Subscribe():
            data = _encode_subscribe(packet)
        case SubAck(packet_id=packet_id, return_codes=codes):
            if not codes or any(code not in (0, 1, 2, SUBACK_FAILURE) for code in codes):
                raise CodecError("invalid SUBACK return codes")
            body = struct.pack("!H", _check_packet_id(packet_id)) + bytes(codes)
            data = _frame(PacketType.SUBACK << 4, body)
        case Connect():
            data = _encode_connect(packet)
        case ConnAck(return_code=code, session_present=present):
            if not 0 <= code <= 255:
                raise CodecError("invalid CONNACK return code")
            data = _frame(PacketType.CONNACK << 4, bytes((int(present), code)))
        case Disconnect():
            data = bytes((PacketType.DISCONNECT << 4, 0))
    return data


def _encode_connect(packet: Connect) -> bytes:
    if packet.password is not None and packet.username is None:
        raise CodecError("a password needs a username")
    if not 0 <= packet.keepalive <= 0xFFFF:
        raise CodecError("keepalive out of range")
    flags = 0
    if packet.clean_session:
        flags |= 0x02
    if packet.username is not None:
        flags |= 0x80
    if packet.password is not None:
        flags |= 0x40
    body = bytearray(_encode_binary(_PROTOCOL_NAME))
    body += bytes((_PROTOCOL_LEVEL, flags))
    body += struct.pack("!H", packet.keepalive)
    body += _encode_string(packet.client_id)
    if packet.username is not None:
        body += _encode_string(packet.username)
    if packet.password is not None:
        body += _encode_string(packet.password)
    return _frame(PacketType.CONNECT << 4, bytes(body))


def _encode_publish(packet: Publish) -> bytes:
    _check_topic_name(packet.topic)
    if packet.qos not in (0, 1):
        raise CodecError(f"QoS {packet.qos} is not supported")
    first = PacketType.PUBLISH << 4 | packet.qos << 1
    if packet.retain:
        first |= 0x01
    body = bytearray(_encode_string(packet.topic))
    if packet.qos:
        body += struct.pack("!H", _check_packet_id(packet.packet_id))
        if packet.dup:
            first |= 0x08
    elif packet.packet_id is not None or packet.dup:
        raise CodecError("a QoS 0 PUBLISH has no packet id and no DUP flag")
    body += packet.payload
    return _frame(first, bytes(body))


def _encode_subscribe(packet: Subscribe) -> bytes:
    if not packet.topics:
        raise CodecError("SUBSCRIBE needs at least one topic filter")
    body = bytearray(struct.pack("!H", _check_packet_id(packet.packet_id)))
    for topic, qos in packet.topics:
        if not topic or qos not in (0, 1, 2):
            raise CodecError("invalid SUBSCRIBE topic filter or QoS")
        body += _encode_string(topic)
        body.append(qos)
    return _frame(PacketType.SUBSCRIBE << 4 | 0x02, bytes(body))


# --------------------------------------------------------------------------------------------
# Decoding


class _Reader:
    """Cursor over one packet body; every read is bounds-checked."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, count: int) -> bytes:
        if count > self.remaining:
            raise CodecError("packet body is shorter than its fields")
        chunk = self._data[self._pos : self._pos + count]
        self._pos += count
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def uint16(self) -> int:
        value: int = struct.unpack("!H", self.take(2))[0]
        return value

    def binary(self) -> bytes:
        return self.take(self.uint16())

    def string(self) -> str:
        raw = self.binary()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise CodecError("string is not valid UTF-8") from err
        if "\x00" in text:
            raise CodecError("string contains U+0000")
        return text

    def rest(self) -> bytes:
        return self.take(self.remaining)

    def end(self) -> None:
        if self.remaining:
            raise CodecError("packet body has trailing bytes")


class _Skipped:
    """Marks a packet the decoder discarded (internal to :meth:`Decoder.feed`)."""


_SKIPPED = _Skipped()


class Decoder:
    """Incremental decoder: ``feed()`` bytes as they arrive, get back the complete packets.

    With ``skip_oversized_publish`` a PUBLISH larger than ``max_packet_size`` is discarded
    while it streams in (never buffered, never acknowledged) and counted in ``skipped``
    (``last_skipped_size`` holds its size); other oversized packets still raise.
    """

    def __init__(
        self,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
        *,
        skip_oversized_publish: bool = False,
    ) -> None:
        self.max_packet_size = max_packet_size
        self.skip_oversized_publish = skip_oversized_publish
        self.skipped = 0
        self.last_skipped_size = 0
        self._to_skip = 0
        self._buffer = bytearray()
        self._failed = False

    @property
    def buffered(self) -> int:
        """Bytes held back waiting for the rest of a packet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Packet]:
        """Add received bytes and return every packet they complete.

        Raises :class:`CodecError` on a malformed or oversized packet; the decoder is then
        unusable (the stream has lost its framing) and the connection must be dropped.
        """
        if self._failed:
            raise CodecError("decoder already failed; the connection must be reset")
        if self._to_skip:  # the rest of an oversized PUBLISH: discard it
            skip = min(self._to_skip, len(data))
            self._to_skip -= skip
            self._buffer += memoryview(data)[skip:]
        else:
            self._buffer += data
        packets: list[Packet] = []
        try:
            while (packet := self._next()) is not None:
                if not isinstance(packet, _Skipped):
                    packets.append(packet)
        except CodecError:
            self._failed = True
            self._buffer.clear()
            raise
        return packets

    def _next(self) -> Packet | _Skipped | None:
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        length = 0
        multiplier = 1
        index = 1
        while True:
            if index >= len(buffer):
                return None  # the length field itself is still incomplete
            byte = buffer[index]
            length += (byte & 0x7F) * multiplier
            index += 1
            if not byte & 0x80:
                break
            if index > 4:
                raise CodecError("remaining length field longer than four bytes")
            multiplier *= 128
        if length > self.max_packet_size:
            if self.skip_oversized_publish and buffer[0] >> 4 == PacketType.PUBLISH:
                available = min(len(buffer) - index, length)
                del buffer[: index + available]
                self._to_skip = length - available
                self.skipped += 1
                self.last_skipped_size = length
                return _SKIPPED
            raise PacketTooLargeError(
                f"packet body of {length} bytes exceeds the {self.max_packet_size} byte limit"
            )
        end = index + length
        if len(buffer) < end:
            return None
        first = buffer[0]
        body = bytes(buffer[index:end])
        del buffer[:end]
        return _decode(first, body)


def decode_packet(data: bytes, max_packet_size: int = DEFAULT_MAX_PACKET_SIZE) -> Packet:
    """Decode exactly one complete packet (for tests and one-shot callers)."""
    decoder = Decoder(max_packet_size)
    packets = decoder.feed(data)
    if len(packets) != 1 or decoder.buffered:
        raise CodecError("expected exactly one complete packet")
    return packets[0]


def _decode(first: int, body: bytes) -> Packet:
    kind = first >> 4
    flags = first & 0x0F
    reader = _Reader(body)
    if kind == PacketType.PUBLISH:
        return _decode_publish(flags, reader)
    expected_flags = 0x02 if kind == PacketType.SUBSCRIBE else 0
    if flags != expected_flags:
        raise CodecError(f"reserved flags {flags:#x} set on packet type {kind}")
    packet: Packet
    match kind:
        case PacketType.PUBACK:
            packet = PubAck(_nonzero_id(reader.uint16()))
        case PacketType.PINGREQ:
            packet = PingReq()
        case PacketType.PINGRESP:
            packet = PingResp()
        case PacketType.DISCONNECT:
            packet = Disconnect()
        case PacketType.CONNACK:
            packet = _decode_connack(reader)
        case PacketType.SUBACK:
            packet = _decode_suback(reader)
        case PacketType.SUBSCRIBE:
            packet = _decode_subscribe(reader)
        case PacketType.CONNECT:
            packet = _decode_connect(reader)
        case _:
            raise CodecError(f"unsupported packet type {kind}")
    reader.end()
    return packet


def _nonzero_id(packet_id: int) -> int:
    if packet_id == 0:
        raise CodecError("packet id 0 is not allowed")
    return packet_id


def _decode_publish(flags: int, reader: _Reader) -> Publish:
    qos = (flags >> 1) & 0x03
    if qos == 3:
        raise CodecError("PUBLISH with QoS 3")
    if qos == 2:
        raise CodecError("PUBLISH with QoS 2 is not supported")
    dup = bool(flags & 0x08)
    if dup and qos == 0:
        raise CodecError("DUP flag on a QoS 0 PUBLISH")
    topic = reader.string()
    _check_topic_name(topic)
    packet_id = _nonzero_id(reader.uint16()) if qos else None
    return Publish(
        topic=topic,
        payload=reader.rest(),
        qos=qos,
        packet_id=packet_id,
        retain=bool(flags & 0x01),
        dup=dup,
    )


def _decode_connack(reader: _Reader) -> ConnAck:
    ack_flags = reader.byte()
    if ack_flags & 0xFE:
        raise CodecError("reserved CONNACK flags set")
    code = reader.byte()
    if code > ConnAckCode.NOT_AUTHORIZED:
        raise CodecError(f"unknown CONNACK return code {code}")
    return ConnAck(return_code=code, session_present=bool(ack_flags & 0x01))


def _decode_suback(reader: _Reader) -> SubAck:
    packet_id = _nonzero_id(reader.uint16())
    codes = tuple(reader.rest())
    if not codes or any(code not in (0, 1, 2, SUBACK_FAILURE) for code in codes):
        raise CodecError("invalid SUBACK return codes")
    return SubAck(packet_id=packet_id, return_codes=codes)


def _decode_subscribe(reader: _Reader) -> Subscribe:
    packet_id = _nonzero_id(reader.uint16())
    topics: list[tuple[str, int]] = []
    while reader.remaining:
        topic = reader.string()
        qos = reader.byte()
        if not topic or qos > 2:
            raise CodecError("invalid SUBSCRIBE topic filter or QoS")
        topics.append((topic, qos))
    if not topics:
        raise CodecError("SUBSCRIBE without topic filters")
    return Subscribe(packet_id=packet_id, topics=tuple(topics))


def _decode_connect(reader: _Reader) -> Connect:
    if reader.binary() != _PROTOCOL_NAME:
        raise CodecError("not an MQTT CONNECT")
    if reader.byte() != _PROTOCOL_LEVEL:
        raise CodecError("only MQTT 3.1.1 is supported")
    flags = reader.byte()
    if flags & 0x01:
        raise CodecError("reserved CONNECT flag set")
    if flags & 0x04 or flags & 0x38:
        raise CodecError("CONNECT with a will is not supported")
    has_username = bool(flags & 0x80)
    has_password = bool(flags & 0x40)
    if has_password and not has_username:
        raise CodecError("CONNECT password without username")
    keepalive = reader.uint16()
    client_id = reader.string()
    username = reader.string() if has_username else None
    password = reader.string() if has_password else None
    return Connect(
        client_id=client_id,
        keepalive=keepalive,
        clean_session=bool(flags & 0x02),
        username=username,
        password=password,
    )
