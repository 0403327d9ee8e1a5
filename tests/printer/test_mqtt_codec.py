"""The MQTT 3.1.1 codec: round trips, incremental decoding, and every malformed input."""

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.bambu_printer.printer import mqtt_codec
from custom_components.bambu_printer.printer.errors import ProtocolError
from custom_components.bambu_printer.printer.mqtt_codec import (
    DEFAULT_MAX_PACKET_SIZE,
    CodecError,
    ConnAck,
    Connect,
    Decoder,
    Disconnect,
    Packet,
    PacketTooLargeError,
    PingReq,
    PingResp,
    PubAck,
    Publish,
    SubAck,
    Subscribe,
    decode_packet,
    encode,
)

PACKETS: list[Packet] = [
    Connect(client_id="c1", keepalive=30, username="bblp", password="12345678"),
    Connect(client_id="", keepalive=0, clean_session=False),
    Connect(client_id="ü", keepalive=65535, username="u_1"),
    ConnAck(return_code=0),
    ConnAck(return_code=5, session_present=True),
    Publish(topic="device/01P/report", payload=b'{"print": {}}'),
    Publish(topic="t", payload=b"", retain=True),
    Publish(topic="device/ä/request", payload=b"x" * 300, qos=1, packet_id=7),
    Publish(topic="t", payload=b"1", qos=1, packet_id=65535, dup=True),
    PubAck(packet_id=1),
    Subscribe(packet_id=2, topics=(("device/+/report", 0), ("a/#", 1), ("b", 2))),
    SubAck(packet_id=2, return_codes=(0, 1, 2, 0x80)),
    PingReq(),
    PingResp(),
    Disconnect(),
]


@pytest.mark.parametrize("packet", PACKETS, ids=lambda p: type(p).__name__)
def test_round_trip(packet: Packet) -> None:
    assert decode_packet(encode(packet)) == packet


def test_known_bytes() -> None:
    assert encode(PingReq()) == b"\xc0\x00"
    assert encode(PingResp()) == b"\xd0\x00"
    assert encode(Disconnect()) == b"\xe0\x00"
    assert encode(ConnAck(return_code=4)) == b"\x20\x02\x00\x04"
    assert encode(PubAck(packet_id=258)) == b"\x40\x02\x01\x02"
    assert encode(Publish(topic="a", payload=b"b")) == b"\x30\x04\x00\x01ab"
    assert encode(Publish(topic="a", payload=b"b", qos=1, packet_id=1)) == (
        b"\x32\x06\x00\x01a\x00\x01b"
    )
    assert encode(Subscribe(packet_id=1, topics=(("a", 0),))) == b"\x82\x06\x00\x01\x00\x01a\x00"
    assert encode(Connect(client_id="c", keepalive=60, username="u", password="p")) == (
        b"\x10\x13\x00\x04MQTT\x04\xc2\x00\x3c\x00\x01c\x00\x01u\x00\x01p"
    )


def test_password_not_in_repr() -> None:
    packet = Connect(client_id="c", username="bblp", password="87654321")
    assert "87654321" not in repr(packet)


def test_decoder_byte_by_byte_and_batched() -> None:
    stream = b"".join(encode(packet) for packet in PACKETS)
    decoder = Decoder()
    out: list[Packet] = []
    for index in range(len(stream)):
        out += decoder.feed(stream[index : index + 1])
    assert out == PACKETS
    assert decoder.buffered == 0
    assert Decoder().feed(stream) == PACKETS


def test_decoder_waits_for_complete_packet() -> None:
    data = encode(Publish(topic="t", payload=b"z" * 1000))
    decoder = Decoder()
    assert decoder.feed(data[:1]) == []
    assert decoder.feed(data[1:2]) == []  # first length byte (continuation set)
    assert decoder.feed(data[2:500]) == []
    assert decoder.buffered == 500
    assert decoder.feed(data[500:]) == [Publish(topic="t", payload=b"z" * 1000)]


@pytest.mark.parametrize(
    ("length", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16383, b"\xff\x7f"),
        (16384, b"\x80\x80\x01"),
        (2097151, b"\xff\xff\x7f"),
        (2097152, b"\x80\x80\x80\x01"),
        (268435455, b"\xff\xff\xff\x7f"),
    ],
)
def test_remaining_length_boundaries(length: int, encoded: bytes) -> None:
    # Only the header is fed: a decoder allowing the size waits for the body, buffering
    # just the header; the body of a small one decodes.
    decoder = Decoder(max_packet_size=268435455)
    assert mqtt_codec._encode_remaining_length(length) == encoded
    if length == 0:
        assert decoder.feed(b"\xc0" + encoded) == [PingReq()]
        return
    assert decoder.feed(b"\x30" + encoded) == []
    assert decoder.buffered == 1 + len(encoded)
    if length >= 3:
        payload = b"\x00\x01t" + b"p" * (length - 3)
        if length < 100_000:
            assert decoder.feed(payload) == [Publish(topic="t", payload=payload[3:])]


