"""The link behaving like real printers do (issue 13): refused subscriptions, odd bytes, TLS.

Each test here failed before the fix it covers; the facts and their sources are in
docs/protocol.md ("Connection, TLS and the report stream").
"""

import asyncio
import json
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from custom_components.bambu_printer.printer.errors import (
    AuthError,
    ConnectError,
    SubscriptionRefused,
)
from custom_components.bambu_printer.printer.mqtt import PrinterClient
from custom_components.bambu_printer.printer.mqtt_link import open_mqtt_link
from custom_components.bambu_printer.printer.tls import (
    create_public_ssl_context,
    create_ssl_context,
)
from simulator.ca import TestCA
from simulator.testing import (
    FAST_BACKOFF,
    connected_client,
    printer_ssl_context,
    start_printer,
    wait_until,
)

from .scripted_broker import ScriptedBroker
from .test_client import Recorder

pytestmark = pytest.mark.usefixtures("socket_enabled")


# ------------------------------------------------------------------------------ subscription


async def test_refused_subscription_is_not_an_auth_error(
    leak_check: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The login was accepted: a refused subscription says nothing about the access code."""
    async with ScriptedBroker(suback=0x80) as broker:
        with pytest.raises(SubscriptionRefused, match="subscription") as info:
            await PrinterClient(broker.settings()).async_connect(timeout=2)
    assert not isinstance(info.value, AuthError)
    assert isinstance(info.value, ConnectError)
    assert "refused the subscription to its reports" in caplog.text
    assert "access code" in caplog.text


async def test_refused_subscription_on_reconnect_keeps_retrying(leak_check: None) -> None:
    """A refusal after a reconnect is retried with backoff; no auth-failure listener runs."""
    recorder = Recorder()
    async with ScriptedBroker() as broker:
        client = PrinterClient(broker.settings(), backoff=FAST_BACKOFF, sleep=recorder.sleep)
        recorder.attach(client)
        try:
            await client.async_start(timeout=2)
            broker.suback = 0x80
            broker.reset_all()
            await wait_until(lambda: len(recorder.delays) >= 3)
            assert recorder.auth_failures == 0
            assert not client.available
            broker.suback = 0
            await wait_until(lambda: client.available)
            assert recorder.auth_failures == 0
        finally:
            await client.async_stop()


# ------------------------------------------------------------------------------ odd bytes


@pytest.mark.parametrize(
    ("model", "loads"), [("P1P", json.loads), ("A1MINI", json.loads), ("P1P", orjson.loads)]
)
async def test_report_with_bytes_that_are_not_utf8_is_kept(
    leak_check: None, model: str, loads: Callable[[bytes | str], Any]
) -> None:
    """A P1/A1 preparing a job sends a file name that is not UTF-8; the report still counts.

    Also with the orjson parser Home Assistant hands in, which refuses such bytes outright.
    """
    # At real speed the preparation (and its odd file name) lasts long enough to connect.
    async with start_printer(model, printing=True, speedup=1.0) as printer:
        started = time.monotonic()
        async with connected_client(printer, start=False, loads=loads) as client:
            assert time.monotonic() - started < 1.0  # the full report was taken at once
            data = client.state.print_data
            assert data["gcode_state"] == "PREPARE"
            assert data["gcode_file"] == "\ufffdBenchy.gcode"
            assert client.state.job.file == "\ufffdBenchy.gcode"


# ------------------------------------------------------------------------------ TLS versions


def test_printer_contexts_stop_at_tls12(tmp_path: Path) -> None:
    """Printer connections (MQTT, camera) offer TLS 1.2 only: every printer accepts it."""
    ca = TestCA(tmp_path)
    for context in (create_ssl_context(), create_ssl_context(ca.cert_path)):
        assert context.minimum_version is ssl.TLSVersion.TLSv1_2
        assert context.maximum_version is ssl.TLSVersion.TLSv1_2


def test_cloud_context_is_not_capped() -> None:
    """Bambu's cloud HTTPS and broker are no printer: they keep TLS 1.3."""
    assert create_public_ssl_context().maximum_version is ssl.TLSVersion.MAXIMUM_SUPPORTED


async def test_connects_to_a_p2s_that_ignores_tls13(leak_check: None) -> None:
    """A P2S on firmware 01.02.00.00 never answers a TLS 1.3 ClientHello; we connect anyway."""
    async with start_printer("P2S") as printer:
        started = time.monotonic()
        async with connected_client(printer, start=False, connect_timeout=3.0) as client:
            assert client.available
            assert time.monotonic() - started < 2.0
            assert client.state.print_data["gcode_state"] == "IDLE"


# ------------------------------------------------------------------------------ push stream


@pytest.mark.parametrize("model", ["P1S", "X1C"])
async def test_push_stream_stopped_by_another_client_is_restarted(
    leak_check: None, model: str
) -> None:
    """Another client sends `pushing.stop`; the client notices the silence and restarts it."""
    async with (
        start_printer(model, printing=True) as printer,
        connected_client(printer, restart_pushes_after=0.6) as client,
    ):
        other = await open_mqtt_link(
            host=printer.host,
            port=printer.port,
            client_id="another-client",
            username="bblp",
            password=printer.access_code,
            ssl_context=printer_ssl_context(printer),
            server_hostname=printer.serial,
            on_message=lambda _topic, _payload: None,
        )
        try:
            await other.publish(
                printer.request_topic, b'{"pushing":{"sequence_id":"1","command":"stop"}}'
            )
            await wait_until(lambda: not printer.engine.pushing)
            stopped_at = time.monotonic()
            await wait_until(lambda: printer.engine.pushing, 3.0)
            assert time.monotonic() - stopped_at < 2.0  # not the minute a pushall waits
            received = client.reports_received
            await wait_until(lambda: client.reports_received >= received + 3, 3.0)
            assert client.available
        finally:
            await other.close()


async def test_pushes_that_keep_coming_are_not_restarted(leak_check: None) -> None:
    """While reports arrive, no `pushing.start` is sent (it costs the printer a full report)."""
    async with (
        start_printer("P1S", printing=True) as printer,
        connected_client(printer, restart_pushes_after=0.6) as client,
    ):
        # The client's own get_version may still be on its way: count from its answer on.
        await wait_until(lambda: bool(client.state.versions))
        requests = printer.requests_received
        await asyncio.sleep(1.5)
        assert printer.requests_received == requests
