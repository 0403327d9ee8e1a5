"""Entities built from real printer captures: what exists per model, and every state shown."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from simulator.device import SimulatedPrinter
from simulator.testing import start_printer, trusting_ca, wait_until

from .captures import CAPTURE_NAMES, pushall_report, version_report
from .conftest import make_entry

pytestmark = pytest.mark.usefixtures("socket_enabled")

SERIAL = "01P00A000000001"


async def setup_from_capture(
    hass: HomeAssistant, printer: SimulatedPrinter, capture: str
) -> MockConfigEntry:
    """Set up an entry whose printer answers with a real capture instead of its own state."""
    printer.silent = True  # the simulated printer neither reports nor answers
    entry = make_entry(printer)
    entry.add_to_hass(hass)
    setup = hass.async_create_task(hass.config_entries.async_setup(entry.entry_id))
    # Once the client asked for the full state it has subscribed: answer like the real printer.
    await wait_until(lambda: printer.requests_received >= 1)
    printer.publish_report(version_report(capture))
    printer.publish_report(pushall_report(capture))
    assert await setup
    await hass.async_block_till_done()
    return entry


def entity_table(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """Return every entity of the entry with its registry facts and shown state."""
    registry = er.async_get(hass)
    table: dict[str, Any] = {}
    for entity in sorted(
        er.async_entries_for_config_entry(registry, entry.entry_id), key=lambda e: e.entity_id
    ):
        state = hass.states.get(entity.entity_id)
        # Attribute names are plain strings on the oldest release, string enums on newer ones.
        attributes = None if state is None else {str(k): v for k, v in state.attributes.items()}
        if attributes is not None and entity.domain == "camera":
            # A camera's access token (also in its picture URL) is random on every run.
            for key in ("access_token", "entity_picture"):
                if key in attributes:
                    attributes[key] = "<random>"
        table[entity.entity_id] = {
            "unique_id": entity.unique_id,
            "translation_key": entity.translation_key,
            "entity_category": entity.entity_category,
            "disabled_by": entity.disabled_by,
            "state": None if state is None else state.state,
            "attributes": attributes,
        }
    return table


@pytest.fixture
async def capture_printer(trust_simulator: None, printer: SimulatedPrinter) -> SimulatedPrinter:
    """The simulated printer, used only as a TLS endpoint that relays capture reports."""
    return printer


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
async def test_capture_entities_snapshot(
    hass: HomeAssistant,
    monkeypatch: pytest.MonkeyPatch,
    snapshot: SnapshotAssertion,
    capture: str,
) -> None:
    """Each real capture gives the entities and states users see, exactly."""
    async with start_printer("P1S", serial=SERIAL) as printer:
        with trusting_ca(printer.ca_path):
            entry = await setup_from_capture(hass, printer, capture)
            table = entity_table(hass, entry)

            # The end time moves with the clock: check it, then pin it for the snapshot.
            end_time_id = f"sensor.p1s_{SERIAL.lower()}_end_time"
            remaining = hass.states.get(f"sensor.p1s_{SERIAL.lower()}_remaining_time")
            if table[end_time_id]["state"] not in ("unknown", None):
                assert remaining is not None
                end = dt_util.parse_datetime(table[end_time_id]["state"])
                assert end is not None
                expected = dt_util.utcnow() + timedelta(minutes=float(remaining.state))
                assert abs((end - expected).total_seconds()) < 90
                table[end_time_id]["state"] = "<now + remaining time>"

            assert table == snapshot
            assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("capture", "present", "absent"),
    [
        (
            "MOCK-X1CMULTIAMS",
            {"chamber_temperature", "ams_128_humidity_level", "ams_2_tray_3_filament"},
            {"right_nozzle_temperature"},
        ),
        (
            "MOCK-H2D",
            {"right_nozzle_temperature", "left_nozzle_target_temperature", "chamber_temperature"},
            set(),
        ),
        ("P1P", {"ams_0_tray_0_filament"}, {"chamber_temperature", "aux_fan", "chamber_fan"}),
        (
            "MOCK-P1PNOAMS",
            {"external_254_filament"},
            {"chamber_temperature", "ams_0_humidity_level", "ams_0_tray_0_filament"},
        ),
        (
            "MOCK-A1",
            {"ams_0_tray_0_remaining"},
            {"chamber_temperature", "ams_0_temperature", "ams_0_humidity_level"},
        ),
    ],
)
async def test_entities_follow_model_capabilities(
    hass: HomeAssistant,
    capture_printer: SimulatedPrinter,
    capture: str,
    present: set[str],
    absent: set[str],
) -> None:
    """Entities exist only for what the model has (no chamber sensor on P1, no AMS without one)."""
    entry = await setup_from_capture(hass, capture_printer, capture)
    keys = {
        entity.unique_id.removeprefix(f"{capture_printer.serial}_")
        for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    assert present <= keys
    assert not absent & keys
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_new_ams_unit_adds_entities(
    hass: HomeAssistant, capture_printer: SimulatedPrinter
) -> None:
    """An AMS attached while Home Assistant runs gets its entities without a reload."""
    entry = await setup_from_capture(hass, capture_printer, "MOCK-P1PNOAMS")
    registry = er.async_get(hass)
    unique_id = f"{capture_printer.serial}_ams_0_tray_2_filament"
    assert registry.async_get_entity_id("sensor", "bambu_printer", unique_id) is None

    ams = pushall_report("P1P")["print"]["ams"]
    capture_printer.publish_report({"print": {"command": "push_status", "ams": ams}})
    await wait_until(
        lambda: registry.async_get_entity_id("sensor", "bambu_printer", unique_id) is not None
    )
    await hass.async_block_till_done()
    entity_id = registry.async_get_entity_id("sensor", "bambu_printer", unique_id)
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == "PLA"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_state_written_only_on_visible_change(
    hass: HomeAssistant, capture_printer: SimulatedPrinter
) -> None:
    """A report that changes one value writes exactly the entities that show it."""
    entry = await setup_from_capture(hass, capture_printer, "P1P")
    writes: list[str] = []
    unsubscribe = hass.bus.async_listen(
        "state_changed", lambda event: writes.append(event.data["entity_id"])
    )
    prefix = f"sensor.p1s_{capture_printer.serial.lower()}"

    # Nothing the user sees changes: no state is written.
    capture_printer.publish_report({"print": {"command": "push_status", "msg": 1}})
    capture_printer.publish_report({"print": {"command": "push_status", "mc_percent": 0}})
    # One shown value changes: one entity is written.
    capture_printer.publish_report({"print": {"command": "push_status", "nozzle_temper": 30.0}})
    await wait_until(lambda: bool(writes))
    await asyncio.sleep(0.2)
    await hass.async_block_till_done()
    unsubscribe()
    assert writes == [f"{prefix}_nozzle_temperature"]
    assert await hass.config_entries.async_unload(entry.entry_id)
