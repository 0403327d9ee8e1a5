"""Read the announcements printers broadcast on the LAN, so nobody has to type IP and serial.

Every printer sends SSDP-style ``NOTIFY * HTTP/1.1`` packets to UDP port 2021 (broadcast) every
few seconds: the serial in ``USN``, its IP address in ``Location``, the model code in
``DevModel.bambu.com`` and the name given on the printer in ``DevName.bambu.com``
(docs/protocol.md, "LAN discovery"). Anyone on the LAN can send such a packet, so the parser
is strict and bounded: anything malformed, ambiguous or oversized is ``None``, never an error.
"""

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from .models import PrinterModel, identify_from_product_name, identify_from_serial

__all__ = ["DISCOVERY_PORT", "MAX_PACKET", "SEARCH_TARGET", "Announcement", "parse_announcement"]

DISCOVERY_PORT: Final = 2021
# Real announcements are about 500 bytes; a UDP datagram can be 64 KiB.
MAX_PACKET: Final = 2048
SEARCH_TARGET: Final = "urn:bambulab-com:device:3dprinter:1"
MAX_NAME: Final = 64

_START_LINE: Final = "NOTIFY * HTTP/1.1"
_MAX_HEADERS: Final = 32
_SERIAL: Final = re.compile(r"[0-9A-Z]{15}")
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Headers the parser reads; a second copy of one of them makes the packet ambiguous.
_USED: Final = frozenset(
    {"nt", "nts", "usn", "location", "devmodel.bambu.com", "devname.bambu.com"}
)
# Model codes older firmware announced instead of BambuStudio's model ids.
_LEGACY_CODES: Final = {"3dprinter-x1-carbon": PrinterModel.X1C, "3dprinter-x1": PrinterModel.X1C}


@dataclass(frozen=True, slots=True)
class Announcement:
    """One printer's announcement: who it is and where it can be reached."""

    serial: str
    host: str
    model: PrinterModel
    name: str | None


def _headers(text: str) -> dict[str, str] | None:
    """Return the headers by lower-case name; None when a line or a repeat makes no sense."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[0].strip() != _START_LINE:
        return None
    headers: dict[str, str] = {}
    count = 0
    for line in lines[1:]:
        if not line.strip():
            continue
        count += 1
        if count > _MAX_HEADERS:
            return None
        name, colon, value = line.partition(":")
        if not colon or not _HEADER_NAME.fullmatch(name.strip()):
            return None
        key = name.strip().lower()
        if key in headers and key in _USED:
            return None
        headers.setdefault(key, value.strip())
    return headers


def _host(location: str) -> str | None:
    """Return the announced IPv4 address when a printer could be reached there."""
    try:
        address = ipaddress.IPv4Address(location)
    except ValueError:
        return None
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return None  # 0.0.0.0, 224.0.0.0/4, 240.0.0.0/4 with 255.255.255.255
    return str(address)


def _model(code: str, serial: str) -> PrinterModel:
    """Recognise the announced model code; the serial's prefix when the code is unknown."""
    model = _LEGACY_CODES.get(code.lower()) or identify_from_product_name(code)
    return model if model is not PrinterModel.UNKNOWN else identify_from_serial(serial)


def _name(value: str | None) -> str | None:
    """Return the printer's name as plain text on one line, shortened when very long.

    Control and format characters (line breaks, bidirectional overrides, ...) become spaces,
    so a name cannot disguise itself as another text where it is shown.
    """
    if value is None:
        return None
    plain = "".join(" " if unicodedata.category(char)[0] == "C" else char for char in value)
    name = " ".join(plain.split())[:MAX_NAME].strip()
    return name or None


def parse_announcement(packet: bytes) -> Announcement | None:
    """Return the printer a NOTIFY packet announces, or None when it is not a valid one.

    Valid means: at most `MAX_PACKET` bytes, the NOTIFY start line, header lines only, the
    Bambu printer type in ``NT``, not a goodbye (``NTS: ssdp:byebye``), a serial number of
    15 letters and digits in ``USN`` and a usable IPv4 address in ``Location``.
    """
    if len(packet) > MAX_PACKET:
        return None
    headers = _headers(packet.decode("utf-8", errors="replace"))
    if headers is None or headers.get("nt") != SEARCH_TARGET:
        return None
    if headers.get("nts", "ssdp:alive").lower() != "ssdp:alive":
        return None
    serial = headers.get("usn", "").upper()
    host = _host(headers.get("location", ""))
    if not _SERIAL.fullmatch(serial) or host is None:
        return None
    return Announcement(
        serial=serial,
        host=host,
        model=_model(headers.get("devmodel.bambu.com", ""), serial),
        name=_name(headers.get("devname.bambu.com")),
    )
