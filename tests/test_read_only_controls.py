"""Read-only mode and the control entities: none are created, and old ones are removed."""

from unittest.mock import MagicMock

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.bambu_printer.const import CONTROL_KEYS, OPTION_READ_ONLY

from .conftest import setup_entry
from .mock_client import SERIAL, capture_entry

CONTROL_DOMAINS = frozenset({"button", "fan", "light", "number", "select"})


def control_keys(entity_registry: er.EntityRegistry, entry_id: str) -> set[str]:
    """Return the keys of the entry's entities that act on the printer."""
    return {
        entity.unique_id.removeprefix(f"{SERIAL}_")
        for entity in er.async_entries_for_config_entry(entity_registry, entry_id)
        if entity.domain in CONTROL_DOMAINS and entity.unique_id != f"{SERIAL}_refresh"
    }


@pytest.mark.parametrize("capture", ["MOCK-H2D", "P1P"])
async def test_switching_to_read_only_removes_every_control(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    capture: str,
) -> None:
    """Every control entity is in CONTROL_KEYS, so read-only mode forgets all of them."""
    entry = await setup_entry(hass, capture_entry(capture))
    controls = control_keys(entity_registry, entry.entry_id)
    assert controls <= CONTROL_KEYS
    assert {"bed_heater", "speed_profile_control", "part_cooling_fan_control"} <= controls

    hass.config_entries.async_update_entry(entry, options={OPTION_READ_ONLY: True})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert control_keys(entity_registry, entry.entry_id) == set()
