"""Setting a printer entry up and down with a mocked client: device, availability, read-only."""

import logging
from unittest.mock import MagicMock, patch

import pytest
from homeassistant.components.homeassistant import DOMAIN as HA_DOMAIN
from homeassistant.components.homeassistant import SERVICE_UPDATE_ENTITY
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util.json import json_loads
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer.const import (
    CONF_MODEL,
    CONF_SERIAL,
    DOMAIN,
    OPTION_READ_ONLY,
    VALIDATE_TIMEOUT,
)
from custom_components.bambu_printer.printer.errors import (
    NotConnected,
    TlsHandshakeFailed,
    TlsNameMismatch,
    TlsUntrusted,
)
from custom_components.bambu_printer.printer.models import PrinterModel
from custom_components.bambu_printer.printer.state import PrinterState

from .captures import CAPTURE_NAMES, version_report
from .conftest import setup_entry
from .mock_client import (
    SERIAL,
    capture_entry,
    listener_count,
    new_mock_client,
    push_report,
    set_available,
)


def online_entity_id(entity_registry: er.EntityRegistry) -> str:
    """Return the entity id of the connection binary sensor."""
    entity_id = entity_registry.async_get_entity_id("binary_sensor", DOMAIN, f"{SERIAL}_online")
    assert entity_id is not None
    return entity_id


