"""PrinterClient against a real Mosquitto + the simulated printer, and a scripted broker.

Everything runs on loopback: the simulator's private Mosquitto (TLS, password file) plays the
printer's broker, so TLS verification, CONNACK codes, reconnects and command round trips are
the real thing. A tiny scripted broker covers what Mosquitto cannot be made to do (refusing a
subscription, skipping PINGRESP, sending malformed MQTT).
"""

import asyncio
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from custom_components.bambu_printer.printer import mqtt as mqtt_module
from custom_components.bambu_printer.printer.commands import CommandFactory
from custom_components.bambu_printer.printer.errors import (
    AuthError,
    BambuError,
    CommandRejected,
    CommandTimeout,
    ConnectError,
    ConnectTimeout,
    NotConnected,
    ProtocolError,
    TlsError,
)
from custom_components.bambu_printer.printer.mqtt import (
    MAX_REPORT_SIZE,
    Backoff,
    ConnectionSettings,
    PrinterClient,
)
from custom_components.bambu_printer.printer.state import PrinterState
from simulator.broker import free_port
from simulator.ca import TestCA
from simulator.device import SimulatedPrinter
from simulator.testing import (
    FAST_BACKOFF,
    LeakSnapshot,
    client_settings,
    connected_client,
    start_printer,
    wait_until,
)

from .scripted_broker import PINGREQ, PUBACK, PUBLISH, ScriptedBroker, packet

pytestmark = pytest.mark.usefixtures("socket_enabled")


class RecordingState(PrinterState):
    """A PrinterState that remembers every message handed to it."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Mapping[str, Any]] = []

    def apply(self, message: Mapping[str, Any], now: float | None = None) -> bool:
        self.messages.append(message)
        return super().apply(message, now)


class Recorder:
    """Collects backoff delays and listener calls."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.availability: list[bool] = []
        self.updates = 0
        self.auth_failures = 0

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(delay)

    def attach(self, client: PrinterClient) -> None:
        client.add_availability_listener(self.availability.append)
        client.add_update_listener(self._update)
        client.add_auth_failure_listener(self._auth_failure)

    def _update(self) -> None:
        self.updates += 1

    def _auth_failure(self) -> None:
        self.auth_failures += 1


def _gcode_state(client: PrinterClient) -> Any:
    return client.state.print_data.get("gcode_state")


# ------------------------------------------------------------------------------ connecting


async def test_connect_receives_full_state_quickly(sim_printer: SimulatedPrinter) -> None:
    client = PrinterClient(client_settings(sim_printer))
    recorder = Recorder()
    recorder.attach(client)
    started = time.monotonic()
    try:
        await client.async_connect(timeout=2)
        elapsed = time.monotonic() - started
        assert elapsed < 2
        assert client.available
        assert recorder.availability == [True]
        assert recorder.updates >= 1
        data = client.state.print_data
        assert data["gcode_state"] in ("PREPARE", "RUNNING")
        assert "ams" in data
        assert "nozzle_temper" in data
        await wait_until(lambda: client.state.versions != {})
        assert client.state.model is not None
        assert client.state.model.name == "P1S"
        assert client.serial == sim_printer.serial
        await client.async_connect()  # already connected: nothing happens
        assert client.connects == 1
    finally:
        await client.async_stop()
    assert recorder.availability == [True, False]


@pytest.mark.parametrize("model", ["X1C", "A1"])
async def test_connect_other_models(leak_check: None, model: str) -> None:
    async with start_printer(model) as printer, connected_client(printer, start=False) as client:
        assert client.state.print_data.get("gcode_state") == "IDLE"


async def test_wrong_access_code_is_auth_error(sim_printer: SimulatedPrinter) -> None:
    client = PrinterClient(client_settings(sim_printer, password="00000000"))
    with pytest.raises(AuthError) as info:
        await client.async_connect(timeout=3)
    assert "00000000" not in str(info.value)
    assert sim_printer.access_code not in str(info.value)
    assert not client.available
    await client.async_stop()


async def test_certificate_from_another_ca_is_tls_error(leak_check: None, tmp_path: Path) -> None:
    stranger = TestCA(tmp_path / "stranger")
    async with start_printer("P1S", cert_ca=stranger) as printer:
        client = PrinterClient(client_settings(printer))
        with pytest.raises(TlsError, match="not accepted"):
            await client.async_connect(timeout=3)
        await client.async_stop()


