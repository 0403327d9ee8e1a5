"""A plain-TCP MQTT 3.1.1 broker that follows a script, for misbehaviour Mosquitto won't show.

It knows just enough of the wire format to read what a client sends (packet type, packet id,
topic and payload of a PUBLISH) and to write the few answers a script needs. The client under
test speaks through paho-mqtt; this is the other end, written from the MQTT 3.1.1 standard.
"""

import asyncio
import json
import socket
import struct
from dataclasses import dataclass
from typing import Any

from custom_components.bambu_printer.printer.mqtt import ConnectionSettings

CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 12, 13, 14

FULL_REPORT: dict[str, Any] = {
    "command": "push_status",
    "gcode_state": "IDLE",
    "nozzle_temper": 24.0,
    "bed_temper": 23.5,
    "wifi_signal": "-50dBm",
    "ipcam": {"ipcam_record": "enable"},
    "lights_report": [{"node": "chamber_light", "mode": "off"}],
    "upgrade_state": {},
}


@dataclass(frozen=True)
class Packet:
    """One packet a client sent: its type and, where it has them, id, topic and payload."""

    kind: int
    flags: int
    body: bytes

    @property
    def packet_id(self) -> int:
        """Return the id of a SUBSCRIBE, PUBACK or QoS 1 PUBLISH."""
        if self.kind == PUBLISH:
            (length,) = struct.unpack_from("!H", self.body)
            return int.from_bytes(self.body[2 + length : 4 + length])
        return int.from_bytes(self.body[:2])

    @property
    def payload(self) -> bytes:
        """Return a PUBLISH's payload."""
        (length,) = struct.unpack_from("!H", self.body)
        qos = (self.flags >> 1) & 3
        return self.body[2 + length + (2 if qos else 0) :]


def packet(kind: int, body: bytes = b"", flags: int = 0) -> bytes:
    """Encode one packet: fixed header with the remaining length, then the body."""
    length, header = len(body), bytearray()
    while True:
        byte, length = length % 128, length // 128
        header.append(byte | (0x80 if length else 0))
        if not length:
            break
    return bytes([kind << 4 | flags]) + bytes(header) + body


def publish(topic: str, payload: bytes, packet_id: int | None = None) -> bytes:
    """Encode a PUBLISH (QoS 1 when it has a packet id)."""
    name = topic.encode()
    body = struct.pack("!H", len(name)) + name
    if packet_id is not None:
        body += struct.pack("!H", packet_id)
    return packet(PUBLISH, body + payload, flags=2 if packet_id is not None else 0)


def _text(value: str) -> bytes:
    data = value.encode()
    return struct.pack("!H", len(data)) + data


def connect(client_id: str, username: str, password: str, keepalive: int = 60) -> bytes:
    """Encode a clean-session CONNECT with user name and password (MQTT 3.1.1)."""
    variable = _text("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", keepalive)
    return packet(CONNECT, variable + _text(client_id) + _text(username) + _text(password))


def connack(code: int) -> bytes:
    """Encode a CONNACK with this return code."""
    return packet(CONNACK, bytes([0, code]))


class _Reader:
    """Splits a byte stream into packets."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[Packet]:
        self._buffer += data
        packets = []
        while len(self._buffer) >= 2:
            length, multiplier, index = 0, 1, 1
            while True:
                if index >= len(self._buffer):
                    return packets
                byte = self._buffer[index]
                length += (byte & 0x7F) * multiplier
                multiplier *= 128
                index += 1
                if not byte & 0x80:
                    break
            if len(self._buffer) < index + length:
                return packets
            first = self._buffer[0]
            packets.append(Packet(first >> 4, first & 0x0F, self._buffer[index : index + length]))
            self._buffer = self._buffer[index + length :]
        return packets


def reset(writer: asyncio.StreamWriter) -> None:
    """Close a connection with a TCP reset instead of a FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class ScriptedBroker:
    """Answers CONNECT, SUBSCRIBE, PINGREQ and pushall requests the way a script says."""

    def __init__(
        self,
        *,
        connack: int = 0,
        suback: int = 0,
        answer_pings: bool = True,
        report_qos: int = 0,
        after_subscribe: bytes = b"",
        on_connect: str = "connack",
        report: dict[str, Any] | None = None,
    ) -> None:
        self.connack = connack
        self.suback = suback
        self.answer_pings = answer_pings
        self.report_qos = report_qos
        self.after_subscribe = after_subscribe
        self.on_connect = on_connect
        self.report = report if report is not None else dict(FULL_REPORT)
        self.received: list[Packet] = []
        self.pubacks: list[int] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def settings(self, keepalive: int = 30) -> ConnectionSettings:
        return ConnectionSettings(
            host="127.0.0.1",
            port=self.port,
            serial="SCRIPTED",
            password="pw",
            ssl_context=None,
            keepalive=keepalive,
        )

    def kinds(self) -> list[int]:
        """Return the types of the packets received so far."""
        return [received.kind for received in self.received]

    async def __aenter__(self) -> "ScriptedBroker":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        stream = _Reader()
        self._writers.add(writer)
        try:
            while data := await reader.read(65536):
                for received in stream.feed(data):
                    self.received.append(received)
                    self._answer(received, writer)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(task)
            self._writers.discard(writer)
            writer.close()

    def reset_all(self) -> None:
        """Drop every client with a TCP reset."""
        for writer in list(self._writers):
            reset(writer)

    def _answer(self, received: Packet, writer: asyncio.StreamWriter) -> None:
        if received.kind == CONNECT:
            if self.on_connect == "close":
                writer.close()
            elif self.on_connect == "reset":
                reset(writer)
            elif self.on_connect == "connack+pingresp":
                writer.write(connack(0) + packet(PINGRESP))
            else:
                writer.write(connack(self.connack))
        elif received.kind == SUBSCRIBE:
            ack = struct.pack("!H", received.packet_id) + bytes([self.suback])
            writer.write(packet(SUBACK, ack) + self.after_subscribe)
        elif received.kind == PUBLISH and b"pushall" in received.payload:
            report = json.dumps({"print": self.report}).encode()
            packet_id = 5 if self.report_qos else None
            writer.write(publish("device/SCRIPTED/report", report, packet_id))
            writer.write(publish("elsewhere/topic", b"{}"))
        elif received.kind == PINGREQ and self.answer_pings:
            writer.write(packet(PINGRESP))
        elif received.kind == PUBACK:
            self.pubacks.append(received.packet_id)
