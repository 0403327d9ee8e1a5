"""The announcement parser: real packets are read right; junk, hostile or huge packets are None."""

import ipaddress
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.bambu_printer.printer.discovery import (
    MAX_NAME,
    MAX_PACKET,
    Announcement,
    parse_announcement,
)
from custom_components.bambu_printer.printer.models import PrinterModel

# As published in KittyCAD/machine-api pull request #20 (an X1 Carbon), serial and IP kept.
X1C_NOTIFY = (
    b"NOTIFY * HTTP/1.1\r\n"
    b"Host: 239.255.255.250:1990\r\n"
    b"Server: UPnP/1.0\r\n"
    b"Location: 192.168.1.68\r\n"
    b"NT: urn:bambulab-com:device:3dprinter:1\r\n"
    b"NTS: ssdp:alive\r\n"
    b"USN: 00M09C452703629\r\n"
    b"Cache-Control: max-age=1800\r\n"
    b"DevModel.bambu.com: BL-P001\r\n"
    b"DevName.bambu.com: 3DP-00M-629\r\n"
    b"DevSignal.bambu.com: -51\r\n"
    b"DevConnect.bambu.com: lan\r\n"
    b"DevBind.bambu.com: free\r\n"
    b"Devseclink.bambu.com: secure\r\n"
    b"DevInf.bambu.com: wlan0\r\n"
    b"DevVersion.bambu.com: 01.08.00.00\r\n"
    b"\r\n"
)
# The P1P packet of TFyre/bambu-farm issue #231 (no NTS header), with an example serial and IP.
P1P_NOTIFY = (
    b"NOTIFY * HTTP/1.1\r\n"
    b"HOST: 239.255.255.250:1900\r\n"
    b"Server: UPnP/1.0\r\n"
    b"Location: 192.168.1.57\r\n"
    b"NT: urn:bambulab-com:device:3dprinter:1\r\n"
    b"USN: 01S00C123456789\r\n"
    b"Cache-Control: max-age=1800\r\n"
    b"DevModel.bambu.com: C11\r\n"
    b"DevName.bambu.com: Workshop P1P\r\n"
    b"DevSignal.bambu.com: -36\r\n"
    b"DevConnect.bambu.com: lan\r\n"
    b"DevBind.bambu.com: free\r\n"
    b"Devseclink.bambu.com: secure\r\n"
    b"DevVersion.bambu.com: 01.07.00.00\r\n"
    b"DevCap.bambu.com: 1\r\n"
    b"\r\n"
)


def _replace(packet: bytes, header: bytes, value: bytes | None) -> bytes:
    """Return the packet with one header's value replaced (or the header left out)."""
    lines = packet.split(b"\r\n")
    out = []
    for line in lines:
        if line.lower().startswith(header.lower() + b":"):
            if value is not None:
                out.append(header + b": " + value)
        else:
            out.append(line)
    return b"\r\n".join(out)


def test_reads_an_x1_carbon() -> None:
    assert parse_announcement(X1C_NOTIFY) == Announcement(
        serial="00M09C452703629", host="192.168.1.68", model=PrinterModel.X1C, name="3DP-00M-629"
    )


def test_reads_a_p1p_without_nts() -> None:
    assert parse_announcement(P1P_NOTIFY) == Announcement(
        serial="01S00C123456789", host="192.168.1.57", model=PrinterModel.P1P, name="Workshop P1P"
    )


def test_header_names_are_case_insensitive_and_bare_newlines_work() -> None:
    packet = X1C_NOTIFY.replace(b"\r\n", b"\n").replace(b"USN:", b"usn:")
    packet = packet.replace(b"DevModel.bambu.com", b"DEVMODEL.BAMBU.COM")
    announcement = parse_announcement(packet)
    assert announcement is not None
    assert announcement.serial == "00M09C452703629"
    assert announcement.model is PrinterModel.X1C


