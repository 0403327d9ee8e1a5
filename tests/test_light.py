"""The chamber light with a mocked client: on and off commands, state from the reports."""

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

from custom_components.bambu_printer.const import COMMAND_TIMEOUT, DOMAIN

from .mock_client import SERIAL, push_report

pytestmark = pytest.mark.parametrize("init_integration", [Platform.LIGHT], indirect=True)


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
    assert (sent.module, sent.command) == ("system", "ledctrl")
    assert (sent.payload["system"]["led_node"], sent.payload["system"]["led_mode"]) == (
        "chamber_light",
        mode,
    )
    # No optimistic state: the light changes when the printer reports it.
    assert hass.states.get(light) == before
    report = {"command": "push_status", "lights_report": [{"node": "chamber_light", "mode": mode}]}
    await push_report(hass, mock_printer_client, {"print": report})
    assert hass.states.get(light).state == mode  # type: ignore[union-attr]


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.parametrize(
    ("service", "mode"), [(SERVICE_TURN_ON, STATE_ON), (SERVICE_TURN_OFF, STATE_OFF)]
)
@pytest.mark.usefixtures("init_integration")
async def test_both_light_bars_switch_together(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    service: str,
    mode: str,
) -> None:
    """On H2 printers the light switches both bars; it shows on while either bar is lit.

    The light still works under authorization control (the H2D capture has it on).
    """
    light = entity_registry.async_get_entity_id("light", DOMAIN, f"{SERIAL}_chamber_light")
    assert light is not None
    await hass.services.async_call(LIGHT_DOMAIN, service, {ATTR_ENTITY_ID: light}, blocking=True)

    sent = [call.args[0] for call in mock_printer_client.async_request.await_args_list]
    assert [(c.payload["system"]["led_node"], c.payload["system"]["led_mode"]) for c in sent] == [
        ("chamber_light", mode),
        ("chamber_light2", mode),
    ]
    other = STATE_OFF if mode == STATE_ON else STATE_ON
    report = [{"node": "chamber_light", "mode": other}, {"node": "chamber_light2", "mode": mode}]
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "lights_report": report}}
    )
    assert hass.states.get(light).state == STATE_ON  # type: ignore[union-attr]
    report = [{"node": "chamber_light", "mode": "off"}, {"node": "chamber_light2", "mode": "off"}]
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "lights_report": report}}
    )
    assert hass.states.get(light).state == STATE_OFF  # type: ignore[union-attr]
