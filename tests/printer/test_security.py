"""Hostile networks and hostile printers against the protocol library.

A man in the middle with a certificate from another CA (but the right serial as its name) is
refused by the MQTT and camera clients before they send a byte of their credentials; access
codes full of URL syntax work for the MQTT login, the camera auth packet and the RTSPS URL;
reports with a 10 MB string or 10,000-element lists are dropped with a debug log, and memory
stays bounded while they stream through. The FTPS client's hostile cases (a man in the middle,
silent and slow servers, line breaks in paths) are in ``test_ftps.py``, hostile 3mf archives in
``test_project.py``.
"""

import asyncio
import contextlib
import gc
import json
import logging
import ssl
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from custom_components.bambu_printer.printer.camera import (
    AUTH_PACKET,
    JpegCameraClient,
    build_auth_packet,
    rtsps_url,
)
from custom_components.bambu_printer.printer.errors import TlsError
from custom_components.bambu_printer.printer.mqtt import MAX_REPORT_SIZE, PrinterClient
from custom_components.bambu_printer.printer.state import MAX_LIST, MAX_STRING, PrinterState
from custom_components.bambu_printer.printer.tls import create_ssl_context
from simulator.device import SimulatedPrinter
from simulator.testing import client_settings, connected_client, start_printer, wait_until

from ..mitm import MitmProxy
from .scripted_broker import connect

# Characters that mean something in URLs, MQTT logins and C strings.
NASTY_CODES = ["a@b:/%1Z", "%41%40:@/?#[]"]
TEN_MB = 10 * 1024 * 1024


@pytest.fixture
async def camera_printer(leak_check: None) -> AsyncIterator[SimulatedPrinter]:
    """A P1S serving its JPEG camera."""
    async with start_printer("P1S", camera=True) as printer:
        yield printer


# --- man in the middle ------------------------------------------------------------------------


async def test_mqtt_client_refuses_a_man_in_the_middle(
    sim_printer: SimulatedPrinter, tmp_path: Path
) -> None:
    async with MitmProxy(
        tmp_path, sim_printer.serial, sim_printer.host, sim_printer.port, sim_printer.ca_path
    ) as mitm:
        lured = replace(client_settings(sim_printer), host=mitm.host, port=mitm.port)
        with pytest.raises(TlsError, match="not accepted"):
            await PrinterClient(lured).async_connect(timeout=5)
        await wait_until(lambda: mitm.refused_handshakes == 1)
        assert mitm.handshakes == 0
        assert mitm.received == b""  # not even the CONNECT with the access code

        # Control: a client that trusted the rogue CA would be relayed, and would have handed
        # over its access code. Verification is what stops the attack, not a broken proxy.
        fooled = replace(
            client_settings(sim_printer, ssl_context=create_ssl_context(mitm.rogue_ca.cert_path)),
            host=mitm.host,
            port=mitm.port,
        )
        async with connected_client(sim_printer, settings=fooled, start=False) as client:
            assert client.available
        assert sim_printer.access_code.encode() in mitm.received


async def test_camera_client_refuses_a_man_in_the_middle(
    camera_printer: SimulatedPrinter, tmp_path: Path
) -> None:
    printer = camera_printer
    assert printer.camera_port is not None
    async with MitmProxy(
        tmp_path, printer.serial, printer.host, printer.camera_port, printer.ca_path
    ) as mitm:
        lured = JpegCameraClient(
            mitm.host,
            printer.serial,
            printer.access_code,
            create_ssl_context(printer.ca_path),
            mitm.port,
        )
        with pytest.raises(TlsError):
            await lured.fetch_frame()
        await wait_until(lambda: mitm.refused_handshakes == 1)
        assert mitm.received == b""  # the auth packet was never sent

        fooled = JpegCameraClient(
            mitm.host,
            printer.serial,
            printer.access_code,
            create_ssl_context(mitm.rogue_ca.cert_path),
            mitm.port,
        )
        frame = await fooled.fetch_frame()
        assert frame.startswith(b"\xff\xd8\xff")
        assert printer.access_code.encode() in mitm.received


# --- access codes full of URL syntax ---------------------------------------------------------


@pytest.mark.parametrize("code", NASTY_CODES)
async def test_nasty_access_code_works_for_mqtt_and_camera(leak_check: None, code: str) -> None:
    async with start_printer("P1S", access_code=code, camera=True, printing=True) as printer:
        async with connected_client(printer, start=False) as client:
            assert client.available
            assert (await client.async_request(client.commands.pause())).ok
        assert printer.camera_port is not None
        camera = JpegCameraClient(
            printer.host,
            printer.serial,
            code,
            create_ssl_context(printer.ca_path),
            printer.camera_port,
        )
        async with aclosing(camera.frames()) as frames:
            assert (await anext(frames)).endswith(b"\xff\xd9")
        # The auth packet carries the code as bytes, unescaped, NUL-padded.
        fields = AUTH_PACKET.unpack(build_auth_packet(code))
        assert fields[5].rstrip(b"\0").decode() == code


@pytest.mark.parametrize("code", NASTY_CODES)
@pytest.mark.parametrize("host", ["192.168.1.20", "printer.local", "fe80::1"])
def test_rtsps_url_round_trips_the_access_code(code: str, host: str) -> None:
    url = rtsps_url(host, code)
    parts = urlsplit(url)
    assert parts.scheme == "rtsps"
    assert parts.username == "bblp"
    assert unquote(parts.password or "") == code
    assert parts.hostname == host
    assert parts.port == 322
    assert parts.path == "/streaming/live/1"


# --- hostile reports -------------------------------------------------------------------------


