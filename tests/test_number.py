"""Heater targets with a mocked client: the commands sent, limits, refusals, availability."""

from unittest.mock import ANY, MagicMock

import pytest
from homeassistant.components.number import DOMAIN as NUMBER_DOMAIN
from homeassistant.components.number.const import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er

from custom_components.bambu_printer.const import COMMAND_TIMEOUT, DOMAIN
from custom_components.bambu_printer.printer.errors import CommandRejected

from .conftest import state_of
from .mock_client import SERIAL, clear_authorization_control, push_report

pytestmark = pytest.mark.parametrize("init_integration", [Platform.NUMBER], indirect=True)


def number_id(entity_registry: er.EntityRegistry, key: str) -> str:
    """Return the entity id of the number `<serial>_<key>`."""
    entity_id = entity_registry.async_get_entity_id("number", DOMAIN, f"{SERIAL}_{key}")
    assert entity_id is not None, key
    return entity_id


async def set_value(hass: HomeAssistant, entity_id: str, value: float) -> None:
    """Set a number through Home Assistant's action, as a user or automation does."""
    await hass.services.async_call(
        NUMBER_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: entity_id, ATTR_VALUE: value},
        blocking=True,
    )


def sent(client: MagicMock) -> list[dict[str, object]]:
    """Return the `print` bodies of the commands sent, without their sequence ids."""
    bodies = []
    for call in client.async_request.await_args_list:
        body = dict(call.args[0].payload["print"])
        body.pop("sequence_id")
        bodies.append(body)
    return bodies


@pytest.mark.parametrize(
    ("key", "value", "body"),
    [
        ("nozzle_heater", 220, {"command": "gcode_line", "param": "M104 S220\n"}),
        ("bed_heater", 55, {"command": "gcode_line", "param": "M140 S55\n"}),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_single_nozzle_printer(
    hass: HomeAssistant,
    *,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    key: str,
    value: int,
    body: dict[str, object],
) -> None:
    """The P1P's nozzle and bed targets go out as G-code; the value follows the report."""
    entity_id = number_id(entity_registry, key)
    await set_value(hass, entity_id, value)
    mock_printer_client.async_request.assert_awaited_once_with(ANY, timeout=COMMAND_TIMEOUT)
    assert sent(mock_printer_client) == [body]
    assert state_of(hass, entity_id).state == "0.0"  # not assumed
    field = "nozzle_target_temper" if key == "nozzle_heater" else "bed_target_temper"
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", field: value}}
    )
    assert state_of(hass, entity_id).state == f"{value:.1f}"


@pytest.mark.usefixtures("init_integration")
async def test_p1p_limits_and_no_chamber_heater(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """The P1P takes up to 300 degC at the nozzle and 100 at the bed; it heats no chamber."""
    nozzle = state_of(hass, number_id(entity_registry, "nozzle_heater"))
    bed = state_of(hass, number_id(entity_registry, "bed_heater"))
    assert (nozzle.attributes["min"], nozzle.attributes["max"]) == (0, 300)
    assert bed.attributes["max"] == 100
    assert entity_registry.async_get_entity_id("number", DOMAIN, f"{SERIAL}_chamber_heater") is None


@pytest.mark.usefixtures("init_integration")
async def test_value_above_the_limit_is_refused_unsent(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """Home Assistant refuses a target beyond the model's limit; nothing is sent."""
    with pytest.raises(ServiceValidationError):
        await set_value(hass, number_id(entity_registry, "bed_heater"), 101)
    mock_printer_client.async_request.assert_not_called()


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_dual_nozzle_printer(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """The H2D: a target per nozzle (set_nozzle_temp), and its chamber heater (set_ctt)."""
    assert entity_registry.async_get_entity_id("number", DOMAIN, f"{SERIAL}_nozzle_heater") is None
    keys = ("right_nozzle_heater", "left_nozzle_heater", "bed_heater", "chamber_heater")
    # The capture has authorization control on: nothing can be set until it is off.
    for key in keys:
        assert state_of(hass, number_id(entity_registry, key)).state == STATE_UNAVAILABLE
    await clear_authorization_control(hass, mock_printer_client)
    chamber = state_of(hass, number_id(entity_registry, "chamber_heater"))
    assert chamber.attributes["max"] == 65
    assert (
        state_of(hass, number_id(entity_registry, "right_nozzle_heater")).attributes["max"] == 350
    )

    await set_value(hass, number_id(entity_registry, "right_nozzle_heater"), 250)
    await set_value(hass, number_id(entity_registry, "left_nozzle_heater"), 240)
    await set_value(hass, number_id(entity_registry, "chamber_heater"), 45)
    assert sent(mock_printer_client) == [
        {"command": "set_nozzle_temp", "extruder_index": 0, "target_temp": 250},
        {"command": "set_nozzle_temp", "extruder_index": 1, "target_temp": 240},
        {"command": "set_ctt", "ctt_val": 45},
    ]
    device = {
        "extruder": {"info": [{"id": 0, "temp": 250 << 16 | 30}, {"id": 1, "temp": 240 << 16}]},
        "ctc": {"info": {"temp": 45 << 16 | 33}},
    }
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "device": device}}
    )
    shown = [
        state_of(hass, number_id(entity_registry, key)).state
        for key in ("right_nozzle_heater", "left_nozzle_heater", "chamber_heater")
    ]
    assert shown == ["250.0", "240.0", "45.0"]


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_authorization_control_refuses_unsent(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """A target that raced the report is refused in plain words, never sent."""
    entity_id = number_id(entity_registry, "bed_heater")
    entity = hass.data[NUMBER_DOMAIN].get_entity(entity_id)
    with pytest.raises(HomeAssistantError) as raised:
        await entity.async_set_native_value(60)
    assert raised.value.translation_key == "authorization_required"
    mock_printer_client.async_request.assert_not_called()


@pytest.mark.usefixtures("init_integration")
async def test_refusal_is_explained(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """The printer's refusal reaches the user with its reason."""
    mock_printer_client.async_request.side_effect = CommandRejected("heater fault")
    with pytest.raises(HomeAssistantError) as raised:
        await set_value(hass, number_id(entity_registry, "bed_heater"), 60)
    assert raised.value.translation_key == "command_rejected"
    assert str(raised.value) == "The printer refused the gcode_line command: heater fault"
