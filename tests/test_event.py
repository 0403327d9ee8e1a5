"""The event entity and device triggers: job and error events reach automations once.

With a mocked client for the mapping (event types and data, device triggers, repairs), and
against the simulator for what the wire does (a user cancel, a broker restart mid-print).
"""

from typing import Any
from unittest.mock import MagicMock

import pytest
from homeassistant.components import automation
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, ServiceCall, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
    async_mock_service,
)

from custom_components.bambu_printer import device_trigger
from custom_components.bambu_printer.const import DOMAIN
from custom_components.bambu_printer.job_events import BUS_EVENT
from custom_components.bambu_printer.printer.events import EventType
from simulator.device import SimulatedPrinter
from simulator.testing import wait_until

from .conftest import device_of, make_entry, setup_entry
from .mock_client import SERIAL, push_report, set_available

HEATBED = {"attr": 0x03000100, "code": 0x00010007}  # fatal: needs the user
FIRST_LAYER = {"attr": 0x0C000300, "code": 0x00030007}  # common: no repair issue


def event_entity(hass: HomeAssistant, unique_id: str) -> str:
    """Return the event entity's id."""
    found = er.async_get(hass).async_get_entity_id("event", DOMAIN, f"{unique_id}_printer_event")
    assert found is not None
    return found


def record_bus(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Collect the integration's bus events (what device triggers listen to)."""
    seen: list[dict[str, Any]] = []

    @callback
    def collect(event: Event) -> None:
        seen.append(dict(event.data))

    hass.bus.async_listen(BUS_EVENT, collect)
    return seen


@pytest.mark.usefixtures("init_integration")
async def test_job_events_reach_entity_and_bus(
    hass: HomeAssistant, mock_printer_client: MagicMock
) -> None:
    """Start, pause, resume, finish: one event each, with the job's name."""
    seen = record_bus(hass)
    entity_id = event_entity(hass, SERIAL)
    for gcode_state in ("RUNNING", "PAUSE", "RUNNING", "FINISH", "FINISH"):
        report = {"gcode_state": gcode_state, "subtask_name": "Cube", "mc_percent": len(seen)}
        await push_report(hass, mock_printer_client, {"print": report})
    assert [event["type"] for event in seen] == [
        "print_started",
        "print_paused",
        "print_resumed",
        "print_finished",
    ]
    device = device_of(hass, SERIAL)
    assert device is not None
    assert {event["device_id"] for event in seen} == {device.id}
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["event_type"] == "print_finished"
    assert state.attributes["job_name"] == "Cube"
    assert isinstance(state.attributes["duration"], int)


@pytest.mark.usefixtures("init_integration")
async def test_cancel_and_failure_are_told_apart(
    hass: HomeAssistant, mock_printer_client: MagicMock
) -> None:
    """The cancel code makes print_canceled; another code is a print error, then failed."""
    seen = record_bus(hass)
    client = mock_printer_client
    await push_report(hass, client, {"print": {"gcode_state": "RUNNING"}})
    await push_report(hass, client, {"print": {"gcode_state": "FAILED", "print_error": 50348044}})
    await push_report(hass, client, {"print": {"print_error": 0}})
    await push_report(hass, client, {"print": {"gcode_state": "RUNNING"}})
    await push_report(hass, client, {"print": {"print_error": 0x03004000}})
    await push_report(hass, client, {"print": {"gcode_state": "FAILED"}})
    assert [event["type"] for event in seen] == [
        "print_started",
        "print_canceled",
        "print_started",
        "print_error_raised",
        "print_failed",
    ]
    failed = seen[-1]
    assert failed["error_code"] == "0300_4000"
    assert failed["url"] == "https://wiki.bambulab.com/en/hms/home"
    assert "error_text" not in failed  # offline: the code and the link only


@pytest.mark.usefixtures("init_integration")
async def test_no_events_on_reconnect(hass: HomeAssistant, mock_printer_client: MagicMock) -> None:
    """What the state became while the link was down is no event; later changes are."""
    seen = record_bus(hass)
    client = mock_printer_client
    await push_report(hass, client, {"print": {"gcode_state": "RUNNING"}})
    await set_available(hass, client, False)
    await push_report(hass, client, {"print": {"gcode_state": "FINISH", "hms": [HEATBED]}})
    await set_available(hass, client, True)
    assert [event["type"] for event in seen] == ["print_started"]
    await push_report(hass, client, {"print": {"hms": []}})
    assert [event["type"] for event in seen] == ["print_started", "hms_error_cleared"]


@pytest.mark.usefixtures("init_integration")
async def test_hms_repair_issue_for_errors_that_need_the_user(
    hass: HomeAssistant, mock_printer_client: MagicMock, issue_registry: ir.IssueRegistry
) -> None:
    """A fatal HMS message opens a repair issue with the wiki link; a common one does not."""
    seen = record_bus(hass)
    client = mock_printer_client
    await push_report(hass, client, {"print": {"hms": [HEATBED, FIRST_LAYER]}})
    issue_id = f"hms_{SERIAL}_0300_0100_0001_0007"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "hms_error_no_text"  # offline
    assert issue.learn_more_url == (
        "https://wiki.bambulab.com/en/x1/troubleshooting/hmscode/0300_0100_0001_0007"
    )
    assert len([i for i in issue_registry.issues if i[1].startswith("hms_")]) == 1
    assert [(e["type"], e["error_code"]) for e in seen] == [
        ("hms_error_raised", "0300_0100_0001_0007"),
        ("hms_error_raised", "0C00_0300_0003_0007"),
    ]
    await push_report(hass, client, {"print": {"hms": [FIRST_LAYER]}})
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    await push_report(hass, client, {"print": {"hms": [HEATBED]}})
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None  # goes with the entry


@pytest.mark.usefixtures("init_integration")
async def test_device_triggers(hass: HomeAssistant, mock_printer_client: MagicMock) -> None:
    """Every event is a device trigger; "print finished" runs the automation once."""
    device = device_of(hass, SERIAL)
    assert device is not None
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    ours = {trigger["type"] for trigger in triggers if trigger["domain"] == DOMAIN}
    assert ours == {kind.value for kind in EventType}
    calls: list[ServiceCall] = async_mock_service(hass, "test", "notify")
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: {
                "trigger": {
                    "platform": "device",
                    "domain": DOMAIN,
                    "device_id": device.id,
                    "type": "print_finished",
                },
                "action": {
                    "service": "test.notify",
                    "data": {"job": "{{ trigger.event.data.job_name }}"},
                },
            }
        },
    )
    client = mock_printer_client
    await push_report(hass, client, {"print": {"gcode_state": "RUNNING", "subtask_name": "Cube"}})
    await push_report(hass, client, {"print": {"gcode_state": "FINISH"}})
    assert [call.data for call in calls] == [{"job": "Cube"}]


