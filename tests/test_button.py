"""Buttons with a mocked client: the commands presses send, and the errors users see."""

from unittest.mock import ANY, MagicMock

import pytest
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from custom_components.bambu_printer.const import COMMAND_TIMEOUT, DOMAIN
from custom_components.bambu_printer.printer.errors import (
    CommandRejected,
    CommandTimeout,
    NotConnected,
)

from .mock_client import SERIAL, push_report


async def press(hass: HomeAssistant, entity_registry: er.EntityRegistry, key: str) -> None:
    """Press the button `<serial>_<key>` and wait for the press to finish."""
    entity_id = entity_registry.async_get_entity_id("button", DOMAIN, f"{SERIAL}_{key}")
    assert entity_id is not None, key
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


@pytest.mark.parametrize(
    ("command", "reported"),
    [
        ("pause", ("PAUSE", "pause")),
        ("resume", ("RUNNING", "running")),
        ("stop", ("FAILED", "failed")),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_press_sends_the_command(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    command: str,
    reported: tuple[str, str],
) -> None:
    """A press sends its print command (QoS 1) and waits for the printer's answer."""
    await press(hass, entity_registry, command)

    mock_printer_client.async_request.assert_awaited_once_with(ANY, timeout=COMMAND_TIMEOUT)
    sent = mock_printer_client.async_request.await_args.args[0]
    assert sent.payload == {"print": {"sequence_id": ANY, "command": command, "param": ""}}
    assert sent.qos == 1
    # The status shows what the printer reports next, not what was asked for.
    status = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{SERIAL}_print_status")
    assert status is not None
    assert hass.states.get(status).state == "failed"  # type: ignore[union-attr]
    gcode_state, shown = reported
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "gcode_state": gcode_state}}
    )
    assert hass.states.get(status).state == shown  # type: ignore[union-attr]


@pytest.mark.usefixtures("init_integration")
async def test_refresh_asks_for_the_full_state(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """Refresh publishes pushall without waiting for a reply (the answer is a full report)."""
    await press(hass, entity_registry, "refresh")

    mock_printer_client.async_publish.assert_awaited_once()
    sent = mock_printer_client.async_publish.await_args.args[0]
    assert sent.payload == {
        "pushing": {"sequence_id": ANY, "command": "pushall", "version": 1, "push_target": 1}
    }
    mock_printer_client.async_request.assert_not_called()


@pytest.mark.parametrize(
    ("error", "translation"),
    [
        (
            CommandRejected("mqtt message verify failed"),
            (
                "command_rejected",
                "The printer rejected the pause command: mqtt message verify failed. Printers with "
                "firmware from 2025 on accept commands from Home Assistant only in LAN-only mode "
                "with Developer mode switched on",
            ),
        ),
        (
            CommandTimeout("printer did not answer"),
            (
                "command_timeout",
                "The printer did not answer the pause command within 10 seconds",
            ),
        ),
        (
            NotConnected("printer is not connected"),
            (
                "not_connected",
                "The printer is not connected, so the pause command could not be sent",
            ),
        ),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_failed_command_explains_why(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    error: Exception,
    translation: tuple[str, str],
) -> None:
    """A refused, unanswered or unsendable command raises a translated error users can act on."""
    translation_key, message = translation
    mock_printer_client.async_request.side_effect = error
    with pytest.raises(HomeAssistantError) as raised:
        await press(hass, entity_registry, "pause")
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == translation_key
    assert str(raised.value) == message
    assert raised.value.__cause__ is error


@pytest.mark.usefixtures("init_integration")
async def test_refresh_while_offline_says_not_connected(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """A refresh racing a disconnect explains that the printer is not connected."""
    mock_printer_client.async_publish.side_effect = NotConnected("printer is not connected")
    with pytest.raises(HomeAssistantError) as raised:
        await press(hass, entity_registry, "refresh")
    assert raised.value.translation_key == "not_connected"
    assert raised.value.translation_placeholders == {"command": "pushall"}


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_after_stop_no_time_remains(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """After Stop the remaining and end time read unknown, not the stopped job's estimate."""
    remaining = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{SERIAL}_remaining_time")
    end_time = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{SERIAL}_end_time")
    assert remaining is not None
    assert end_time is not None
    assert hass.states.get(remaining).state == "549"  # type: ignore[union-attr]

    await press(hass, entity_registry, "stop")
    # Real printers keep `mc_remaining_time` after a stop (the P1P capture: FAILED, 759).
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "gcode_state": "FAILED"}}
    )
    assert hass.states.get(remaining).state == STATE_UNKNOWN  # type: ignore[union-attr]
    assert hass.states.get(end_time).state == STATE_UNKNOWN  # type: ignore[union-attr]
