"""A running printer entry against the simulator: outages, reconnects, reauth, setup errors.

How entities, controls and diagnostics map the printer's state (a whole print included) is
tested with a mocked client: `tests/test_init.py` and the platform tests.
"""

import asyncio
import logging
import re
import time
from collections.abc import Callable

import pytest
from homeassistant.components.homeassistant import DOMAIN as HA_DOMAIN
from homeassistant.components.homeassistant import SERVICE_UPDATE_ENTITY
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer import connection
from custom_components.bambu_printer.const import DOMAIN
from custom_components.bambu_printer.printer.mqtt import Backoff
from simulator.device import SimulatedPrinter
from simulator.testing import wait_until

from .conftest import make_entry, setup_entry


def entity_id(hass: HomeAssistant, entry: MockConfigEntry, domain: str, key: str) -> str:
    """Return the entity id of `<serial>_<key>`."""
    found = er.async_get(hass).async_get_entity_id(domain, DOMAIN, f"{entry.unique_id}_{key}")
    assert found is not None, key
    return found


# The client logs each scheduled reconnect attempt (at debug) with its delay.
RETRY_DELAY = re.compile(r"Reconnecting to printer \S+ in ([0-9.]+) s")
# Issue 17: after the printer answers again, entities are back within this many seconds.
RECOVERY_TARGET = 10.0


def retry_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    """Return the reconnect delays the client has scheduled so far, in order."""
    return [float(delay) for delay in RETRY_DELAY.findall(caplog.text)]


async def wait_for_retries(
    caplog: pytest.LogCaptureFixture, count: int, *, at_least: float = 0.0, within: float
) -> float:
    """Wait until the client has scheduled ``count`` retries, the last ``at_least`` s away.

    Returns that last delay. The attempt before it has just failed, so the printer coming
    back now is the worst case: the whole delay lies ahead.
    """
    async with asyncio.timeout(within):
        while True:
            delays = retry_delays(caplog)
            if len(delays) >= count and delays[-1] >= at_least:
                return delays[-1]
            await asyncio.sleep(0.01)


def retries_to_cap(backoff: Backoff) -> int:
    """Return how many retries it takes until the delay is the backoff's cap."""
    return next(n for n in range(64) if backoff.delay(n, 0.5) >= backoff.maximum) + 1


def refused_logins(printer: SimulatedPrinter) -> int:
    """Count the logins the printer's broker refused (it logs each one)."""
    return printer.broker.log_path.read_text(encoding="utf-8").count("not authorised")


def our_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return what the integration logged at warning level or above."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.bambu_printer")
        and record.levelno >= logging.WARNING
    ]


