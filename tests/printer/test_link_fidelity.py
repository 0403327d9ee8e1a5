"""The link behaving like real printers do (issue 13): refused subscriptions, odd bytes, TLS.

Each test here failed before the fix it covers; the facts and their sources are in
docs/protocol.md ("Connection, TLS and the report stream").
"""

import time

import pytest

from custom_components.bambu_printer.printer.errors import (
    AuthError,
    ConnectError,
    SubscriptionRefused,
)
from custom_components.bambu_printer.printer.mqtt import PrinterClient
from simulator.testing import FAST_BACKOFF, connected_client, start_printer, wait_until

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


@pytest.mark.parametrize("model", ["P1P", "A1MINI"])
async def test_report_with_bytes_that_are_not_utf8_is_kept(leak_check: None, model: str) -> None:
    """A P1/A1 preparing a job sends a file name that is not UTF-8; the report still counts."""
    # At real speed the preparation (and its odd file name) lasts long enough to connect.
    async with start_printer(model, printing=True, speedup=1.0) as printer:
        started = time.monotonic()
        async with connected_client(printer, start=False) as client:
            assert time.monotonic() - started < 1.0  # the full report was taken at once
            data = client.state.print_data
            assert data["gcode_state"] == "PREPARE"
            assert data["gcode_file"] == "\ufffdBenchy.gcode"
            assert client.state.job.file == "\ufffdBenchy.gcode"