def test_oversized_packet_rejected_from_header() -> None:
    decoder = Decoder()
    header = b"\x30" + bytes([0x81, 0x80, 0x80, 0x02])  # 4 MiB + 1
    with pytest.raises(PacketTooLargeError):
        decoder.feed(header)
    assert decoder.buffered == 0
    assert DEFAULT_MAX_PACKET_SIZE == 4 * 1024 * 1024
    exact = Decoder(max_packet_size=10)
    assert exact.feed(encode(Publish(topic="t", payload=b"1234567"))) != []
    with pytest.raises(PacketTooLargeError):
        exact.feed(encode(Publish(topic="t", payload=b"12345678")))


@pytest.mark.parametrize("split", [1, 3, 7, 1000, 10**6])
def test_oversized_publish_can_be_skipped(split: int) -> None:
    # The oversized PUBLISH is discarded as it streams in (never buffered whole); the packets
    # around it still decode, however the bytes are split across reads.
    decoder = Decoder(max_packet_size=100, skip_oversized_publish=True)
    big = encode(Publish(topic="t", payload=b"x" * 5000))
    small = encode(Publish(topic="t", payload=b"ok"))
    data = encode(PingResp()) + big + small + encode(PingResp())
    out: list[object] = []
    for start in range(0, len(data), split):
        out += decoder.feed(data[start : start + split])
        assert decoder.buffered <= 100 + 5
    assert out == [PingResp(), Publish(topic="t", payload=b"ok"), PingResp()]
    assert decoder.skipped == 1
    assert decoder.last_skipped_size == len(big) - 3  # the body: 3 header bytes before it


def test_only_publish_is_skipped() -> None:
    decoder = Decoder(max_packet_size=4, skip_oversized_publish=True)
    with pytest.raises(PacketTooLargeError):
        decoder.feed(encode(Subscribe(packet_id=1, topics=(("a/b/c", 0),))))


def test_decoder_unusable_after_error() -> None:
    decoder = Decoder()
    with pytest.raises(CodecError):
        decoder.feed(b"\xc1\x00")
    with pytest.raises(CodecError, match="already failed"):
        decoder.feed(encode(PingReq()))


def test_codec_error_is_protocol_error() -> None:
    assert issubclass(CodecError, ProtocolError)
    assert issubclass(PacketTooLargeError, CodecError)


