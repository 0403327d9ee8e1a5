"""Fixtures for the protocol library's network tests: a simulated printer and a client."""

from collections.abc import AsyncIterator

import pytest

from custom_components.bambu_printer.printer.mqtt import PrinterClient
from simulator.device import SimulatedPrinter
from simulator.testing import LeakSnapshot, connected_client, start_printer


@pytest.fixture
async def leak_check(socket_enabled: None) -> AsyncIterator[None]:
    """Allow loopback sockets; fail the test if it leaves a task or mosquitto behind."""
    snapshot = LeakSnapshot()
    yield
    assert await snapshot.leftovers() == []


@pytest.fixture
async def sim_printer(leak_check: None) -> AsyncIterator[SimulatedPrinter]:
    """A P1S (delta reports) in the middle of a print, reporting every 0.2 s."""
    async with start_printer("P1S", printing=True) as printer:
        yield printer


@pytest.fixture
async def client(sim_printer: SimulatedPrinter) -> AsyncIterator[PrinterClient]:
    """A started client (fast reconnect backoff) connected to ``sim_printer``."""
    async with connected_client(sim_printer) as client:
        yield client
