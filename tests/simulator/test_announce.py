"""Simulated printers announce themselves like real ones, to 127.0.0.1 only."""

import asyncio
import socket
from collections.abc import Iterator

import pytest
import pytest_socket

from custom_components.bambu_printer.printer.discovery import parse_announcement
from custom_components.bambu_printer.printer.models import PrinterModel
from simulator import __main__ as cli
from simulator.announce import Announcer, default_name
from simulator.device import SimulatedPrinter
from simulator.engine import MODELS
from simulator.farm import PrinterFarm, PrinterSpec
from simulator.testing import own_loopback_address
from tests.printer.test_discovery import X1C_NOTIFY


def _header_names(packet: bytes) -> list[str]:
    lines = packet.decode().split("\r\n")[1:]
    return [line.split(":", 1)[0].lower() for line in lines if line]


@pytest.fixture
def receiver(socket_enabled: None) -> Iterator[socket.socket]:
    """A UDP socket on 127.0.0.1 standing in for a listener."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        yield sock


async def _receive(sock: socket.socket) -> tuple[bytes, tuple[str, int]]:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(5):
        packet, sender = await loop.sock_recvfrom(sock, 4096)
    return packet, sender


async def test_farm_printers_announce_who_they_are(
    leak_check: None, receiver: socket.socket
) -> None:
    """Each printer's packet reads back as its serial, address, model and default name."""
    host = own_loopback_address()
    pytest_socket.socket_allow_hosts(["127.0.0.1", host])
    specs = [PrinterSpec("X1C"), PrinterSpec("A1MINI", host=host)]
    async with PrinterFarm(specs, announce_port=receiver.getsockname()[1]) as farm:
        found = {}
        while len(found) < len(farm):
            packet, sender = await _receive(receiver)
            announcement = parse_announcement(packet)
            assert announcement is not None
            assert sender[0] == announcement.host  # sent from the printer's own address
            found[announcement.serial] = announcement
        x1c, mini = farm
        assert found[x1c.serial].host == "127.0.0.1"
        assert found[x1c.serial].model is PrinterModel.X1C
        assert found[x1c.serial].name == default_name(x1c.serial)
        assert (found[mini.serial].host, mini.port, mini.camera_port) == (host, 8883, None)
        assert found[mini.serial].model is PrinterModel.A1_MINI


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_announces_its_own_code(model: str) -> None:
    printer = SimulatedPrinter(model)
    announcement = parse_announcement(printer.notify_packet())
    assert announcement is not None
    assert announcement.model is printer.engine.profile.model
    assert announcement.model is not PrinterModel.UNKNOWN


def test_packet_carries_the_headers_of_a_real_one() -> None:
    real = set(_header_names(X1C_NOTIFY))
    ours = set(_header_names(SimulatedPrinter("X1C").notify_packet()))
    assert real <= ours | {"devinf.bambu.com"}  # the interface name is X1-only
    assert ours - real <= {"devcap.bambu.com"}  # sent by the P1P (TFyre/bambu-farm #231)


def test_default_name_follows_the_printers() -> None:
    """A new X1C named itself 3DP-00M-629 for serial 00M09C452703629 (KittyCAD #20)."""
    assert default_name("00M09C452703629") == "3DP-00M-629"


async def test_announcer_repeats_and_stops(leak_check: None, receiver: socket.socket) -> None:
    announcer = Announcer(
        lambda: b"hello", source="127.0.0.1", port=receiver.getsockname()[1], interval=0.05
    )
    await announcer.start()
    try:
        for _ in range(3):
            assert (await _receive(receiver))[0] == b"hello"
    finally:
        await announcer.stop()
        await announcer.stop()
    sent = announcer.sent
    announcer.send()  # closed: nothing is sent
    assert announcer.sent == sent


@pytest.mark.parametrize(
    ("source", "port", "interval"),
    [("192.168.1.5", 2021, 5.0), ("::1", 2021, 5.0), ("127.0.0.1", 0, 5.0), ("127.0.0.1", 1, 0)],
)
def test_announcer_refuses(source: str, port: int, interval: float) -> None:
    with pytest.raises(ValueError):
        Announcer(lambda: b"", source=source, port=port, interval=interval)


def test_a_printer_listens_on_loopback_only() -> None:
    for host in ("0.0.0.0", "192.168.1.5", "localhost"):  # noqa: S104
        with pytest.raises(ValueError, match="loopback"):
            SimulatedPrinter("P1S", host=host)


def test_cli_hosts_and_announce_port() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(["--printers", "P1S,A1", "--hosts=-,127.9.9.9"])
    assert args.hosts == [None, "127.9.9.9"]
    assert args.announce_port == 2021
    assert parser.parse_args(["--announce-port", "0"]).announce_port == 0
    for bad in (["--hosts", "127.0.0.1"], ["--hosts", "10.0.0.2"], ["--announce-port", "70000"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)
