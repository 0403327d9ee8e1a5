"""LAN discovery in Home Assistant: real NOTIFY packets on loopback to the shared listener.

The listener binds 127.0.0.1 on a free port in every test (tests/conftest.py); announcements
come from simulated printers (each on its own loopback address where it should be reachable)
or are sent by hand, always to 127.0.0.1.
"""

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_socket
from homeassistant.config_entries import SOURCE_IGNORE, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer import discovery, flow_discovery
from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_CONNECTION,
    CONF_MODEL,
    CONF_SERIAL,
    CONNECTION_LOCAL,
    DOMAIN,
)
from custom_components.bambu_printer.printer.models import (
    PrinterModel,
    identify_from_product_name,
)
from simulator.announce import notify_packet
from simulator.device import SimulatedPrinter
from simulator.testing import own_loopback_address, start_printer, wait_until

from .conftest import make_entry, setup_entry

pytestmark = pytest.mark.usefixtures("trust_simulator")


def listener(hass: HomeAssistant) -> discovery.PrinterDiscovery:
    """Return the integration's one listener."""
    return hass.data[discovery.DATA_DISCOVERY]


def send(hass: HomeAssistant, packet: bytes) -> None:
    """Send one datagram to the listener, on loopback."""
    port = listener(hass).port
    assert port is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(packet, ("127.0.0.1", port))


def packet(serial: str, host: str, model: str = "P1S", name: str = "Garage") -> bytes:
    """Return a real printer's announcement with these details."""
    return notify_packet(
        serial=serial,
        host=host,
        model=identify_from_product_name(model),
        name=name,
        firmware="01.08.00.00",
        signal=-50,
    )


def discovered(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Return the integration's flows in progress started by LAN discovery."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["step_id"] == "discovery_confirm"
    ]


async def settle(hass: HomeAssistant) -> None:
    """Let the datagram arrive and any flow it starts run."""
    for _ in range(3):
        await asyncio.sleep(0.05)
        await hass.async_block_till_done()


def loopback_address() -> str:
    """Return a free loopback address of its own, which this test may connect to as well.

    The test plugin allows connections to 127.0.0.1 only; a printer found by its address
    needs one of its own (still loopback, as the network rule asks).
    """
    host = own_loopback_address()
    pytest_socket.socket_allow_hosts(["127.0.0.1", host])
    return host


@pytest.fixture
async def new_printer(printer: SimulatedPrinter) -> AsyncIterator[SimulatedPrinter]:
    """A second printer (same CA) on an address of its own with the real ports, not added."""
    async with start_printer(
        "A1", ca=printer.ca, host=loopback_address(), port=8883, camera_port=6000
    ) as simulated:
        yield simulated


async def test_an_announced_printer_is_added_with_its_access_code_only(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, new_printer: SimulatedPrinter
) -> None:
    """The printer's own announcement starts a flow; the access code completes it."""
    send(hass, new_printer.notify_packet())
    await settle(hass)
    [flow] = discovered(hass)
    assert flow["context"]["title_placeholders"] == {"name": new_printer.name}

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_ACCESS_CODE: "12345"}
    )
    assert result["errors"] == {CONF_ACCESS_CODE: "invalid_access_code"}
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_ACCESS_CODE: "wrong123"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert result["description_placeholders"]["host"] == new_printer.host
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_ACCESS_CODE: new_printer.access_code}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"A1 {new_printer.serial}"
    assert result["data"] == {
        CONF_HOST: new_printer.host,
        CONF_PORT: 8883,
        CONF_SERIAL: new_printer.serial,
        CONF_ACCESS_CODE: new_printer.access_code,
        CONF_CONNECTION: CONNECTION_LOCAL,
        CONF_MODEL: "A1",
    }
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED

    # Its later announcements start nothing.
    send(hass, new_printer.notify_packet())
    await settle(hass)
    assert discovered(hass) == []
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_simulated_printers_announce_like_real_ones(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, printer: SimulatedPrinter
) -> None:
    """A farm printer announces itself to the configured port, again and again."""
    port = listener(hass).port
    assert port is not None
    async with start_printer(
        "X1C",
        ca=printer.ca,
        host=loopback_address(),
        port=8883,
        announce_port=port,
        announce_interval=0.1,
    ) as announcing:
        await wait_until(lambda: bool(discovered(hass)), within=5)
        [flow] = discovered(hass)
        assert flow["context"]["unique_id"] == announcing.serial
        assert flow["context"]["title_placeholders"] == {"name": announcing.name}
        await asyncio.sleep(0.3)  # a few more announcements
        assert len(discovered(hass)) == 1


