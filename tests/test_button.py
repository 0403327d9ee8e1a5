"""Buttons with a mocked client: the commands presses send, and the errors users see."""

import logging
from unittest.mock import ANY, MagicMock

import pytest
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer.const import COMMAND_TIMEOUT, DOMAIN
from custom_components.bambu_printer.printer.errors import (
    CommandRejected,
    CommandTimeout,
    NotConnected,
)

from .mock_client import SERIAL, clear_authorization_control, push_report


async def press(hass: HomeAssistant, entity_registry: er.EntityRegistry, key: str) -> None:
    """Press the button `<serial>_<key>` and wait for the press to finish."""
    entity_id = entity_registry.async_get_entity_id("button", DOMAIN, f"{SERIAL}_{key}")
    assert entity_id is not None, key
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def report_state(hass: HomeAssistant, client: MagicMock, gcode_state: str) -> None:
    """Let the mocked printer report a job state."""
    await push_report(
        hass, client, {"print": {"command": "push_status", "gcode_state": gcode_state}}
    )


@pytest.mark.parametrize(
    ("command", "before", "reported"),
    [
        ("pause", "RUNNING", ("PAUSE", "pause")),
        ("resume", "PAUSE", ("RUNNING", "running")),
        ("stop", "RUNNING", ("FAILED", "failed")),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_press_sends_the_command(
    hass: HomeAssistant,
    *,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    command: str,
    before: str,
    reported: tuple[str, str],
) -> None:
    """A press sends its print command (QoS 1) and waits for the printer's answer."""
    await report_state(hass, mock_printer_client, before)
    await press(hass, entity_registry, command)

    mock_printer_client.async_request.assert_awaited_once_with(ANY, timeout=COMMAND_TIMEOUT)
    sent = mock_printer_client.async_request.await_args.args[0]
    assert sent.payload == {"print": {"sequence_id": ANY, "command": command, "param": ""}}
    assert sent.qos == 1
    # The status shows what the printer reports next, not what was asked for.
    status = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{SERIAL}_print_status")
    assert status is not None
    assert hass.states.get(status).state == before.lower()  # type: ignore[union-attr]
    gcode_state, shown = reported
    await report_state(hass, mock_printer_client, gcode_state)
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


AUTHORIZATION_TEXT = (
    "The printer refused the pause command because its authorization control is on: it "
    "takes print commands only from Bambu Lab's own apps. To control it from Home Assistant, "
    "switch it to LAN-only mode and turn on Developer mode"
)


@pytest.mark.parametrize(
    ("error", "translation"),
    [
        (
            CommandRejected("mqtt message verify failed"),
            ("authorization_required", AUTHORIZATION_TEXT),
        ),
        (CommandRejected("error 84033543"), ("authorization_required", AUTHORIZATION_TEXT)),
        (
            CommandRejected("printer busy"),
            ("command_rejected", "The printer refused the pause command: printer busy"),
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
    *,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    translation: tuple[str, str],
) -> None:
    """A refused, unanswered or unsendable command raises a translated error users can act on."""
    translation_key, message = translation
    await report_state(hass, mock_printer_client, "RUNNING")
    mock_printer_client.async_request.side_effect = error
    with pytest.raises(HomeAssistantError) as raised:
        await press(hass, entity_registry, "pause")
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == translation_key
    assert str(raised.value) == message
    assert raised.value.__cause__ is error
    assert not complaints(caplog)


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

    await clear_authorization_control(hass, mock_printer_client)  # the capture's bit cleared
    await press(hass, entity_registry, "stop")
    # Real printers keep `mc_remaining_time` after a stop (the P1P capture: FAILED, 759).
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "gcode_state": "FAILED"}}
    )
    assert hass.states.get(remaining).state == STATE_UNKNOWN  # type: ignore[union-attr]
    assert hass.states.get(end_time).state == STATE_UNKNOWN  # type: ignore[union-attr]


def complaints(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Return any error, and our own warnings.

    Home Assistant itself warns (newer releases) when a service targets an unavailable
    entity; that is its note on the call, not a complaint about the user's press.
    """
    return [
        record
        for record in caplog.records
        if record.levelno >= logging.ERROR
        or (record.levelno >= logging.WARNING and record.name.startswith("custom_components."))
    ]


def button_state(hass: HomeAssistant, entity_registry: er.EntityRegistry, key: str) -> str:
    """Return the state of the button `<serial>_<key>`."""
    entity_id = entity_registry.async_get_entity_id("button", DOMAIN, f"{SERIAL}_{key}")
    assert entity_id is not None, key
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


def usable(hass: HomeAssistant, entity_registry: er.EntityRegistry) -> set[str]:
    """Return which control buttons can be pressed now."""
    return {
        key
        for key in ("pause", "resume", "stop")
        if button_state(hass, entity_registry, key) != STATE_UNAVAILABLE
    }


@pytest.mark.usefixtures("init_integration")
async def test_buttons_follow_the_job(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """Only the buttons that make sense now can be pressed (the P1P capture: a failed job)."""
    assert usable(hass, entity_registry) == set()
    assert button_state(hass, entity_registry, "refresh") != STATE_UNAVAILABLE
    for gcode_state, expected in (
        ("PREPARE", {"stop"}),
        ("RUNNING", {"pause", "stop"}),
        ("PAUSE", {"resume", "stop"}),
        ("FINISH", set()),
        ("IDLE", set()),
    ):
        await report_state(hass, mock_printer_client, gcode_state)
        assert usable(hass, entity_registry) == expected, gcode_state


@pytest.mark.parametrize(
    ("key", "gcode_state", "message"),
    [
        ("pause", "FINISH", "The printer is not printing, so there is nothing to pause"),
        ("pause", "PAUSE", "The printer is not printing, so there is nothing to pause"),
        ("resume", "RUNNING", "The print is not paused, so there is nothing to resume"),
        ("stop", "IDLE", "The printer has no print job, so there is nothing to stop"),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_impossible_press_is_refused_plainly(
    hass: HomeAssistant,
    *,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    caplog: pytest.LogCaptureFixture,
    key: str,
    gcode_state: str,
    message: str,
) -> None:
    """A press the job does not allow is refused before sending, in plain words, unlogged.

    Home Assistant skips unavailable buttons; a press that raced a state change reaches the
    button and is refused there.
    """
    await report_state(hass, mock_printer_client, gcode_state)
    await press(hass, entity_registry, key)  # unavailable: nothing happens
    entity_id = entity_registry.async_get_entity_id("button", DOMAIN, f"{SERIAL}_{key}")
    entity = hass.data[BUTTON_DOMAIN].get_entity(entity_id)
    with pytest.raises(ServiceValidationError) as raised:
        await entity.async_press()
    assert raised.value.translation_domain == DOMAIN
    assert str(raised.value) == message
    mock_printer_client.async_request.assert_not_called()
    assert not complaints(caplog)


def authorization_issue(hass: HomeAssistant) -> ir.IssueEntry | None:
    """Return the repair issue about this printer's authorization control, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"authorization_control_{SERIAL}")


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_authorization_control_blocks_print_control(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With the `fun` bit set (the H2D capture, printing) control is unavailable, never sent.

    A repair issue explains Developer mode; the light still works. Turning Developer mode on
    clears the bit, and with it the issue.
    """
    assert usable(hass, entity_registry) == set()
    issue = authorization_issue(hass)
    assert issue is not None
    assert issue.translation_key == "authorization_control"
    assert issue.translation_placeholders == {"name": "H2D"}
    assert not issue.is_fixable
    light = entity_registry.async_get_entity_id("light", DOMAIN, f"{SERIAL}_chamber_light")
    assert hass.states.get(light).state != STATE_UNAVAILABLE  # type: ignore[union-attr]

    entity_id = entity_registry.async_get_entity_id("button", DOMAIN, f"{SERIAL}_pause")
    entity = hass.data[BUTTON_DOMAIN].get_entity(entity_id)
    with pytest.raises(HomeAssistantError) as raised:
        await entity.async_press()  # a press that raced the report
    assert raised.value.translation_key == "authorization_required"
    mock_printer_client.async_request.assert_not_called()

    await clear_authorization_control(hass, mock_printer_client)
    assert usable(hass, entity_registry) == {"pause", "stop"}
    assert authorization_issue(hass) is None
    assert not complaints(caplog)


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
async def test_authorization_issue_goes_with_the_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Unloading the printer's entry removes its repair issue; setting it up raises it again."""
    assert authorization_issue(hass) is not None
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert authorization_issue(hass) is None
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    assert authorization_issue(hass) is not None


@pytest.mark.usefixtures("init_integration")
async def test_authorization_refusal_without_fun(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """A printer that does not report `fun` is known to refuse once it refused a command."""
    await report_state(hass, mock_printer_client, "RUNNING")
    assert authorization_issue(hass) is None
    mock_printer_client.async_request.side_effect = CommandRejected("error 84033543")
    with pytest.raises(HomeAssistantError) as raised:
        await press(hass, entity_registry, "pause")
    assert raised.value.translation_key == "authorization_required"
    assert usable(hass, entity_registry) == set()
    assert authorization_issue(hass) is not None
