"""Fixtures shared by the Home Assistant level tests."""

import asyncio
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

# Import our package before Home Assistant starts, so the test plugin's own
# `custom_components` package cannot shadow it.
import custom_components.bambu_printer  # noqa: F401
from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_CONNECTION,
    CONF_MODEL,
    CONF_SERIAL,
    CONNECTION_LOCAL,
    DOMAIN,
    ENV_CA_FILE,
)
from custom_components.bambu_printer.printer.tls import clear_ssl_context_cache
from simulator.device import SimulatedPrinter
from simulator.testing import start_printer


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Make sure a current event loop exists before the test's fixtures run.

    The Home Assistant plugin's autouse fixtures ask for the current loop in every test;
    code that ends with `asyncio.run()` (the simulator's command line) leaves none behind.
    """
    with warnings.catch_warnings():
        # Creating the first loop implicitly is deprecated; that is what we replace here.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            asyncio.set_event_loop(asyncio.new_event_loop())


@pytest.fixture(autouse=True)
def _enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant load this custom integration in every test that starts `hass`."""
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
async def printer(socket_enabled: None) -> AsyncIterator[SimulatedPrinter]:
    """Run a simulated P1S (its own TLS Mosquitto on loopback) for the test."""
    async with start_printer("P1S") as simulated:
        yield simulated


@pytest.fixture
def trust_simulator(printer: SimulatedPrinter, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust the simulator's test CA instead of Bambu's (its printers cannot hold Bambu certs)."""
    monkeypatch.setenv(ENV_CA_FILE, str(printer.ca_path))
    clear_ssl_context_cache()


def entry_data(printer: SimulatedPrinter, **overrides: Any) -> dict[str, Any]:
    """Return config entry data pointing at a simulated printer."""
    return {
        CONF_HOST: printer.host,
        CONF_PORT: printer.port,
        CONF_SERIAL: printer.serial,
        CONF_ACCESS_CODE: printer.access_code,
        CONF_CONNECTION: CONNECTION_LOCAL,
        CONF_MODEL: printer.model,
        **overrides,
    }


def make_entry(printer: SimulatedPrinter, **options: Any) -> MockConfigEntry:
    """Return a config entry (not yet added) for a simulated printer."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"{printer.model} {printer.serial}",
        unique_id=printer.serial,
        data=entry_data(printer),
        options=options,
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add the entry to Home Assistant, set it up and wait until its entities exist."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, printer: SimulatedPrinter, trust_simulator: None
) -> AsyncIterator[MockConfigEntry]:
    """A printer entry set up against the simulator; unloaded after the test."""
    entry = await setup_entry(hass, make_entry(printer))
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