async def test_a_moved_printer_gets_its_new_address_without_a_flow(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """An entry retrying at the old address follows the printer's announcement and loads."""
    entry = make_entry(printer)
    entry.add_to_hass(hass)
    old_address = loopback_address()  # nothing listens there any more
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_HOST: old_address})
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY

    send(hass, printer.notify_packet())
    await settle(hass)
    await wait_until(lambda: entry.state is ConfigEntryState.LOADED, within=15)
    assert entry.data[CONF_HOST] == printer.host
    assert discovered(hass) == []
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_host_name_is_kept(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """A printer set up by host name keeps it: the name follows the printer by itself."""
    hass.config_entries.async_update_entry(
        loaded_entry, data={**loaded_entry.data, CONF_HOST: "localhost"}
    )
    send(hass, packet(loaded_entry.data[CONF_SERIAL], "127.0.0.5"))
    await settle(hass)
    assert loaded_entry.data[CONF_HOST] == "localhost"
    assert discovered(hass) == []


async def test_ignored_printer_is_not_offered_until_the_ignore_is_removed(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    ignored = MockConfigEntry(domain=DOMAIN, source=SOURCE_IGNORE, unique_id="01P00A123456789")
    ignored.add_to_hass(hass)
    send(hass, packet("01P00A123456789", "127.0.0.5"))
    await settle(hass)
    assert discovered(hass) == []
    assert ignored.data == {}

    await hass.config_entries.async_remove(ignored.entry_id)
    send(hass, packet("01P00A123456789", "127.0.0.5"))
    await settle(hass)
    assert [flow["context"]["unique_id"] for flow in discovered(hass)] == ["01P00A123456789"]


async def test_each_printer_is_passed_on_once_until_it_moves(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Announcements repeat every few seconds; only a new address or model starts a flow."""
    with pytest.MonkeyPatch.context() as patches:
        started: list[dict[str, Any]] = []
        patches.setattr(
            discovery.discovery_flow,
            "async_create_flow",
            lambda _hass, _domain, context, data, **_kw: started.append(data),
        )
        for _ in range(3):
            send(hass, packet("01P00A123456789", "127.0.0.5"))
        send(hass, packet("01P00A123456789", "127.0.0.5", name="Renamed"))
        send(hass, packet("01P00A123456789", "127.0.0.6"))
        send(hass, packet("01P00A123456789", "127.0.0.6", model="P1P"))
        send(hass, b"NOTIFY * HTTP/1.1\r\nthis is not a header\r\n\r\n")
        send(hass, b"\xff" * 4000)
        await settle(hass)
    assert [(data[CONF_HOST], data[CONF_MODEL]) for data in started] == [
        ("127.0.0.5", "P1S"),
        ("127.0.0.6", "P1S"),
        ("127.0.0.6", "P1P"),
    ]


async def test_a_flood_of_serials_is_capped(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discovery, "MAX_PRINTERS", 3)
    for number in range(10):
        send(hass, packet(f"01P00A{number:09d}", "127.0.0.5"))
    await settle(hass)
    assert len(discovered(hass)) == 3


async def test_listener_lives_while_an_entry_is_set_up(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """Open with the first entry, closed after the last unloads, opened again, closed at stop."""
    assert discovery.DATA_DISCOVERY not in hass.data
    entry = await setup_entry(hass, make_entry(printer))
    assert listener(hass).port is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert listener(hass).port is None
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert listener(hass).port is not None
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert listener(hass).port is None
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_taken_port_is_logged_once_and_setup_still_works(
    hass: HomeAssistant,
    printer: SimulatedPrinter,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        monkeypatch.setattr(discovery, "LISTEN_PORT", taken.getsockname()[1])
        caplog.set_level(logging.DEBUG, logger=discovery.__name__)
        entry = await setup_entry(hass, make_entry(printer))
        assert entry.state is ConfigEntryState.LOADED
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
    warnings = [r for r in caplog.records if r.name == discovery.__name__ and r.levelno >= 30]
    assert len(warnings) == 1
    assert "adding them by hand works as before" in warnings[0].getMessage()
    assert listener(hass).port is None
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_printer_that_does_not_name_its_model_keeps_the_announced_one(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old firmware may not name the model when asked; the announcement's code does."""

    async def validated(*_args: Any) -> tuple[dict[str, str], dict[str, str], PrinterModel]:
        return {}, {}, PrinterModel.UNKNOWN

    monkeypatch.setattr(flow_discovery, "async_try", validated)
    # The entry then tries this address, where nothing listens.
    send(hass, packet("01S00C123456789", loopback_address(), model="P1P", name=""))
    await settle(hass)
    [flow] = discovered(hass)
    assert flow["context"]["title_placeholders"] == {"name": "P1P 01S00C123456789"}
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_ACCESS_CODE: "12345678"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "P1P 01S00C123456789"
    assert result["data"][CONF_MODEL] == "P1P"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_other_integrations_entries_do_not_matter(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    other = MockConfigEntry(domain="other_integration", unique_id="01P00A123456789")
    other.add_to_hass(hass)
    await hass.config_entries.async_remove(other.entry_id)
    assert listener(hass).port is not None
