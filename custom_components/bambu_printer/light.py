"""The chamber light: one light entity for every chamber light bar (two on H2 printers)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.light import LightEntity
from homeassistant.components.light.const import ColorMode
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .entity import BambuEntity
from .printer.state import PrinterState

PARALLEL_UPDATES = 1

CHAMBER_LIGHT = "chamber_light"


class ChamberLight(BambuEntity, LightEntity):
    """The printer's chamber light; its state comes from the printer's own reports.

    Printers with two light bars switch both at once; the light is on while either is.
    """

    _attr_translation_key = "chamber_light"
    _attr_color_mode = ColorMode.ONOFF

    def __init__(self, coordinator: BambuCoordinator) -> None:
        super().__init__(coordinator, CHAMBER_LIGHT, (PrinterState.chamber_light,))
        self._attr_supported_color_modes = {ColorMode.ONOFF}

    @property
    def is_on(self) -> bool | None:
        """Return whether the printer reports the light on."""
        return self.coordinator.data.chamber_light

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available, self.is_on)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch the light on."""
        await self._async_set(on=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the light off."""
        await self._async_set(on=False)

    async def _async_set(self, *, on: bool) -> None:
        coordinator = self.coordinator
        for node in coordinator.data.chamber_light_nodes:
            await coordinator.async_send(coordinator.commands.ledctrl(node, on))


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the chamber light when the printer has one and control is allowed."""
    coordinator = entry.runtime_data.coordinator
    if not coordinator.read_only and coordinator.data.chamber_light is not None:
        async_add_entities([ChamberLight(coordinator)])
