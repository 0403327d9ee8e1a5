"""A simulated printer's LAN announcements: the NOTIFY packets real printers send, to loopback.

Real printers broadcast ``NOTIFY * HTTP/1.1`` to 255.255.255.255:2021 (and multicast a copy to
239.255.255.250:1990) every few seconds, from their own address (docs/protocol.md, "LAN
discovery"). The simulator sends the same packet, from the printer's own loopback address, to
127.0.0.1 on a port of the caller's choosing, and nowhere else.
"""

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Callable
from typing import Final

from custom_components.bambu_printer.printer.discovery import SEARCH_TARGET
from custom_components.bambu_printer.printer.models import MODEL_CODES, PrinterModel

__all__ = ["ANNOUNCE_INTERVAL", "Announcer", "default_name", "notify_packet"]

ANNOUNCE_INTERVAL: Final = 5.0
_DESTINATION: Final = "127.0.0.1"


def _is_ipv4_loopback(address: str) -> bool:
    try:
        return ipaddress.IPv4Address(address).is_loopback
    except ValueError:
        return False


def default_name(serial: str) -> str:
    """Return the name a printer has before its owner renames it: "3DP-" prefix, serial ends."""
    return f"3DP-{serial[:3]}-{serial[-3:]}"


def notify_packet(
    *, serial: str, host: str, model: PrinterModel, name: str, firmware: str, signal: int
) -> bytes:
    """Return the announcement a real printer with these details sends."""
    headers = {
        "HOST": "239.255.255.250:1990",
        "Server": "UPnP/1.0",
        "Location": host,
        "NT": SEARCH_TARGET,
        "NTS": "ssdp:alive",
        "USN": serial,
        "Cache-Control": "max-age=1800",
        "DevModel.bambu.com": MODEL_CODES.get(model, ""),
        "DevName.bambu.com": name,
        "DevSignal.bambu.com": str(signal),
        "DevConnect.bambu.com": "lan",
        "DevBind.bambu.com": "free",
        "Devseclink.bambu.com": "secure",
        "DevVersion.bambu.com": firmware,
        "DevCap.bambu.com": "1",
    }
    lines = ["NOTIFY * HTTP/1.1", *(f"{key}: {value}" for key, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Announcer:
    """Sends ``packet()`` from ``source`` to 127.0.0.1:``port`` now and every ``interval`` s."""

    def __init__(
        self, packet: Callable[[], bytes], *, source: str, port: int, interval: float
    ) -> None:
        if not _is_ipv4_loopback(source):
            raise ValueError(f"announcements leave only from loopback, not {source}")
        if not 0 < port < 65536:
            raise ValueError(f"not a UDP port: {port}")
        if not interval > 0:
            raise ValueError("the announcement interval must be positive")
        self._packet = packet
        self._source = source
        self.port = port
        self.interval = interval
        self.sent = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open the socket on the printer's address and start announcing."""
        loop = asyncio.get_running_loop()
        self._transport, _protocol = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=(self._source, 0), family=socket.AF_INET
        )
        self._task = loop.create_task(self._run(), name=f"announce from {self._source}")

    async def _run(self) -> None:
        while True:
            self.send()
            await asyncio.sleep(self.interval)

    def send(self) -> None:
        """Send one announcement now (nobody listening is fine, as on a real LAN)."""
        if self._transport is None:
            return
        self._transport.sendto(self._packet(), (_DESTINATION, self.port))
        self.sent += 1

    async def stop(self) -> None:
        """Stop announcing and close the socket; idempotent."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
