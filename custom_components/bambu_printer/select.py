"""The speed profile of the running print (silent, standard, sport, ludicrous)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .controls import BambuControlEntity
from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .printer.state import SPEED_PROFILES, GcodeState

PARALLEL_UPDATES = 1

SPEED_PROFILE_KEY = "speed_profile_control"
_LEVELS = {profile: level for level, profile in SPEED_PROFILES.items()}


class BambuSpeedProfile(BambuControlEntity, SelectEntity):
    """The speed profile; offered while a print runs, the only time printers change it."""

    _attr_translation_key = "speed_profile"

    def __init__(self, coordinator: BambuCoordinator) -> None:
        super().__init__(coordinator, SPEED_PROFILE_KEY)
        self._attr_options = list(SPEED_PROFILES.values())

    @property
    def available(self) -> bool:
        """Offer the choice only while printing."""
        return super().available and self.coordinator.data.job.state is GcodeState.RUNNING

    @property
    def current_option(self) -> str | None:
        """Return the profile the printer reports."""
        return self.coordinator.data.speed.profile

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available, self.current_option)

    async def async_select_option(self, option: str) -> None:
        """Switch the profile; refused in plain words when no print runs."""
        coordinator = self.coordinator
        if coordinator.data.job.state is not GcodeState.RUNNING:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="not_printing_speed"
            )
        await coordinator.async_send(coordinator.commands.print_speed(_LEVELS[option]))


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the speed profile choice unless the printer is read-only."""
    coordinator = entry.runtime_data.coordinator
    if not coordinator.read_only:
        async_add_entities([BambuSpeedProfile(coordinator)])