@pytest.mark.parametrize(
    ("code", "model"),
    [
        (b"C12", PrinterModel.P1S),
        (b"N1", PrinterModel.A1_MINI),
        (b"N2S", PrinterModel.A1),
        (b"C13", PrinterModel.X1E),
        (b"N7", PrinterModel.P2S),
        (b"O1D", PrinterModel.H2D),
        (b"O1S", PrinterModel.H2S),
        (b"3DPrinter-X1-Carbon", PrinterModel.X1C),
        (b"3DPrinter-X1", PrinterModel.X1C),
    ],
)
def test_model_codes(code: bytes, model: PrinterModel) -> None:
    announcement = parse_announcement(_replace(P1P_NOTIFY, b"DevModel.bambu.com", code))
    assert announcement is not None
    assert announcement.model is model


def test_unknown_or_missing_code_falls_back_to_the_serial() -> None:
    unknown = parse_announcement(_replace(P1P_NOTIFY, b"DevModel.bambu.com", b"Z99"))
    missing = parse_announcement(_replace(P1P_NOTIFY, b"DevModel.bambu.com", None))
    assert unknown is not None
    assert missing is not None
    assert unknown.model is missing.model is PrinterModel.P1P  # serial prefix 01S
    odd_serial = _replace(
        _replace(P1P_NOTIFY, b"DevModel.bambu.com", None), b"USN", b"ZZZ00C123456789"
    )
    announcement = parse_announcement(odd_serial)
    assert announcement is not None
    assert announcement.model is PrinterModel.UNKNOWN


def test_a_lower_case_serial_is_upper_cased() -> None:
    announcement = parse_announcement(_replace(P1P_NOTIFY, b"USN", b"01s00c123456789"))
    assert announcement is not None
    assert announcement.serial == "01S00C123456789"


def test_name_is_plain_text() -> None:
    hostile = "Evil\u202e\u200bprinter\x07 " + "x" * 200
    announcement = parse_announcement(_replace(P1P_NOTIFY, b"DevName.bambu.com", hostile.encode()))
    assert announcement is not None
    assert announcement.name is not None
    assert announcement.name.startswith("Evil printer xxx")
    assert len(announcement.name) == MAX_NAME
    for blank in (b"", b"   ", b"\x01\x02"):
        blanked = parse_announcement(_replace(P1P_NOTIFY, b"DevName.bambu.com", blank))
        assert blanked is not None
        assert blanked.name is None
    assert parse_announcement(_replace(P1P_NOTIFY, b"DevName.bambu.com", None)) is not None


def test_names_in_other_scripts_are_kept_and_bad_bytes_replaced() -> None:
    announcement = parse_announcement(
        _replace(P1P_NOTIFY, b"DevName.bambu.com", "打印机 Küche".encode() + b"\xff")
    )
    assert announcement is not None
    assert announcement.name == "打印机 Küche\ufffd"