@pytest.mark.usefixtures("trust_simulator")
async def test_broker_restart_unavailable_then_back(
    hass: HomeAssistant, printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    """While the printer is off, entities are unavailable; they come back on their own."""
    entry = await setup_entry(hass, make_entry(printer))
    nozzle = entity_id(hass, entry, "sensor", "nozzle_temperature")
    online = entity_id(hass, entry, "binary_sensor", "online")

    await printer.stop_broker()
    await wait_until(lambda: hass.states.get(nozzle).state == STATE_UNAVAILABLE)  # type: ignore[union-attr]
    assert hass.states.get(online).state == STATE_OFF  # type: ignore[union-attr]
    await printer.start_broker()
    await wait_until(lambda: hass.states.get(nozzle).state != STATE_UNAVAILABLE, 10)  # type: ignore[union-attr]
    assert hass.states.get(online).state == STATE_ON  # type: ignore[union-attr]

    assert caplog.text.count("is unavailable (the connection closed)") == 1
    assert caplog.text.count("is back online") == 1
    # Printers are switched off every day: that is an info line, not a warning (log once, HA's
    # quality scale rule "log-when-unavailable").
    assert our_warnings(caplog) == []
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_recovery_after_a_long_outage_within_10_s(
    hass: HomeAssistant,
    printer: SimulatedPrinter,
    caplog: pytest.LogCaptureFixture,
    record_property: Callable[[str, object], None],
) -> None:
    """An outage long enough for the backoff to reach its cap still recovers within 10 s.

    The broker comes back right after a failed attempt scheduled the next one at the cap:
    the worst moment for the printer to answer again.
    """
    entry = await setup_entry(hass, make_entry(printer))
    nozzle = entity_id(hass, entry, "sensor", "nozzle_temperature")

    await printer.stop_broker()
    await wait_until(lambda: hass.states.get(nozzle).state == STATE_UNAVAILABLE)  # type: ignore[union-attr]
    outage_started = time.monotonic()
    backoff = Backoff()  # what the integration uses
    count = retries_to_cap(backoff) + 1  # a failed attempt at the cap, then the next delay
    delay = await wait_for_retries(caplog, count, within=count * 1.2 * backoff.maximum + 60)
    await printer.start_broker()
    answering = time.monotonic()
    await wait_until(
        lambda: hass.states.get(nozzle).state != STATE_UNAVAILABLE,  # type: ignore[union-attr]
        RECOVERY_TARGET,
    )
    recovery = time.monotonic() - answering
    outage = answering - outage_started
    print(f"outage {outage:.1f} s (next retry was {delay:.1f} s away): back in {recovery:.2f} s")  # noqa: T201
    record_property("recovery_seconds", round(recovery, 2))
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_refresh_reconnects_at_once_when_offline(
    hass: HomeAssistant, printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    """homeassistant.update_entity on an offline printer tries to reconnect right away."""
    assert await async_setup_component(hass, HA_DOMAIN, {})
    entry = await setup_entry(hass, make_entry(printer))
    nozzle = entity_id(hass, entry, "sensor", "nozzle_temperature")

    await printer.stop_broker()
    await wait_until(lambda: hass.states.get(nozzle).state == STATE_UNAVAILABLE)  # type: ignore[union-attr]
    delay = await wait_for_retries(caplog, 1, at_least=3.0, within=30)
    await printer.start_broker()
    started = time.monotonic()
    await hass.services.async_call(
        HA_DOMAIN, SERVICE_UPDATE_ENTITY, {ATTR_ENTITY_ID: nozzle}, blocking=True
    )
    await wait_until(lambda: hass.states.get(nozzle).state != STATE_UNAVAILABLE, 1.5)  # type: ignore[union-attr]
    assert time.monotonic() - started < delay  # sooner than the scheduled retry
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_home_assistant_stop_is_no_outage(
    hass: HomeAssistant, printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    """Stopping Home Assistant closes the link without reporting an outage or an error."""
    entry = await setup_entry(hass, make_entry(printer))
    client = entry.runtime_data.coordinator.client
    await hass.async_stop()
    assert not client.available
    assert "reconnecting in the background" not in caplog.text
    assert our_warnings(caplog) == []
    # The test harness unloads the entry after the stop, which Home Assistant itself does not.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert [record.getMessage() for record in caplog.records if record.levelname == "ERROR"] == []


@pytest.mark.usefixtures("trust_simulator")
async def test_silent_printer_goes_unavailable(
    hass: HomeAssistant, printer: SimulatedPrinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A printer that stops reporting (but keeps the socket) is detected and recovered."""
    monkeypatch.setattr(connection, "KEEPALIVE", 1)
    entry = await setup_entry(hass, make_entry(printer))
    nozzle = entity_id(hass, entry, "sensor", "nozzle_temperature")

    printer.silent = True
    await wait_until(lambda: hass.states.get(nozzle).state == STATE_UNAVAILABLE, 15)  # type: ignore[union-attr]
    printer.silent = False
    await wait_until(lambda: hass.states.get(nozzle).state != STATE_UNAVAILABLE, 15)  # type: ignore[union-attr]
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_access_code_change_starts_reauth(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A printer that refuses the stored code leads to one reauth flow, not a crash loop."""
    entry = await setup_entry(hass, make_entry(printer))
    await printer.set_access_code("changed1")
    await printer.restart_broker()  # the printer drops clients; the old code is refused

    await wait_until(lambda: bool(entry.async_get_active_flows(hass, {"reauth"})), 15)
    await wait_until(lambda: refused_logins(printer) >= 1)  # mosquitto's log trails a little
    refused_before = refused_logins(printer)
    # Longer than the first two reconnect delays (1 s, 2 s): the client must not retry
    # with a code the printer refused.
    await asyncio.sleep(3.5)
    await hass.async_block_till_done()
    assert refused_logins(printer) == refused_before
    assert len(list(entry.async_get_active_flows(hass, {"reauth"}))) == 1
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_setup_retries_when_unreachable(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A printer that is off when Home Assistant starts is retried later, not failed."""
    await printer.stop_broker()
    entry = make_entry(printer)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_setup_with_refused_code_asks_for_reauth(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A code the printer refuses at start-up leads to a reauth flow, not endless retries."""
    entry = make_entry(printer)
    await printer.set_access_code("changed2")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    await hass.async_block_till_done()
    assert len(list(entry.async_get_active_flows(hass, {"reauth"}))) == 1


@pytest.mark.usefixtures("trust_simulator")
async def test_setup_retries_on_certificate_mismatch(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A printer whose certificate is not for the configured serial is not trusted."""
    entry = make_entry(printer)
    data = {**entry.data, "serial": "01P00A999999999"}
    entry = MockConfigEntry(domain=DOMAIN, unique_id="01P00A999999999", data=data)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert "01P00A999999999" in entry.reason
    assert await hass.config_entries.async_unload(entry.entry_id)