async def test_certificate_for_another_serial_is_tls_error(leak_check: None) -> None:
    async with start_printer("P1S", cert_name="01P00A000000001") as printer:
        client = PrinterClient(client_settings(printer))
        with pytest.raises(TlsError, match="mismatch"):
            await client.async_connect(timeout=3)
        await client.async_stop()


async def test_server_hostname_overrides_serial(leak_check: None) -> None:
    # The cloud broker's certificate names the broker host, not the printer.
    async with start_printer("P1S", cert_name="broker.example") as printer:
        settings = client_settings(printer, server_hostname="broker.example")
        assert settings.tls_server_hostname == "broker.example"
        async with connected_client(printer, settings=settings) as client:
            assert client.available


async def test_refused_port_is_connect_error(leak_check: None, tmp_path: Path) -> None:
    settings = ConnectionSettings(
        host="127.0.0.1",
        port=free_port(),
        serial="01P00A000000000",
        password="12345678",
        ssl_context=printer_ssl_context_for(tmp_path),
    )
    client = PrinterClient(settings)
    with pytest.raises(ConnectError) as info:
        await client.async_connect(timeout=3)
    assert not isinstance(info.value, ConnectTimeout)
    assert "127.0.0.1" in str(info.value)


def printer_ssl_context_for(tmp_path: Path) -> Any:
    from custom_components.bambu_printer.printer.tls import create_ssl_context  # noqa: PLC0415

    return create_ssl_context(TestCA(tmp_path / "ca").cert_path)


@pytest.mark.usefixtures("no_dns")
async def test_unresolvable_host_is_connect_error(leak_check: None) -> None:
    settings = ConnectionSettings(
        host="printer.invalid", serial="S", password="p", ssl_context=None, port=1
    )
    with pytest.raises(ConnectError):
        await PrinterClient(settings).async_connect(timeout=5)


