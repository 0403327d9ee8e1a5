"""The actions with a mocked client: send_gcode and refresh, by device, and their refusals."""

from unittest.mock import ANY, MagicMock

import pytest
import voluptuous as vol
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer.const import COMMAND_TIMEOUT, DOMAIN, OPTION_READ_ONLY
from custom_components.bambu_printer.printer.errors import NotConnected
from custom_components.bambu_printer.services import (
    SERVICE_REFRESH,
    SERVICE_SEND_GCODE,
    SERVICE_START_DRYING,
    SERVICE_STOP_DRYING,
)

from .conftest import device_of, setup_entry
from .mock_client import SERIAL, capture_entry, clear_authorization_control


def printer_device(hass: HomeAssistant) -> str:
    """Return the device id of the mocked printer."""
    device = device_of(hass, SERIAL)
    assert device is not None
    return device.id


async def call(hass: HomeAssistant, service: str, **data: object) -> None:
    """Run one of the integration's actions and wait for it."""
    await hass.services.async_call(DOMAIN, service, data, blocking=True)


@pytest.mark.usefixtures("init_integration")
async def test_send_gcode_waits_for_the_printer(
    hass: HomeAssistant, mock_printer_client: MagicMock
) -> None:
    """The G-code goes out as one gcode_line request, newline added, and is waited for."""
    await call(hass, SERVICE_SEND_GCODE, device_id=printer_device(hass), gcode="G28\nM400")
    mock_printer_client.async_request.assert_awaited_once_with(ANY, timeout=COMMAND_TIMEOUT)
    command = mock_printer_client.async_request.await_args.args[0]
    assert command.payload["print"]["command"] == "gcode_line"
    assert command.payload["print"]["param"] == "G28\nM400\n"


@pytest.mark.usefixtures("init_integration")
async def test_blank_gcode_is_refused(hass: HomeAssistant, mock_printer_client: MagicMock) -> None:
    """G-code of blanks only is refused unsent."""
    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, SERVICE_SEND_GCODE, device_id=printer_device(hass), gcode="  \n")
    assert raised.value.translation_key == "empty_gcode"
    mock_printer_client.async_request.assert_not_called()


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_authorization_control_refuses_gcode_unsent(
    hass: HomeAssistant, mock_printer_client: MagicMock
) -> None:
    """Under authorization control (the H2D capture) G-code is refused unsent."""
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, SERVICE_SEND_GCODE, device_id=printer_device(hass), gcode="G28")
    assert raised.value.translation_key == "authorization_required"
    mock_printer_client.async_request.assert_not_called()


@pytest.mark.usefixtures("mock_printer_client")
async def test_read_only_printer(hass: HomeAssistant, mock_printer_client: MagicMock) -> None:
    """Read-only mode refuses G-code; refreshing still works."""
    await setup_entry(hass, capture_entry("P1P", options={OPTION_READ_ONLY: True}))
    device_id = printer_device(hass)
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, SERVICE_SEND_GCODE, device_id=device_id, gcode="G28")
    assert raised.value.translation_key == "read_only_mode"
    mock_printer_client.async_request.assert_not_called()
    await call(hass, SERVICE_REFRESH, device_id=device_id)
    command = mock_printer_client.async_publish.await_args.args[0]
    assert (command.module, command.command) == ("pushing", "pushall")


@pytest.mark.usefixtures("init_integration")
async def test_refresh_offline_says_not_connected(
    hass: HomeAssistant, mock_printer_client: MagicMock
) -> None:
    """A refresh while the link is down says so."""
    mock_printer_client.async_publish.side_effect = NotConnected("gone")
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, SERVICE_REFRESH, device_id=printer_device(hass))
    assert raised.value.translation_key == "not_connected"


@pytest.mark.usefixtures("init_integration")
async def test_unknown_device(hass: HomeAssistant) -> None:
    """A device id of nothing, or of another integration's device, is refused plainly."""
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    foreign = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}
    )
    for device_id in ("no-such-device", foreign.id):
        with pytest.raises(ServiceValidationError) as raised:
            await call(hass, SERVICE_REFRESH, device_id=device_id)
        assert raised.value.translation_key == "unknown_printer"
        assert raised.value.translation_placeholders == {"device_id": device_id}


