"""The paho-mqtt link on the event loop: real Mosquitto with TLS, and a scripted broker."""

import asyncio
import socket
import ssl
from typing import Any

import pytest

from custom_components.bambu_printer.printer.errors import (
    CommandTimeout,
    ConnectError,
    NotConnected,
    TlsError,
)
from custom_components.bambu_printer.printer.mqtt_link import MqttLink, open_mqtt_link
from simulator.device import SimulatedPrinter
from simulator.testing import printer_ssl_context, wait_until

from .scripted_broker import DISCONNECT, ScriptedBroker

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def _open(
    printer: SimulatedPrinter, received: list[tuple[str, bytes]], **kwargs: object
) -> MqttLink:
    options: dict[str, object] = {
        "host": printer.host,
        "port": printer.port,
        "client_id": "direct",
        "username": "bblp",
        "password": printer.access_code,
        "ssl_context": printer_ssl_context(printer),
        "server_hostname": printer.serial,
        "on_message": lambda topic, payload: received.append((topic, payload)),
    }
    options.update(kwargs)
    return await open_mqtt_link(**options)  # type: ignore[arg-type]


async def _open_plain(port: int, **kwargs: Any) -> MqttLink:
    """Open a plain-TCP link to a loopback broker (the scripted one takes any login)."""
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "client_id": "c",
        "username": "u",
        "password": "p",
        "ssl_context": None,
        "on_message": lambda _topic, _payload: None,
    }
    options.update(kwargs)
    return await open_mqtt_link(**options)


async def test_link_round_trip(sim_printer: SimulatedPrinter) -> None:
    received: list[tuple[str, bytes]] = []
    link = await _open(sim_printer, received)
    assert await link.subscribe([(sim_printer.report_topic, 1)]) == (1,)
    await link.publish(sim_printer.request_topic, b'{"pushing": {"command": "pushall"}}')
    await wait_until(lambda: len(received) >= 1)
    assert received[0][0] == sim_printer.report_topic
    await link.publish(sim_printer.request_topic, b"{}", qos=1)
    await link.close()
    assert link.closed
    assert await link.wait_closed() is None
    with pytest.raises(NotConnected):
        await link.publish(sim_printer.request_topic, b"{}")
    with pytest.raises(NotConnected):
        await link.subscribe([(sim_printer.report_topic, 0)])
    await link.close()  # idempotent


async def test_many_reports_in_one_tls_record_all_arrive(sim_printer: SimulatedPrinter) -> None:
    # Mosquitto packs small messages sent back to back into one TLS record; paho reads one
    # packet per call, so the link must keep reading what OpenSSL already decrypted.
    received: list[tuple[str, bytes]] = []
    sim_printer.silent = True
    link = await _open(sim_printer, received)
    await link.subscribe([(sim_printer.report_topic, 0)])
    for index in range(300):
        assert sim_printer.publish_raw(b'{"n": %d}' % index)
    await wait_until(lambda: len(received) == 300)
    await link.close()


async def test_the_certificate_must_name_the_serial(sim_printer: SimulatedPrinter) -> None:
    with pytest.raises(TlsError, match="not accepted"):
        await _open(sim_printer, [], server_hostname="SOMEONE-ELSE")


async def test_a_closed_connection_is_said_in_plain_words(
    sim_printer: SimulatedPrinter,
) -> None:
    """MQTT 3.1.1 gives no reason for a closed socket; paho's "Unspecified error" says nothing."""
    link = await _open(sim_printer, [])
    await sim_printer.stop_broker()
    reason = await asyncio.wait_for(link.wait_closed(), 5)
    assert isinstance(reason, ConnectError)
    assert str(reason) == "the connection closed"
    await link.close()


async def test_handler_errors_are_logged(
    sim_printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(_topic: str, _payload: bytes) -> None:
        raise ValueError("bug")

    link = await _open(sim_printer, [], on_message=failing)
    await link.subscribe([(sim_printer.report_topic, 0)])
    await wait_until(lambda: "error while handling a message" in caplog.text)
    assert not link.closed
    await link.close()


async def test_close_callback_errors_are_logged(
    sim_printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(_reason: BaseException | None) -> None:
        raise RuntimeError("bug")

    link = await _open(sim_printer, [])
    link.add_close_callback(failing)
    await link.close()
    assert "close callback failed" in caplog.text


async def test_silence_is_noticed_then_ends_the_link(leak_check: None) -> None:
    async with ScriptedBroker() as broker:
        link = await _open_plain(broker.port, keepalive=1)
        quiet: list[bool] = []
        link.watch_silence(0.6, lambda: quiet.append(True))
        reason = await asyncio.wait_for(link.wait_closed(), 5)
        assert quiet == [True]
        assert isinstance(reason, ConnectError)
        assert "link stale" in str(reason)
        await link.close()


async def test_missing_puback_times_out(leak_check: None) -> None:
    async with ScriptedBroker() as broker:
        link = await _open_plain(broker.port)
        with pytest.raises(CommandTimeout, match="acknowledgement"):
            await link.publish("device/S/request", b"{}", qos=1, ack_timeout=0.2)
        await link.close()
        assert link.closed
        await wait_until(lambda: DISCONNECT in broker.kinds())


async def test_cancelled_open_leaves_no_socket(leak_check: None) -> None:
    # A listener that never accepts: the connect hangs in the executor until cancelled.
    with socket.create_server(("127.0.0.1", 0), backlog=0) as server:
        port = server.getsockname()[1]
        opening = asyncio.ensure_future(
            _open_plain(
                port,
                ssl_context=ssl.create_default_context(),
                server_hostname="S",
                keepalive=1,  # bounds the handshake the executor thread is stuck in
            )
        )
        await asyncio.sleep(0.2)
        opening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await opening


async def test_refused_connection_is_a_connect_error(leak_check: None) -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    with pytest.raises(ConnectError, match="cannot connect"):
        await _open_plain(port, username=None, password=None)
