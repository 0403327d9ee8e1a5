"""Light platform with a mocked client: the chamber light per capture, on and off commands."""

from unittest.mock import ANY, MagicMock

import pytest
from homeassistant.components.light import DOMAIN as LIGHT_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.bambu_printer.const import COMMAND_TIMEOUT, DOMAIN

from .captures import CAPTURE_NAMES
from .mock_client import SERIAL, push_report

pytestmark = pytest.mark.parametrize("init_integration", [Platform.LIGHT], indirect=True)


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
@pytest.mark.usefixtures("init_integration")
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Every captured printer reports a chamber light, shown as the printer reports it."""
    await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)


@pytest.mark.parametrize(
    ("service", "mode"), [(SERVICE_TURN_ON, STATE_ON), (SERVICE_TURN_OFF, STATE_OFF)]
)
@pytest.mark.usefixtures("init_integration")
async def test_switching_sends_ledctrl_and_shows_the_report(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    service: str,
    mode: str,
) -> None:
    """Switching sends ledctrl for the chamber light; the state follows the printer's report."""
    light = entity_registry.async_get_entity_id("light", DOMAIN, f"{SERIAL}_chamber_light")
    assert light is not None
    before = hass.states.get(light)
    assert before is not None

    await hass.services.async_call(LIGHT_DOMAIN, service, {ATTR_ENTITY_ID: light}, blocking=True)

    mock_printer_client.async_request.assert_awaited_once_with(ANY, timeout=COMMAND_TIMEOUT)
    sent = mock_printer_client.async_request.await_args.args[0]
    assert sent.payload == {
        "system": {
            "sequence_id": ANY,
            "command": "ledctrl",
            "led_node": "chamber_light",
            "led_mode": mode,
            "led_on_time": 500,
            "led_off_time": 500,
            "loop_times": 0,
            "interval_time": 0,
        }
    }
    # No optimistic state: the light changes when the printer reports it.
    assert hass.states.get(light) == before
    report = {"command": "push_status", "lights_report": [{"node": "chamber_light", "mode": mode}]}
    await push_report(hass, mock_printer_client, {"print": report})
    assert hass.states.get(light).state == mode  # type: ignore[union-attr]