async def test_load_and_unload(
    hass: HomeAssistant, mock_printer_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """Setup starts the client and listens to it; unloading stops it and stops listening."""
    await setup_entry(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    mock_printer_client.async_start.assert_awaited_once_with(timeout=VALIDATE_TIMEOUT)
    assert listener_count(mock_printer_client) == 3
    mock_printer_client.async_stop.assert_not_called()

    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.NOT_LOADED
    mock_printer_client.async_stop.assert_awaited_once()
    assert listener_count(mock_printer_client) == 0


@pytest.mark.usefixtures("init_integration")
async def test_home_assistant_stop_closes_the_connection(
    hass: HomeAssistant, mock_printer_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """Stopping Home Assistant closes the printer connection without unloading the entry."""
    await hass.async_stop()
    mock_printer_client.async_stop.assert_awaited()
    assert mock_config_entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("capture", "model", "firmware"),
    [
        ("P1P", "P1P", "01.07.00.00"),
        ("MOCK-A1", "A1", "01.05.00.00"),
        ("MOCK-X1CMULTIAMS", "X1 Carbon", "01.09.00.01"),
        ("MOCK-H2D", "H2D", "01.01.01.00"),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_one_device_per_printer(
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    mock_config_entry: MockConfigEntry,
    model: str,
    firmware: str,
) -> None:
    """The printer is one device (model and firmware from get_version) with every entity."""
    (device,) = dr.async_entries_for_config_entry(device_registry, mock_config_entry.entry_id)
    assert device.identifiers == {(DOMAIN, SERIAL)}
    assert (device.manufacturer, device.model, device.name) == ("Bambu Lab", model, model)
    assert (device.serial_number, device.sw_version) == (SERIAL, firmware)
    entities = er.async_entries_for_config_entry(entity_registry, mock_config_entry.entry_id)
    assert entities
    assert {entity.device_id for entity in entities} == {device.id}


async def test_model_from_serial_when_nothing_names_it(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry
) -> None:
    """A printer whose firmware and entry name no model is known by its serial's prefix."""
    client = new_mock_client("MOCK-H2D", serial="31B00A000000001")
    client.state = PrinterState()  # no get_version reply (yet)
    entry = capture_entry("MOCK-H2D", data={CONF_SERIAL: client.serial, CONF_MODEL: ""})
    with patch("custom_components.bambu_printer.PrinterClient", return_value=client):
        await setup_entry(hass, entry)
    (device,) = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert device.model == "H2C"
    assert entry.runtime_data.coordinator.model is PrinterModel.H2C


@pytest.mark.usefixtures("init_integration")
async def test_firmware_update_shows_on_device(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    mock_printer_client: MagicMock,
    mock_config_entry: MockConfigEntry,
) -> None:
    """After the printer installs new firmware, the device page shows the new version."""
    (device,) = dr.async_entries_for_config_entry(device_registry, mock_config_entry.entry_id)
    assert device.sw_version == "01.07.00.00"

    report = version_report("P1P")
    report["info"]["module"][0]["sw_ver"] = "01.09.00.00"
    await push_report(hass, mock_printer_client, report)
    updated = device_registry.async_get(device.id)
    assert updated is not None
    assert updated.sw_version == "01.09.00.00"


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
@pytest.mark.usefixtures("init_integration")
async def test_entities_follow_the_connection(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """While the printer is offline its entities are unavailable, "online" shows off.

    They come back with the connection; each transition is logged once. (Pause, resume and
    stop also follow the job, so in these captures they stay unavailable: tests/test_button.py.)
    """
    caplog.set_level(logging.INFO)
    online = online_entity_id(entity_registry)
    # Controls that the job or authorization control keeps unavailable stay so.
    others = [
        entity.entity_id
        for entity in er.async_entries_for_config_entry(entity_registry, mock_config_entry.entry_id)
        if entity.entity_id != online
        and entity.disabled_by is None
        and hass.states.get(entity.entity_id).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    ]
    assert any(entity_id.startswith("camera.") for entity_id in others)

    await set_available(hass, mock_printer_client, False)
    await set_available(hass, mock_printer_client, False)
    assert hass.states.get(online).state == STATE_OFF  # type: ignore[union-attr]
    assert {hass.states.get(e).state for e in others} == {STATE_UNAVAILABLE}  # type: ignore[union-attr]

    await set_available(hass, mock_printer_client, True)
    assert hass.states.get(online).state == STATE_ON  # type: ignore[union-attr]
    assert STATE_UNAVAILABLE not in {hass.states.get(e).state for e in others}  # type: ignore[union-attr]
    assert caplog.text.count("is unavailable") == 1
    assert caplog.text.count("is back online") == 1


async def test_read_only_mode(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """Read-only mode creates no control entity and refuses commands with a clear error."""
    entry = await setup_entry(hass, capture_entry("P1P", options={OPTION_READ_ONLY: True}))
    domains = {
        e.unique_id.removeprefix(f"{SERIAL}_"): e.domain
        for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    }
    assert "light" not in domains.values()
    assert [key for key, domain in domains.items() if domain == "button"] == ["refresh"]

    coordinator = entry.runtime_data.coordinator
    with pytest.raises(HomeAssistantError) as raised:
        await coordinator.async_send(coordinator.commands.pause())
    assert raised.value.translation_key == "read_only_mode"
    mock_printer_client.async_request.assert_not_called()
    # Asking for the full state is not a command: it works in read-only mode too.
    await coordinator.async_request_full_state()
    mock_printer_client.async_publish.assert_awaited_once()


@pytest.mark.usefixtures("init_integration")
async def test_update_entity_asks_for_the_full_state(
    hass: HomeAssistant,
    mock_printer_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """homeassistant.update_entity sends a pushall; offline it fails with "not connected"."""
    assert await async_setup_component(hass, HA_DOMAIN, {})
    nozzle = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{SERIAL}_nozzle_temperature")
    assert nozzle is not None
    coordinator = mock_config_entry.runtime_data.coordinator
    await hass.services.async_call(
        HA_DOMAIN, SERVICE_UPDATE_ENTITY, {ATTR_ENTITY_ID: nozzle}, blocking=True
    )
    (command,) = [call.args[0] for call in mock_printer_client.async_publish.await_args_list]
    assert (command.module, command.command) == ("pushing", "pushall")
    assert coordinator.last_update_success
    assert "ERROR" not in {record.levelname for record in caplog.records}

    # Offline (the service's refreshes are debounced: ask the coordinator itself).
    mock_printer_client.async_publish.side_effect = NotConnected("the link is down")
    await set_available(hass, mock_printer_client, False)
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert "The printer is not connected, so the pushall command could not be sent" in caplog.text
    # A report after the link is back marks the coordinator successful again.
    await set_available(hass, mock_printer_client, True)
    await push_report(hass, mock_printer_client, {"print": {"nozzle_temper": 201.0}})
    assert coordinator.last_update_success
    assert hass.states.get(nozzle).state == "201.0"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            TlsNameMismatch("name mismatch", expected=SERIAL, presented="01P00A999999999"),
            ["01P00A999999999", SERIAL],
        ),
        (TlsNameMismatch("name mismatch", expected=SERIAL, presented=None), [SERIAL]),
        (TlsUntrusted("unknown issuer"), ["Bambu Lab", "intercept"]),
        (TlsHandshakeFailed("wrong version number"), ["secure connection", "wrong version"]),
    ],
)
async def test_setup_tells_certificate_failures_apart(
    hass: HomeAssistant,
    mock_printer_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    error: Exception,
    words: list[str],
) -> None:
    """Retrying setup says what failed: another printer, no Bambu certificate, or no TLS."""
    mock_printer_client.async_start.side_effect = error
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    reason = mock_config_entry.reason or ""
    for word in words:
        assert word in reason
    mock_printer_client.async_stop.assert_awaited()


async def test_setup_passes_home_assistants_json_parser(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """Reports are parsed by Home Assistant's orjson-based loader, three times faster."""
    client = new_mock_client("MOCK-X1CMULTIAMS")
    with patch("custom_components.bambu_printer.PrinterClient", return_value=client) as factory:
        await setup_entry(hass, mock_config_entry)
    assert factory.call_args.kwargs["loads"] is json_loads
