"""Sensors with a mocked client: which exist per model, updates, end time, a whole print."""

import copy
from datetime import timedelta
from unittest.mock import MagicMock

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer.const import DOMAIN
from custom_components.bambu_printer.printer.state import PrinterState
from custom_components.bambu_printer.sensor import TraySensor
from simulator.engine import VirtualPrinter

from .captures import pushall_report
from .conftest import setup_entry
from .mock_client import CAPTURE_TIME, SERIAL, push_report


def entity_keys(entity_registry: er.EntityRegistry, entry: MockConfigEntry) -> set[str]:
    """Return the keys (unique ids without the serial) of the entry's entities."""
    return {
        entity.unique_id.removeprefix(f"{SERIAL}_")
        for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    }


def sensor_entity_id(entity_registry: er.EntityRegistry, key: str) -> str:
    """Return the entity id of the sensor `<serial>_<key>`."""
    entity_id = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{SERIAL}_{key}")
    assert entity_id is not None, key
    return entity_id


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
        # The P1P takes aux and chamber fans (pybambu, BambuStudio), the A1 has none.
        ("P1P", {"ams_0_tray_0_filament", "aux_fan", "chamber_fan"}, {"chamber_temperature"}),
        (
            "MOCK-P1PNOAMS",
            {"external_254_filament"},
            {"chamber_temperature", "ams_0_humidity_level", "ams_0_tray_0_filament"},
        ),
        (
            "MOCK-A1",
            {"ams_0_tray_0_remaining"},
            {"chamber_temperature", "ams_0_temperature", "ams_0_humidity_level", "aux_fan"},
        ),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_entities_follow_model_capabilities(
    entity_registry: er.EntityRegistry,
    mock_config_entry: MockConfigEntry,
    present: set[str],
    absent: set[str],
) -> None:
    """Entities exist only for what the model has (no chamber sensor on P1, no AMS without one)."""
    keys = entity_keys(entity_registry, mock_config_entry)
    assert present <= keys
    assert not absent & keys


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_end_time_is_report_time_plus_remaining_time(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """A running job's end time is when the report came plus the remaining minutes."""
    remaining = hass.states.get(sensor_entity_id(entity_registry, "remaining_time"))
    end_time = hass.states.get(sensor_entity_id(entity_registry, "end_time"))
    assert remaining is not None
    assert end_time is not None
    assert remaining.state == "549"
    assert dt_util.parse_datetime(end_time.state) == CAPTURE_TIME + timedelta(minutes=549)


@pytest.mark.parametrize("capture", ["MOCK-P1PNOAMS"])
@pytest.mark.usefixtures("init_integration")
async def test_new_ams_unit_adds_entities(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """An AMS attached while Home Assistant runs gets its entities without a reload."""
    unique_id = f"{SERIAL}_ams_0_tray_2_filament"
    assert entity_registry.async_get_entity_id("sensor", DOMAIN, unique_id) is None

    ams = pushall_report("P1P")["print"]["ams"]
    await push_report(hass, mock_printer_client, {"print": {"command": "push_status", "ams": ams}})

    state = hass.states.get(sensor_entity_id(entity_registry, "ams_0_tray_2_filament"))
    assert state is not None
    assert state.state == "PLA"


@pytest.mark.usefixtures("init_integration")
async def test_state_written_only_on_visible_change(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """A report that changes one value writes exactly the entities that show it."""
    writes: list[str] = []
    unsubscribe = hass.bus.async_listen(
        "state_changed", lambda event: writes.append(event.data["entity_id"])
    )

    # The state changes, but nothing the user sees: no state is written.
    await push_report(hass, mock_printer_client, {"print": {"command": "push_status", "msg": 1}})
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "mc_percent": 0}}
    )
    assert writes == []
    # One shown value changes: one entity is written.
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "nozzle_temper": 30.0}}
    )
    unsubscribe()
    assert writes == [sensor_entity_id(entity_registry, "nozzle_temperature")]


@pytest.mark.parametrize("capture", ["MOCK-X1CMULTIAMS"])
@pytest.mark.usefixtures("init_integration")
async def test_tray_sensors_skip_reports_that_leave_the_ams_alone(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tray sensors recompute only when the AMS view or the link changed, and then follow it."""
    computed: list[str] = []
    original = TraySensor._shown_values

    def counting(self: TraySensor) -> tuple[object, ...]:
        computed.append(self.entity_id)
        return original(self)

    monkeypatch.setattr(TraySensor, "_shown_values", counting)
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "nozzle_temper": 31.0}}
    )
    assert computed == []

    ams = copy.deepcopy(pushall_report("MOCK-X1CMULTIAMS")["print"]["ams"])
    ams["ams"][0]["tray"][0]["remain"] = 17
    await push_report(hass, mock_printer_client, {"print": {"command": "push_status", "ams": ams}})
    assert computed  # the AMS changed: every tray sensor looked again
    remaining = hass.states.get(sensor_entity_id(entity_registry, "ams_0_tray_0_remaining"))
    assert remaining is not None
    assert remaining.state == "17"


async def test_sensors_follow_a_whole_print(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Status, stage, progress and layers follow a print the simulator's P1P runs.

    Its reports (a full one, then deltas as a P1 sends them) reach the mocked client directly.
    """
    engine = VirtualPrinter(SERIAL, "P1P", speedup=60.0)
    mock_printer_client.state = PrinterState()
    mock_printer_client.state.apply(engine.version_report())
    mock_printer_client.state.apply(engine.full_report())
    await setup_entry(hass, mock_config_entry)

    def shown(key: str) -> str:
        state = hass.states.get(sensor_entity_id(entity_registry, key))
        assert state is not None
        return state.state

    assert shown("print_status") == "idle"
    progress: list[int] = []
    layers: list[int] = []
    stages: set[str] = set()
    statuses: set[str] = set()
    engine.start_job(name="Calibration cube", layers=20, minutes=2)
    for _ in range(6000):  # a report every 6 simulated seconds, for at most 10 hours
        engine.advance(0.1)
        if (report := engine.status_report()) is not None:
            await push_report(hass, mock_printer_client, report)
        progress.append(int(shown("progress")))
        layers.append(int(shown("current_layer")))
        stages.add(shown("current_stage"))
        statuses.add(shown("print_status"))
        if shown("print_status") == "finish":
            break

    assert {"prepare", "running", "finish"} <= statuses
    assert {"heatbed_preheating", "printing"} <= stages
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert layers == sorted(layers)
    assert shown("current_layer") == "20"
    assert shown("total_layers") == "20"
    assert shown("job_name") == "Calibration cube"
    assert shown("remaining_time") == "0"