async def test_silent_server_is_connect_timeout(leak_check: None) -> None:
    async def ignore(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(ignore, "127.0.0.1", 0)
    try:
        settings = ConnectionSettings(
            host="127.0.0.1",
            port=server.sockets[0].getsockname()[1],
            serial="S",
            password="p",
            ssl_context=None,
        )
        with pytest.raises(ConnectTimeout, match=r"0\.3 s"):
            await PrinterClient(settings).async_connect(timeout=0.3)
    finally:
        server.close()
        await server.wait_closed()


async def test_non_tls_server_is_tls_error(leak_check: None, tmp_path: Path) -> None:
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(http, "127.0.0.1", 0)
    try:
        settings = ConnectionSettings(
            host="127.0.0.1",
            port=server.sockets[0].getsockname()[1],
            serial="S",
            password="p",
            ssl_context=printer_ssl_context_for(tmp_path),
        )
        with pytest.raises(TlsError):
            await PrinterClient(settings).async_connect(timeout=3)
    finally:
        server.close()
        await server.wait_closed()


async def test_silent_printer_never_connects(sim_printer: SimulatedPrinter) -> None:
    sim_printer.silent = True
    client = PrinterClient(client_settings(sim_printer))
    with pytest.raises(ConnectTimeout):
        await client.async_connect(timeout=0.5)
    assert not client.available


async def test_cancelled_connect_leaves_nothing(sim_printer: SimulatedPrinter) -> None:
    sim_printer.silent = True
    client = PrinterClient(client_settings(sim_printer))
    task = asyncio.create_task(client.async_start(timeout=5))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not client.available
    await client.async_stop()


async def test_settings_hide_secrets() -> None:
    settings = ConnectionSettings(
        host="10.0.0.2", serial="01P00A000000000", password="s3cr3t-c0de", ssl_context=None
    )
    assert "s3cr3t-c0de" not in repr(settings)
    assert settings.report_topic == "device/01P00A000000000/report"
    assert settings.request_topic == "device/01P00A000000000/request"
    assert settings.tls_server_hostname == "01P00A000000000"
    client = PrinterClient(settings)
    assert "s3cr3t-c0de" not in repr(client)
    assert "01P00A000000000" in repr(client)


async def test_secrets_never_logged(
    sim_printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with connected_client(sim_printer) as client:
        await client.async_request(client.commands.pause())
        await sim_printer.restart_broker()
        await wait_until(lambda: client.connects == 2)
    bad = PrinterClient(client_settings(sim_printer, password="wrong-code-1"))
    with pytest.raises(AuthError):
        await bad.async_connect(timeout=3)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Connected to printer" in text
    assert sim_printer.access_code not in text
    assert "wrong-code-1" not in text


# ------------------------------------------------------------------------------ commands


async def test_pause_resume_stop_round_trip(client: PrinterClient) -> None:
    reply = await client.async_request(client.commands.pause())
    assert reply.ok
    await wait_until(lambda: _gcode_state(client) == "PAUSE")
    reply = await client.async_request(client.commands.resume())
    assert reply.ok
    await wait_until(lambda: _gcode_state(client) in ("RUNNING", "PREPARE"))
    reply = await client.async_request(client.commands.stop())
    assert reply.ok
    await wait_until(lambda: _gcode_state(client) == "FAILED")


async def test_printer_failure_is_command_rejected(client: PrinterClient) -> None:
    await client.async_request(client.commands.stop())
    with pytest.raises(CommandRejected, match="cannot pause"):
        await client.async_request(client.commands.pause())


async def test_reject_control_carries_reason(
    sim_printer: SimulatedPrinter, client: PrinterClient
) -> None:
    sim_printer.reject_control = True
    with pytest.raises(CommandRejected) as info:
        await client.async_request(client.commands.pause())
    assert info.value.reason == "mqtt message verify failed"
    assert _gcode_state(client) != "PAUSE"
    # Reading still works, as on authorization-control firmware.
    reply = await client.async_request(client.commands.get_version())
    assert reply.ok


async def test_silent_printer_request_times_out(
    sim_printer: SimulatedPrinter, client: PrinterClient
) -> None:
    sim_printer.silent = True
    with pytest.raises(CommandTimeout, match="pause"):
        await client.async_request(client.commands.pause(), timeout=0.3)
    assert client.available


async def test_requests_without_reply_and_publish(client: PrinterClient) -> None:
    reply = await client.async_request(client.commands.pushall())
    assert reply.ok
    await client.async_publish(client.commands.pause())  # QoS 1: waits for the PUBACK
    await wait_until(lambda: _gcode_state(client) == "PAUSE")


async def test_not_connected_before_start_and_after_stop(sim_printer: SimulatedPrinter) -> None:
    client = PrinterClient(client_settings(sim_printer))
    commands = CommandFactory()
    with pytest.raises(NotConnected):
        await client.async_request(commands.pause())
    await client.async_start()
    await client.async_stop()
    await client.async_stop()  # idempotent
    with pytest.raises(NotConnected):
        await client.async_request(commands.pause())
    with pytest.raises(NotConnected):
        await client.async_publish(commands.pushall())


async def test_stop_fails_pending_requests(
    sim_printer: SimulatedPrinter, client: PrinterClient
) -> None:
    sim_printer.silent = True
    request = asyncio.create_task(client.async_request(client.commands.pause(), timeout=30))
    await asyncio.sleep(0.2)
    await client.async_stop()
    with pytest.raises(NotConnected):
        await request


async def test_connection_loss_fails_pending_requests(
    sim_printer: SimulatedPrinter, client: PrinterClient
) -> None:
    sim_printer.silent = True
    request = asyncio.create_task(client.async_request(client.commands.pause(), timeout=30))
    await asyncio.sleep(0.2)
    await sim_printer.stop_broker()
    with pytest.raises(NotConnected):
        await request
    sim_printer.silent = False
    await sim_printer.start_broker()
    await wait_until(lambda: client.available)


async def test_shared_command_factory(sim_printer: SimulatedPrinter) -> None:
    commands = CommandFactory(start=100)
    async with connected_client(sim_printer, commands=commands) as client:
        assert client.commands is commands
        assert (await client.async_request(commands.pause())).ok


# ------------------------------------------------------------------------------ reports


async def test_updates_only_when_state_changed(
    sim_printer: SimulatedPrinter, client: PrinterClient
) -> None:
    sim_printer.silent = True  # no periodic reports interfering
    await asyncio.sleep(0.3)
    calls: list[int] = []
    remove = client.add_update_listener(lambda: calls.append(client.state.revision))
    report = {"print": {"command": "push_status", "sequence_id": "1", "nozzle_temper": 77.5}}
    before = client.reports_received
    assert sim_printer.publish_report(report)
    assert sim_printer.publish_report(report)
    await wait_until(lambda: client.reports_received == before + 2)
    assert len(calls) == 1
    remove()
    remove()  # removing twice is harmless
    assert sim_printer.publish_report({"print": {"nozzle_temper": 80.0}})
    await wait_until(lambda: client.reports_received == before + 3)
    assert len(calls) == 1


async def test_listener_errors_do_not_break_the_client(
    sim_printer: SimulatedPrinter, client: PrinterClient, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("listener bug")

    client.add_update_listener(broken)
    client.add_availability_listener(broken)
    await wait_until(lambda: "Update listener failed" in caplog.text)
    await sim_printer.restart_broker()
    await wait_until(lambda: client.connects == 2)
    assert "Availability listener failed" in caplog.text
    assert (await client.async_request(client.commands.pause())).ok


async def test_malformed_reports_are_dropped(
    sim_printer: SimulatedPrinter, client: PrinterClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.bambu_printer.printer.mqtt")
    sim_printer.silent = True
    await asyncio.sleep(0.3)
    before = client.reports_received
    revision = client.state.revision
    assert sim_printer.send_malformed() == 4
    huge = b'{"print": {"x": "' + b"a" * (MAX_REPORT_SIZE + 10) + b'"}}'
    assert sim_printer.publish_raw(huge)
    assert sim_printer.publish_raw(b"[" * 100_000 + b"]" * 100_000)  # deeper than json allows
    assert sim_printer.publish_report({"print": {"nozzle_temper": 12.5}})
    await wait_until(lambda: client.reports_received == before + 1)
    assert client.available
    assert client.connects == 1
    assert client.state.revision == revision + 1
    assert "not valid JSON" in caplog.text
    assert "not a JSON object" in caplog.text
    assert "too large" in caplog.text


async def test_state_errors_are_contained(
    sim_printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenState(PrinterState):
        def apply(self, message: Mapping[str, Any], now: float | None = None) -> bool:
            if "boom" in message:
                raise RuntimeError("state bug")
            return super().apply(message, now)

    async with connected_client(sim_printer, state=BrokenState()) as client:
        assert sim_printer.publish_report({"boom": 1})
        await wait_until(lambda: "Could not merge a report" in caplog.text)
        assert client.available


# ------------------------------------------------------------------------------ reconnecting


async def test_broker_restart_reconnects_with_fresh_state(sim_printer: SimulatedPrinter) -> None:
    state = RecordingState()
    recorder = Recorder()
    async with connected_client(sim_printer, state=state, sleep=recorder.sleep) as client:
        recorder.attach(client)
        await client.async_request(client.commands.pause())
        marker = len(state.messages)
        started = time.monotonic()
        await sim_printer.restart_broker()
        await wait_until(lambda: client.connects == 2, within=3)
        elapsed = time.monotonic() - started
        assert recorder.availability == [False, True]
        assert recorder.delays
        assert FAST_BACKOFF.initial * 0.8 <= recorder.delays[0] <= FAST_BACKOFF.initial * 1.2
        assert elapsed < 3.0
        # A full report (pushall answered again) arrived after the reconnect.
        full = [
            m
            for m in state.messages[marker:]
            if len(m.get("print", {})) > 40 and "ams" in m["print"]
        ]
        assert full
        assert _gcode_state(client) == "PAUSE"
        # Exactly one subscription: each published report arrives once.
        sim_printer.silent = True
        await asyncio.sleep(0.3)
        for index in range(3):
            assert sim_printer.publish_report({"print": {"marker": index}})
        await wait_until(lambda: sum("marker" in m.get("print", {}) for m in state.messages) >= 3)
        await asyncio.sleep(0.3)
        markers = [m["print"]["marker"] for m in state.messages if "marker" in m.get("print", {})]
        assert markers == [0, 1, 2]


async def test_backoff_grows_while_printer_is_down(sim_printer: SimulatedPrinter) -> None:
    recorder = Recorder()
    backoff = Backoff(initial=0.05, maximum=0.2, jitter=0.0)
    async with connected_client(sim_printer, backoff=backoff, sleep=recorder.sleep) as client:
        recorder.attach(client)
        await sim_printer.stop_broker()
        await wait_until(lambda: len(recorder.delays) >= 5, within=5)
        assert recorder.delays[:5] == [0.05, 0.1, 0.2, 0.2, 0.2]
        assert recorder.availability == [False]
        await sim_printer.start_broker()
        await wait_until(lambda: client.available, within=3)
        assert recorder.availability == [False, True]


async def test_backoff_resets_after_a_stable_connection(sim_printer: SimulatedPrinter) -> None:
    delays: list[float] = []
    gate = asyncio.Event()

    async def gated_sleep(delay: float) -> None:
        # Retry only once the broker is back, so every outage costs exactly one delay.
        delays.append(delay)
        await gate.wait()

    async def outage(connects: int) -> None:
        gate.clear()
        await sim_printer.stop_broker()
        await wait_until(lambda: len(delays) == connects)
        await sim_printer.start_broker()
        gate.set()
        await wait_until(lambda: client.connects == connects + 1)

    backoff = Backoff(initial=0.05, maximum=1.0, jitter=0.0)
    async with connected_client(
        sim_printer, backoff=backoff, sleep=gated_sleep, stable_after=0.5
    ) as client:
        await outage(1)
        await outage(2)  # short-lived connection: the delay keeps growing
        await asyncio.sleep(0.6)
        await outage(3)  # stable connection: back to the first delay
        assert delays == [0.05, 0.1, 0.05]


def test_backoff_schedule() -> None:
    backoff = Backoff()
    assert [backoff.delay(n, 0.5) for n in range(6)] == [1, 2, 4, 5, 5, 5]
    assert backoff.delay(100, 0.5) == 5
    assert backoff.delay(0, 0.0) == pytest.approx(0.8)
    assert backoff.delay(0, 0.999999) == pytest.approx(1.2, abs=1e-5)
    assert backoff.delay(10, 0.0) == pytest.approx(4)


async def test_changed_access_code_stops_retrying_and_asks_for_reauth(
    sim_printer: SimulatedPrinter,
) -> None:
    recorder = Recorder()
    async with connected_client(sim_printer, sleep=recorder.sleep) as client:
        recorder.attach(client)
        # Mosquitto re-checks connected clients when it reloads the passwords: the session
        # with the old code is closed, and the reconnect with it is refused.
        await sim_printer.set_access_code("99999999")
        await wait_until(lambda: recorder.auth_failures == 1)
        attempts = len(recorder.delays)
        await asyncio.sleep(0.5)
        assert len(recorder.delays) == attempts  # no more retries
        assert recorder.availability == [False]
        assert not client.available
        with pytest.raises(NotConnected):
            await client.async_request(client.commands.pause())
    # A client with the new code gets in.
    settings = client_settings(sim_printer, password="99999999")
    async with connected_client(sim_printer, settings=settings) as fresh:
        assert fresh.available


async def test_auth_listener_errors_are_contained(
    sim_printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    async with connected_client(sim_printer) as client:

        def broken() -> None:
            raise RuntimeError("listener bug")

        client.add_auth_failure_listener(broken)
        await sim_printer.set_access_code("11111111")
        await wait_until(lambda: "Auth failure listener failed" in caplog.text)


async def test_silent_printer_is_detected_and_reconnected(
    sim_printer: SimulatedPrinter,
) -> None:
    recorder = Recorder()
    settings = client_settings(sim_printer, keepalive=1)
    async with connected_client(sim_printer, settings=settings, sleep=recorder.sleep) as client:
        recorder.attach(client)
        sim_printer.silent = True
        requests = sim_printer.requests_received
        await wait_until(lambda: recorder.availability == [False], within=5)
        # It asked for the state (pushall) before giving up on the link.
        assert sim_printer.requests_received > requests
        sim_printer.silent = False
        await wait_until(lambda: client.available, within=5)


async def test_connect_only_client_does_not_reconnect(sim_printer: SimulatedPrinter) -> None:
    recorder = Recorder()
    async with connected_client(sim_printer, start=False, sleep=recorder.sleep) as client:
        recorder.attach(client)
        await sim_printer.restart_broker()
        await wait_until(lambda: recorder.availability == [False])
        await asyncio.sleep(0.3)
        assert recorder.delays == []
        assert not client.available


async def test_stop_leaves_nothing_behind(leak_check: None) -> None:
    snapshot = LeakSnapshot()
    async with start_printer("X1C", printing=True) as printer:
        client = PrinterClient(
            client_settings(printer, keepalive=1), backoff=FAST_BACKOFF, sleep=asyncio.sleep
        )
        await client.async_start()
        await client.async_request(client.commands.pause())
        await printer.stop_broker()  # the client is now in its backoff loop
        await asyncio.sleep(0.2)
        await client.async_stop()
        assert not client.available
    assert await snapshot.leftovers() == []


@pytest.mark.parametrize(("code", "error"), [(4, AuthError), (5, AuthError), (3, ConnectError)])
async def test_connack_codes(leak_check: None, code: int, error: type[BambuError]) -> None:
    async with ScriptedBroker(connack=code) as broker:
        with pytest.raises(error, match="refused"):
            await PrinterClient(broker.settings()).async_connect(timeout=2)


async def test_malformed_mqtt_after_connect_drops_the_link(leak_check: None) -> None:
    recorder = Recorder()
    # A PUBLISH too short for its topic: paho fails on it, the link ends, the connect fails.
    async with ScriptedBroker(after_subscribe=b"\x36\x00") as broker:
        client = PrinterClient(broker.settings(), backoff=FAST_BACKOFF, sleep=recorder.sleep)
        recorder.attach(client)
        with pytest.raises(ProtocolError, match="unreadable MQTT data"):
            await client.async_start(timeout=2)
        assert recorder.availability == []
        await client.async_stop()


async def test_qos1_reports_are_acknowledged(leak_check: None) -> None:
    async with ScriptedBroker(report_qos=1) as broker:
        client = PrinterClient(broker.settings())
        try:
            await client.async_connect(timeout=2)
            await wait_until(lambda: broker.pubacks == [5])
            assert client.reports_received == 1  # the other topic was ignored
        finally:
            await client.async_stop()


async def test_missing_pingresp_drops_the_link(leak_check: None) -> None:
    recorder = Recorder()
    async with ScriptedBroker(answer_pings=False) as broker:
        client = PrinterClient(
            broker.settings(keepalive=1), backoff=FAST_BACKOFF, sleep=recorder.sleep
        )
        recorder.attach(client)
        try:
            await client.async_start(timeout=2)
            await wait_until(lambda: recorder.availability[:2] == [True, False], within=5)
            assert PINGREQ in broker.kinds()
        finally:
            await client.async_stop()


@pytest.mark.parametrize("behaviour", ["close", "reset"])
async def test_broker_hanging_up_during_handshake(leak_check: None, behaviour: str) -> None:
    async with ScriptedBroker(on_connect=behaviour) as broker:
        with pytest.raises(ConnectError, match="connection closed"):
            await PrinterClient(broker.settings()).async_connect(timeout=2)


async def test_packets_right_after_connack_are_kept(leak_check: None) -> None:
    stray = packet(PUBACK, b"\x00\x63")  # an acknowledgement nobody waits for: ignored
    async with ScriptedBroker(on_connect="connack+pingresp", after_subscribe=stray) as broker:
        client = PrinterClient(broker.settings())
        try:
            await client.async_connect(timeout=2)
            assert client.available
        finally:
            await client.async_stop()


async def test_reset_link_reconnects(leak_check: None) -> None:
    recorder = Recorder()
    async with ScriptedBroker() as broker:
        client = PrinterClient(broker.settings(), backoff=FAST_BACKOFF, sleep=recorder.sleep)
        recorder.attach(client)
        try:
            await client.async_start(timeout=2)
            broker.reset_all()
            await wait_until(lambda: client.connects == 2)
            assert recorder.availability == [True, False, True]
        finally:
            await client.async_stop()


async def test_partial_first_report_is_accepted_after_a_grace(
    leak_check: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Firmware whose pushall answer lacks some of the usual fields still connects.
    monkeypatch.setattr(mqtt_module, "_FULL_REPORT_GRACE", 0.3)
    monkeypatch.setattr(mqtt_module, "_PUSHALL_RETRY", 0.1)
    async with ScriptedBroker(report={"gcode_state": "IDLE"}) as broker:
        client = PrinterClient(broker.settings())
        started = time.monotonic()
        try:
            await client.async_connect(timeout=2)
            assert 0.3 <= time.monotonic() - started < 1.5
            pushalls = [
                received
                for received in broker.received
                if received.kind == PUBLISH and b"pushall" in received.payload
            ]
            assert len(pushalls) == 2  # asked once more before settling for a delta
            assert client.state.print_data.get("gcode_state") == "IDLE"
        finally:
            await client.async_stop()


async def test_connect_waits_for_the_full_report(sim_printer: SimulatedPrinter) -> None:
    for _ in range(3):
        state = RecordingState()
        async with connected_client(sim_printer, state=state, start=False):
            assert any(len(m.get("print", {})) > 40 for m in state.messages)
