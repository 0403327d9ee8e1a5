"""Fixtures for the simulator's own tests."""

from collections.abc import AsyncIterator

import pytest

from simulator.device import SimulatedPrinter
from simulator.testing import LeakSnapshot, start_printer


@pytest.fixture
async def leak_check(socket_enabled: None) -> AsyncIterator[None]:
    """Allow loopback sockets; fail the test if it leaves a task or mosquitto behind."""
    snapshot = LeakSnapshot()
    yield
    assert await snapshot.leftovers() == []


@pytest.fixture
async def sim_printer(leak_check: None) -> AsyncIterator[SimulatedPrinter]:
    """An idle P1S reporting every 0.2 s."""
    async with start_printer("P1S") as printer:
        yield printer
