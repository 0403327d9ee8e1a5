"""Reports reach only the entities whose views they change: no entity ever shows a stale value.

Entities name the state views they show, and the coordinator hands a report only to those whose
views it replaced. A view missing from a declaration would leave that entity stale, so here
every top-level field of every capture is sent, one at a time, to a printer set up from each
other capture; after each report every entity must show what it would show if recomputed.
"""

from collections.abc import Iterator
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import async_get_platforms
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer.const import DOMAIN
from custom_components.bambu_printer.entity import BambuEntity

from .captures import CAPTURE_NAMES, pushall_report
from .conftest import setup_entry
from .mock_client import push_report, set_available


def _entities(hass: HomeAssistant) -> Iterator[BambuEntity]:
    for platform in async_get_platforms(hass, DOMAIN):
        for entity in platform.entities.values():
            assert isinstance(entity, BambuEntity)
            yield entity


def _stale(hass: HomeAssistant) -> list[tuple[str | None, Any, Any]]:
    """Return the entities whose written values differ from what they would show now."""
    return [
        (entity.entity_id, entity._shown, entity._shown_values())
        for entity in _entities(hass)
        if entity._shown_values() != entity._shown
    ]


def _single_field_reports(base: str) -> Iterator[dict[str, Any]]:
    """Yield one report per top-level field of every other capture, then its full report."""
    for other in CAPTURE_NAMES:
        if other == base:
            continue
        full = pushall_report(other)
        for key, value in full["print"].items():
            if key != "command":
                yield {"print": {"command": "push_status", key: value}}
        yield full


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "init_integration")
async def test_no_entity_misses_a_report_that_changes_it(
    hass: HomeAssistant, mock_printer_client: MagicMock, capture: str
) -> None:
    """Each single-field report leaves every entity showing its current value."""
    assert _stale(hass) == []
    checked = 0
    for report in _single_field_reports(capture):
        await push_report(hass, mock_printer_client, report)
        assert _stale(hass) == [], report
        checked += 1
    assert checked > 100  # the captures really were replayed

    await set_available(hass, mock_printer_client, False)
    assert _stale(hass) == []
    await set_available(hass, mock_printer_client, True)
    assert _stale(hass) == []


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_a_report_reaches_only_the_entities_it_changes(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_printer_client: MagicMock
) -> None:
    """A nozzle temperature report reaches the temperature sensors and heaters only."""
    original = BambuEntity._handle_coordinator_update
    with patch.object(
        BambuEntity, "_handle_coordinator_update", autospec=True, side_effect=original
    ) as handled:
        await setup_entry(hass, mock_config_entry)
        entities = len(list(_entities(hass)))
        handled.reset_mock()
        await push_report(
            hass,
            mock_printer_client,
            {"print": {"command": "push_status", "nozzle_temper": 201.5}},
        )
        called = {call.args[0].entity_id for call in handled.call_args_list}

        assert called == {
            "sensor.p1p_nozzle_temperature",
            "sensor.p1p_nozzle_target_temperature",
            "sensor.p1p_bed_temperature",
            "sensor.p1p_bed_target_temperature",
            "number.p1p_nozzle_heater",
            "number.p1p_bed_heater",
        }
        assert entities > 30

        handled.reset_mock()
        await set_available(hass, mock_printer_client, False)
        assert handled.call_count == entities  # the connection reaches every entity


@pytest.mark.usefixtures("init_integration")
async def test_a_failing_entity_does_not_starve_the_others(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_printer_client: MagicMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An entity raising while it handles a report is logged; the rest still update."""
    coordinator = mock_config_entry.runtime_data.coordinator
    heard: list[str] = []

    def failing() -> None:
        raise RuntimeError("entity bug")

    coordinator.async_add_listener(failing, frozenset({"temperatures"}))
    coordinator.async_add_listener(lambda: heard.append("after"), frozenset({"temperatures"}))
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "bed_temper": 61.0}}
    )
    assert heard == ["after"]
    assert "Unexpected error updating listener" in caplog.text
    state = hass.states.get("sensor.p1p_bed_temperature")
    assert state is not None
    assert state.state == "61.0"
