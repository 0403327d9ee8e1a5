"""Event entity: one per printer, firing on job and error transitions (see job_events.py)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .entity import BambuEntity
from .printer.events import EventType

# Push updates: entities never poll, so no update is ever throttled.
PARALLEL_UPDATES = 0
EVENT_KEY = "printer_event"


class BambuEventEntity(BambuEntity, EventEntity):
    """The printer's job and error events, for automations and the logbook."""

    _attr_translation_key = EVENT_KEY

    def __init__(self, coordinator: BambuCoordinator) -> None:
        super().__init__(coordinator, EVENT_KEY, ())  # events arrive by their own listener
        self._attr_event_types = [event_type.value for event_type in EventType]

    async def async_added_to_hass(self) -> None:
        """Listen to the printer's events while the entity exists."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.events.add_listener(self._handle_event))

    @callback
    def _handle_event(self, event_type: str, data: dict[str, Any]) -> None:
        self._trigger_event(event_type, data)
        self.async_write_ha_state()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the printer's event entity."""
    async_add_entities([BambuEventEntity(entry.runtime_data.coordinator)])
