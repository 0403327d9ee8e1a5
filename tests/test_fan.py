"""Fans with a mocked client: M106 per fan, percent steps, which printers have which fan."""

from unittest.mock import MagicMock

import pytest
from homeassistant.components.fan import (
    ATTR_PERCENTAGE,
    ATTR_PERCENTAGE_STEP,
    SERVICE_SET_PERCENTAGE,
)
from homeassistant.components.fan import DOMAIN as FAN_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from custom_components.bambu_printer.const import DOMAIN
from custom_components.bambu_printer.printer.errors import CommandTimeout

from .conftest import state_of
from .mock_client import SERIAL, clear_authorization_control, push_report

pytestmark = pytest.mark.parametrize("init_integration", [Platform.FAN], indirect=True)


def fan_id(entity_registry: er.EntityRegistry, key: str) -> str:
    """Return the entity id of the fan `<serial>_<key>_control`."""
    entity_id = entity_registry.async_get_entity_id("fan", DOMAIN, f"{SERIAL}_{key}_control")
    assert entity_id is not None, key
    return entity_id


def params(client: MagicMock) -> list[str]:
    """Return the G-code of every command sent."""
    return [call.args[0].payload["print"]["param"] for call in client.async_request.await_args_list]


@pytest.mark.parametrize(
    ("key", "index"), [("part_cooling_fan", 1), ("aux_fan", 2), ("chamber_fan", 3)]
)
@pytest.mark.usefixtures("init_integration")
async def test_each_fan_is_its_m106_index(
    hass: HomeAssistant,
    *,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    key: str,
    index: int,
) -> None:
    """Set, on and off send M106 P<index>; the speed shown is the printer's report."""
    entity_id = fan_id(entity_registry, key)
    assert state_of(hass, entity_id).state == STATE_OFF
    assert state_of(hass, entity_id).attributes[ATTR_PERCENTAGE_STEP] == 10
    target = {ATTR_ENTITY_ID: entity_id}
    await hass.services.async_call(
        FAN_DOMAIN, SERVICE_SET_PERCENTAGE, {**target, ATTR_PERCENTAGE: 40}, blocking=True
    )
    await hass.services.async_call(FAN_DOMAIN, SERVICE_TURN_ON, target, blocking=True)
    await hass.services.async_call(
        FAN_DOMAIN, SERVICE_TURN_ON, {**target, ATTR_PERCENTAGE: 70}, blocking=True
    )
    await hass.services.async_call(FAN_DOMAIN, SERVICE_TURN_OFF, target, blocking=True)
    assert params(mock_printer_client) == [
        f"M106 P{index} S102\n",
        f"M106 P{index} S255\n",
        f"M106 P{index} S179\n",
        f"M106 P{index} S0\n",
    ]
    field = {1: "cooling_fan_speed", 2: "big_fan1_speed", 3: "big_fan2_speed"}[index]
    await push_report(hass, mock_printer_client, {"print": {"command": "push_status", field: "10"}})
    assert state_of(hass, entity_id).state == STATE_ON
    assert state_of(hass, entity_id).attributes[ATTR_PERCENTAGE] == 70  # gear 10 of 15


@pytest.mark.parametrize("capture", ["MOCK-A1"])
@pytest.mark.usefixtures("init_integration")
async def test_a1_has_only_the_part_cooling_fan(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_config_entry: er.RegistryEntry
) -> None:
    """The A1 reports aux and chamber fan fields but has neither fan."""
    fans = {
        entity.unique_id
        for entity in er.async_entries_for_config_entry(entity_registry, mock_config_entry.entry_id)
    }
    assert fans == {f"{SERIAL}_part_cooling_fan_control"}


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_unavailable_under_authorization_control(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """The H2D capture has authorization control on: the fans come back once it is off."""
    entity_id = fan_id(entity_registry, "chamber_fan")
    assert state_of(hass, entity_id).state == STATE_UNAVAILABLE
    await clear_authorization_control(hass, mock_printer_client)
    assert state_of(hass, entity_id).state == STATE_ON  # the capture's chamber fan turns (gear 4)


@pytest.mark.usefixtures("init_integration")
async def test_silence_is_explained(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """A printer that does not answer makes the action fail with a plain message."""
    mock_printer_client.async_request.side_effect = CommandTimeout("no reply")
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            FAN_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: fan_id(entity_registry, "chamber_fan")},
            blocking=True,
        )
    assert raised.value.translation_key == "command_timeout"