MALFORMED = {
    "length field of five bytes": b"\x30\xff\xff\xff\xff\x01",
    "reserved flags on PINGREQ": b"\xc1\x00",
    "SUBSCRIBE without flag 0b0010": b"\x80\x06\x00\x01\x00\x01a\x00",
    "PUBLISH QoS 3": b"\x36\x04\x00\x01ab",
    "PUBLISH QoS 2": b"\x34\x06\x00\x01a\x00\x01b",
    "DUP on QoS 0": b"\x38\x04\x00\x01ab",
    "wildcard in topic name": b"\x30\x04\x00\x01#b",
    "plus in topic name": b"\x30\x04\x00\x01+b",
    "empty topic name": b"\x30\x03\x00\x00b",
    "invalid UTF-8 topic": b"\x30\x04\x00\x01\xffb",
    "NUL in topic": b"\x30\x04\x00\x01\x00b",
    "packet id 0": b"\x32\x06\x00\x01a\x00\x00b",
    "topic longer than body": b"\x30\x03\x00\x09a",
    "PUBACK too short": b"\x40\x01\x00",
    "PUBACK trailing bytes": b"\x40\x03\x00\x01\x00",
    "PUBACK packet id 0": b"\x40\x02\x00\x00",
    "PINGRESP with body": b"\xd0\x01\x00",
    "CONNACK reserved flags": b"\x20\x02\x02\x00",
    "CONNACK unknown code": b"\x20\x02\x00\x06",
    "CONNACK short": b"\x20\x01\x00",
    "SUBACK bad code": b"\x90\x03\x00\x01\x03",
    "SUBACK without codes": b"\x90\x02\x00\x01",
    "SUBSCRIBE without topics": b"\x82\x02\x00\x01",
    "SUBSCRIBE QoS 3": b"\x82\x06\x00\x01\x00\x01a\x03",
    "SUBSCRIBE empty filter": b"\x82\x05\x00\x01\x00\x00\x00",
    "CONNECT wrong name": b"\x10\x0c\x00\x04MQTX\x04\x02\x00\x3c\x00\x00",
    "CONNECT level 5": b"\x10\x0c\x00\x04MQTT\x05\x02\x00\x3c\x00\x00",
    "CONNECT reserved flag": b"\x10\x0c\x00\x04MQTT\x04\x03\x00\x3c\x00\x00",
    "CONNECT with will": b"\x10\x0c\x00\x04MQTT\x04\x06\x00\x3c\x00\x00",
    "CONNECT password only": b"\x10\x0f\x00\x04MQTT\x04\x42\x00\x3c\x00\x00\x00\x01p",
    "PUBREC (unsupported)": b"\x50\x02\x00\x01",
    "UNSUBSCRIBE (unsupported)": b"\xa2\x05\x00\x01\x00\x01a",
    "type 0 (reserved)": b"\x00\x00",
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_packets_raise_codec_error(data: bytes) -> None:
    with pytest.raises(CodecError):
        Decoder().feed(data)


def test_decode_packet_requires_exactly_one() -> None:
    with pytest.raises(CodecError):
        decode_packet(encode(PingReq()) + encode(PingResp()))
    with pytest.raises(CodecError):
        decode_packet(encode(PingReq())[:1])


UNENCODABLE: dict[str, Packet] = {
    "QoS 2 publish": Publish(topic="t", payload=b"", qos=2, packet_id=1),
    "QoS 1 without id": Publish(topic="t", payload=b"", qos=1),
    "QoS 0 with id": Publish(topic="t", payload=b"", packet_id=1),
    "QoS 0 with DUP": Publish(topic="t", payload=b"", dup=True),
    "wildcard topic": Publish(topic="a/#", payload=b""),
    "empty topic": Publish(topic="", payload=b""),
    "packet id too large": PubAck(packet_id=65536),
    "packet id 0": PubAck(packet_id=0),
    "empty subscribe": Subscribe(packet_id=1, topics=()),
    "subscribe QoS 3": Subscribe(packet_id=1, topics=(("a", 3),)),
    "bad suback code": SubAck(packet_id=1, return_codes=(7,)),
    "empty suback": SubAck(packet_id=1, return_codes=()),
    "password without username": Connect(client_id="c", password="p"),
    "keepalive too large": Connect(client_id="c", keepalive=70000),
    "client id too long": Connect(client_id="c" * 70000),
    "CONNACK code too large": ConnAck(return_code=256),
}


@pytest.mark.parametrize("packet", UNENCODABLE.values(), ids=UNENCODABLE.keys())
def test_unencodable_packets(packet: Packet) -> None:
    with pytest.raises(CodecError):
        encode(packet)


def test_body_too_large_to_encode() -> None:
    with pytest.raises(CodecError):
        mqtt_codec._encode_remaining_length(268435456)
    with pytest.raises(CodecError):
        mqtt_codec._encode_remaining_length(-1)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_never_raise_anything_but_codec_errors(data: bytes) -> None:
    decoder = Decoder(max_packet_size=1024)
    with contextlib.suppress(CodecError):
        decoder.feed(data)


@settings(max_examples=200, deadline=None)
@given(
    topic=st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="#+\x00"),
        min_size=1,
        max_size=40,
    ),
    payload=st.binary(max_size=2000),
    qos=st.sampled_from([0, 1]),
    packet_id=st.integers(1, 65535),
    retain=st.booleans(),
    split=st.integers(0, 2100),
)
def test_publish_round_trip_any_split(
    *, topic: str, payload: bytes, qos: int, packet_id: int, retain: bool, split: int
) -> None:
    packet = Publish(
        topic=topic,
        payload=payload,
        qos=qos,
        packet_id=packet_id if qos else None,
        retain=retain,
    )
    data = encode(packet)
    decoder = Decoder()
    out = decoder.feed(data[:split]) + decoder.feed(data[split:])
    assert out == [packet]


def test_publish_header_fields() -> None:
    data = encode(Publish(topic="ab", payload=b"xyz", qos=1, packet_id=9, retain=True))
    assert data[0] == 0x33
    assert struct.unpack("!H", data[6:8]) == (9,)