async def test_printer_not_loaded(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_printer_client: MagicMock
) -> None:
    """A printer whose entry is unloaded cannot be reached; the message names it."""
    device_id = printer_device(hass)
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, SERVICE_SEND_GCODE, device_id=device_id, gcode="G28")
    assert raised.value.translation_key == "printer_not_loaded"
    assert raised.value.translation_placeholders == {"name": "P1P"}
    mock_printer_client.async_request.assert_not_called()


@pytest.mark.usefixtures("init_integration")
async def test_schema_requires_gcode(hass: HomeAssistant) -> None:
    """Without G-code the action is refused before anything is looked up."""
    with pytest.raises(vol.Invalid):
        await call(hass, SERVICE_SEND_GCODE, device_id=printer_device(hass))
    with pytest.raises(vol.Invalid):
        await call(hass, SERVICE_SEND_GCODE, device_id=printer_device(hass), gcode="")


@pytest.mark.parametrize("capture", ["MOCK-X1CMULTIAMS"])
@pytest.mark.usefixtures("init_integration")
async def test_drying_an_ams_2_pro_and_an_ams_ht(
    hass: HomeAssistant, mock_printer_client: MagicMock
) -> None:
    """Unit C (an AMS 2 Pro) dries up to 65 degC, HT-A (an AMS HT) up to 85; both stop."""
    await clear_authorization_control(hass, mock_printer_client)
    device_id = printer_device(hass)
    await call(hass, SERVICE_START_DRYING, device_id=device_id, ams="C", temperature=65, duration=4)
    await call(
        hass,
        SERVICE_START_DRYING,
        device_id=device_id,
        ams="ht-a",
        temperature=85,
        duration=24,
        rotate_tray=True,
    )
    await call(hass, SERVICE_STOP_DRYING, device_id=device_id, ams="C")
    bodies = [c.args[0].payload["print"] for c in mock_printer_client.async_request.await_args_list]
    assert [
        (b["command"], b["ams_id"], b["mode"], b["temp"], b["duration"], b["rotate_tray"])
        for b in bodies
    ] == [
        ("ams_filament_drying", 2, 1, 65, 4, False),
        ("ams_filament_drying", 128, 1, 85, 24, True),
        ("ams_filament_drying", 2, 0, 0, 0, False),
    ]


@pytest.mark.parametrize("capture", ["MOCK-X1CMULTIAMS"])
@pytest.mark.parametrize(
    ("ams", "temperature", "key", "placeholders"),
    [
        ("C", 66, "drying_too_hot", {"ams": "C", "max": "65"}),
        ("A", 50, "ams_cannot_dry", {"ams": "A"}),
        ("Z", 50, "unknown_ams", {"ams": "Z"}),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_drying_refused_plainly(
    hass: HomeAssistant,
    *,
    mock_printer_client: MagicMock,
    ams: str,
    temperature: int,
    key: str,
    placeholders: dict[str, str],
) -> None:
    """Too hot for the unit, a unit that cannot dry, or no such unit: refused unsent."""
    await clear_authorization_control(hass, mock_printer_client)
    with pytest.raises(ServiceValidationError) as raised:
        await call(
            hass,
            SERVICE_START_DRYING,
            device_id=printer_device(hass),
            ams=ams,
            temperature=temperature,
            duration=2,
        )
    assert raised.value.translation_key == key
    assert raised.value.translation_placeholders == placeholders
    mock_printer_client.async_request.assert_not_called()


@pytest.mark.parametrize("capture", ["MOCK-X1CMULTIAMS"])
@pytest.mark.usefixtures("init_integration")
async def test_drying_under_authorization_control(
    hass: HomeAssistant, mock_printer_client: MagicMock
) -> None:
    """The X1C capture has authorization control on: stopping is refused unsent."""
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, SERVICE_STOP_DRYING, device_id=printer_device(hass), ams="C")
    assert raised.value.translation_key == "authorization_required"
    mock_printer_client.async_request.assert_not_called()


@pytest.mark.usefixtures("init_integration")
async def test_drying_schema_limits(hass: HomeAssistant) -> None:
    """Temperatures and durations outside every unit's range fail the schema."""
    for temperature, duration in ((44, 2), (86, 2), (60, 0), (60, 25)):
        with pytest.raises(vol.Invalid):
            await call(
                hass,
                SERVICE_START_DRYING,
                device_id=printer_device(hass),
                ams="A",
                temperature=temperature,
                duration=duration,
            )