@pytest.mark.parametrize(
    "packet",
    [
        pytest.param(X1C_NOTIFY.replace(b"NOTIFY", b"M-SEARCH"), id="m-search"),
        pytest.param(X1C_NOTIFY.replace(b"NOTIFY * HTTP/1.1", b"HTTP/1.1 200 OK"), id="response"),
        pytest.param(b"", id="empty"),
        pytest.param(b"NOTIFY * HTTP/1.1\r\n", id="start line only"),
        pytest.param(_replace(X1C_NOTIFY, b"NT", b"upnp:rootdevice"), id="other device type"),
        pytest.param(_replace(X1C_NOTIFY, b"NT", None), id="no device type"),
        pytest.param(_replace(X1C_NOTIFY, b"NTS", b"ssdp:byebye"), id="goodbye"),
        pytest.param(_replace(X1C_NOTIFY, b"USN", None), id="no serial"),
        pytest.param(_replace(X1C_NOTIFY, b"USN", b"uuid:00M09C452703629"), id="uuid serial"),
        pytest.param(_replace(X1C_NOTIFY, b"USN", b"00M09C45270362"), id="short serial"),
        pytest.param(_replace(X1C_NOTIFY, b"USN", b"00M09C4527036299"), id="long serial"),
        pytest.param(_replace(X1C_NOTIFY, b"Location", None), id="no location"),
        pytest.param(_replace(X1C_NOTIFY, b"Location", b"http://192.168.1.68/"), id="url"),
        pytest.param(_replace(X1C_NOTIFY, b"Location", b"printer.local"), id="name"),
        pytest.param(_replace(X1C_NOTIFY, b"Location", b"0.0.0.0"), id="unspecified"),
        pytest.param(_replace(X1C_NOTIFY, b"Location", b"255.255.255.255"), id="broadcast"),
        pytest.param(_replace(X1C_NOTIFY, b"Location", b"239.255.255.250"), id="multicast"),
        pytest.param(_replace(X1C_NOTIFY, b"Location", b"fe80::1"), id="ipv6"),
        pytest.param(_replace(X1C_NOTIFY, b"Location", b"192.168.1.300"), id="out of range"),
        pytest.param(X1C_NOTIFY.replace(b"USN:", b"USN;"), id="line without colon"),
        pytest.param(X1C_NOTIFY.replace(b"Server:", b"Ser ver:"), id="space in a name"),
        pytest.param(X1C_NOTIFY + b"USN: 01S00C123456789\r\n", id="second serial"),
        pytest.param(X1C_NOTIFY + b"Location: 10.0.0.9\r\n", id="second location"),
        pytest.param(X1C_NOTIFY + b"X-Pad: 1\r\n" * 20, id="too many headers"),
        pytest.param(X1C_NOTIFY + b" " * (MAX_PACKET - len(X1C_NOTIFY) + 1), id="huge"),
    ],
)
def test_rejects(packet: bytes) -> None:
    assert parse_announcement(packet) is None


def test_a_packet_at_the_size_limit_is_read() -> None:
    padded = X1C_NOTIFY + b" " * (MAX_PACKET - len(X1C_NOTIFY))
    assert len(padded) == MAX_PACKET
    assert parse_announcement(padded) is not None


def test_every_truncation_is_none_or_the_same_printer() -> None:
    """A packet cut anywhere (a lost tail) never yields another printer or address."""
    whole = parse_announcement(X1C_NOTIFY)
    assert whole is not None
    for end in range(len(X1C_NOTIFY)):
        cut = parse_announcement(X1C_NOTIFY[:end])
        if cut is not None:
            assert cut.serial == whole.serial
            assert cut.host == whole.host


def _check(announcement: Announcement | None) -> None:
    """Whatever the parser returns keeps its promises."""
    if announcement is None:
        return
    assert len(announcement.serial) == 15
    assert announcement.serial.isascii()
    assert announcement.serial.isalnum()
    assert announcement.serial == announcement.serial.upper()
    address = ipaddress.IPv4Address(announcement.host)
    assert not address.is_multicast
    assert not address.is_unspecified
    assert not address.is_reserved
    assert isinstance(announcement.model, PrinterModel)
    if announcement.name is not None:
        assert 0 < len(announcement.name) <= MAX_NAME
        assert announcement.name == announcement.name.strip()
        assert all(unicodedata.category(char)[0] != "C" for char in announcement.name)


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=MAX_PACKET + 64))
def test_fuzz_random_bytes(packet: bytes) -> None:
    _check(parse_announcement(packet))


_LINES = X1C_NOTIFY.split(b"\r\n")


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.sampled_from(_LINES)
        | st.binary(max_size=40)
        | st.builds(
            lambda name, value: name + b": " + value,
            st.sampled_from([b"USN", b"Location", b"NT", b"NTS", b"DevName.bambu.com"]),
            st.binary(max_size=80) | st.text(max_size=80).map(str.encode),
        ),
        max_size=40,
    ),
    st.sampled_from([b"\r\n", b"\n", b"\r"]),
)
def test_fuzz_mutated_packets(lines: list[bytes], separator: bytes) -> None:
    """Real header lines shuffled, repeated and mixed with junk never break the parser."""
    _check(parse_announcement(b"NOTIFY * HTTP/1.1" + separator + separator.join(lines)))