async def test_no_triggers_for_other_devices(hass: HomeAssistant) -> None:
    """A device that is not a printer of this integration gets none of these triggers."""
    entry = MockConfigEntry(domain="other")
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("other", "1")}
    )
    assert await device_trigger.async_get_triggers(hass, device.id) == []
    assert await device_trigger.async_get_triggers(hass, "no-such-device") == []


@pytest.mark.usefixtures("trust_simulator")
async def test_simulator_cancel_and_broker_restart(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """Against the simulator: a broker restart mid-print fires nothing; a stop is a cancel."""
    entry = await setup_entry(hass, make_entry(printer))
    seen = record_bus(hass)
    entity_id = event_entity(hass, printer.serial)
    printer.engine.start_job("Benchy", minutes=60)
    await wait_until(lambda: [e["type"] for e in seen] == ["print_started"], 10)

    await printer.stop_broker()
    await wait_until(lambda: hass.states.get(entity_id).state == STATE_UNAVAILABLE, 10)  # type: ignore[union-attr]
    await printer.start_broker()
    await wait_until(lambda: hass.states.get(entity_id).state != STATE_UNAVAILABLE, 15)  # type: ignore[union-attr]
    await hass.async_block_till_done()
    assert [e["type"] for e in seen] == ["print_started"]

    coordinator = entry.runtime_data.coordinator
    await coordinator.async_send(coordinator.commands.stop())
    await wait_until(lambda: len(seen) == 2, 10)
    assert seen[1]["type"] == "print_canceled"
    assert seen[1]["job_name"] == "Benchy"
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("init_integration")
async def test_no_events_when_home_assistant_restarts(
    hass: HomeAssistant, mock_printer_client: MagicMock
) -> None:
    """Reloading the entry mid-print (as a restart does) repeats no event; the state stays."""
    client = mock_printer_client
    await push_report(hass, client, {"print": {"gcode_state": "RUNNING", "hms": [HEATBED]}})
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    entity_id = event_entity(hass, SERIAL)
    before = hass.states.get(entity_id)
    assert before is not None
    seen = record_bus(hass)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await push_report(hass, client, {"print": {"mc_percent": 42}})
    assert seen == []
    after = hass.states.get(entity_id)
    assert after is not None
    assert after.attributes["event_type"] == before.attributes["event_type"] == "hms_error_raised"