async def _stream_publish(printer: SimulatedPrinter, topic: str, payload: bytes) -> None:
    """Publish ``payload`` through the printer's broker in 64 KiB writes (never copied whole).

    The broker is a separate process, so what this process allocates meanwhile is the client's
    doing alone (plus these small writes).
    """
    context = create_ssl_context(printer.ca_path)
    reader, writer = await asyncio.open_connection(
        printer.host, printer.port, ssl=context, server_hostname=printer.serial
    )
    try:
        writer.write(connect("hostile", "bblp", printer.access_code))
        assert (await reader.readexactly(4))[3] == 0  # CONNACK accepted
        name = topic.encode()
        length = 2 + len(name) + len(payload)
        header = bytearray([0x30])
        while True:
            byte, length = length % 128, length // 128
            header.append(byte | (0x80 if length else 0))
            if not length:
                break
        writer.write(bytes(header) + len(name).to_bytes(2) + name)
        view = memoryview(payload)
        for start in range(0, len(payload), 65536):
            writer.write(view[start : start + 65536])
            await writer.drain()
        writer.write(b"\xe0\x00")  # DISCONNECT
        await writer.drain()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await writer.wait_closed()


def _traced_peak(start: int) -> int:
    """Return the highest traced allocation above ``start`` since the last reset."""
    return tracemalloc.get_traced_memory()[1] - start


async def test_ten_megabyte_report_is_dropped_and_not_kept(
    sim_printer: SimulatedPrinter, client: PrinterClient, caplog: pytest.LogCaptureFixture
) -> None:
    # paho-mqtt reads a packet whole before handing it over, so a hostile report costs its
    # size while it streams in; it must be dropped unparsed, released, and the link kept.
    caplog.set_level(logging.DEBUG, logger="custom_components.bambu_printer.printer.mqtt")
    sim_printer.silent = True
    await asyncio.sleep(0.3)
    before = client.reports_received
    revision = client.state.revision
    huge = b'{"print": {"subtask_name": "' + b"A" * TEN_MB + b'"}}'
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        await _stream_publish(sim_printer, sim_printer.report_topic, huge)
        assert sim_printer.publish_report({"print": {"nozzle_temper": 21.5}})
        await wait_until(lambda: client.reports_received == before + 1, within=15)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    assert kept < 1024 * 1024, f"{kept} bytes still held after a 10 MB report was dropped"
    assert f"Dropping a {len(huge)} byte report (too large)" in caplog.text
    assert client.connects == 1  # the link stayed up
    assert client.available
    assert client.state.revision == revision + 1
    assert client.state.temperatures.nozzle == 21.5
    assert (
        "subtask_name" not in client.state.print_data
        or len(str(client.state.print_data["subtask_name"])) < 1000
    )


async def test_report_just_over_the_size_limit_is_dropped_unparsed(
    sim_printer: SimulatedPrinter, client: PrinterClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.bambu_printer.printer.mqtt")
    sim_printer.silent = True
    await asyncio.sleep(0.3)
    before = client.reports_received
    size = MAX_REPORT_SIZE + 4096
    body = b'{"print": {"subtask_name": "' + b"B" * size + b'"}}'
    await _stream_publish(sim_printer, sim_printer.report_topic, body)
    assert sim_printer.publish_report({"print": {"nozzle_temper": 22.5}})
    await wait_until(lambda: client.reports_received == before + 1, within=15)
    assert f"Dropping a {len(body)} byte report (too large)" in caplog.text
    assert client.connects == 1
    assert client.state.temperatures.nozzle == 22.5


async def test_ten_thousand_element_lists_are_dropped_with_bounded_memory(
    sim_printer: SimulatedPrinter, client: PrinterClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.bambu_printer.printer")
    sim_printer.silent = True
    await asyncio.sleep(0.3)
    hms_before = client.state.hms
    trays_before = client.state.ams
    count = 10_000
    report = {
        "print": {
            "hms": [{"attr": 0x0300_0100 + i, "code": 0x0001_0001} for i in range(count)],
            "ams": {"ams": [{"id": str(i), "tray": []} for i in range(count)]},
            "lights_report": list(range(count)),
            "nozzle_temper": 23.5,
        }
    }
    payload = json.dumps(report, separators=(",", ":")).encode()
    assert len(payload) < MAX_REPORT_SIZE  # it gets parsed; the state must refuse the lists
    before = client.reports_received
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        assert sim_printer.publish_raw(payload)
        await wait_until(lambda: client.reports_received == before + 1)
        peak = _traced_peak(baseline)
        # The reader's loop variables hold the last message until the next one comes.
        assert sim_printer.publish_report({"print": {"bed_temper": 24.5}})
        await wait_until(lambda: client.reports_received == before + 2)
        del payload
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    assert client.state.temperatures.nozzle == 23.5  # the rest of the report was merged
    assert client.state.hms == hms_before
    assert client.state.ams == trays_before
    assert len(client.state.print_data.get("lights_report", ())) <= MAX_LIST
    for key in ("hms", "ams", "lights_report"):
        assert f"Dropped '{key}' from a report" in caplog.text
    # Parsing the report is the only big allocation (about 5 MB for 30,000 objects); nothing
    # of it is kept.
    assert peak < 16 * 1024 * 1024, peak
    assert kept < 512 * 1024, kept


def test_state_drops_a_ten_megabyte_string(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.bambu_printer.printer.state")
    state = PrinterState()
    assert state.apply({"print": {"command": "push_status", "nozzle_temper": 20}})
    huge = "C" * TEN_MB
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        changed = state.apply({"print": {"subtask_name": huge}})
        peak = _traced_peak(baseline)
    finally:
        tracemalloc.stop()
    assert not changed
    assert "subtask_name" not in state.print_data
    assert peak < 256 * 1024, peak  # the string is looked at, never copied
    assert f"string of {TEN_MB} characters" in caplog.text
    assert len(huge) > MAX_STRING
