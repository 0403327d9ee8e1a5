"""How PrinterClient gets back to a printer that was away: cheap probes, retry on request.

Against the simulated printer's real Mosquitto on loopback, stopped and started on its port.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from custom_components.bambu_printer.printer import mqtt as mqtt_module
from custom_components.bambu_printer.printer.mqtt import Backoff, PrinterClient
from simulator.device import SimulatedPrinter
from simulator.testing import client_settings, connected_client, wait_until

pytestmark = pytest.mark.usefixtures("socket_enabled")


class GatedSleep:
    """A backoff sleep that records its delays and returns only when the gate opens."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.gate = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await self.gate.wait()


def count_full_attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every MQTT session the client opens (TLS handshake and all) by its host."""
    opened: list[str] = []
    real: Callable[..., Awaitable[Any]] = mqtt_module.open_mqtt_link

    async def counting(**kwargs: Any) -> Any:
        opened.append(kwargs["host"])
        return await real(**kwargs)

    monkeypatch.setattr(mqtt_module, "open_mqtt_link", counting)
    return opened


async def test_absent_printer_gets_probes_not_sessions(
    sim_printer: SimulatedPrinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the port refuses connections no TLS/MQTT session (executor thread) is tried."""
    backoff = Backoff(initial=0.02, maximum=0.05, jitter=0.0)
    async with connected_client(sim_printer, backoff=backoff) as client:
        opened = count_full_attempts(monkeypatch)
        await sim_printer.stop_broker()
        await wait_until(lambda: not client.available)
        await asyncio.sleep(0.5)  # about ten scheduled attempts
        assert opened == []
        await sim_printer.start_broker()
        await wait_until(lambda: client.available, 5)
        assert opened == [sim_printer.host]


async def test_retry_now_skips_the_wait(sim_printer: SimulatedPrinter) -> None:
    """A client waiting for its next retry tries at once when asked, and is back."""
    sleep = GatedSleep()  # the scheduled retry never comes by itself
    async with connected_client(sim_printer, sleep=sleep) as client:
        await sim_printer.stop_broker()
        await wait_until(lambda: len(sleep.delays) == 1)
        await client.async_retry_now()  # the port still refuses: one more failed attempt
        assert not client.available
        await wait_until(lambda: len(sleep.delays) == 2)
        await sim_printer.start_broker()
        await client.async_retry_now()
        assert client.available
        assert client.connects == 2


async def test_retry_now_does_nothing_when_connected_or_stopped(
    sim_printer: SimulatedPrinter,
) -> None:
    """Connected, or never started: nothing to retry, it returns at once."""
    async with connected_client(sim_printer) as client:
        async with asyncio.timeout(0.5):
            await client.async_retry_now()
        assert client.connects == 1
    stopped = PrinterClient(client_settings(sim_printer))
    async with asyncio.timeout(0.5):
        await stopped.async_retry_now()
    assert not stopped.available


async def test_port_answering_without_mqtt_is_retried(
    sim_printer: SimulatedPrinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A port that takes the probe but no MQTT session (still booting) is retried until up."""
    backoff = Backoff(initial=0.02, maximum=0.05, jitter=0.0)
    async with connected_client(sim_printer, backoff=backoff) as client:
        opened = count_full_attempts(monkeypatch)
        await sim_printer.stop_broker()
        await wait_until(lambda: not client.available)

        async def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        booting = await asyncio.start_server(hang_up, sim_printer.host, sim_printer.port)
        async with booting:
            await wait_until(lambda: len(opened) >= 2)
            assert not client.available
        await booting.wait_closed()
        await sim_printer.start_broker()
        await wait_until(lambda: client.available, 5)
