"""Choices: the running print's speed profile, and the air duct's mode (H2, P2S, X2D)."""

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
from .printer.state import AIRDUCT_MODES, SPEED_PROFILES, GcodeState, PrinterState

PARALLEL_UPDATES = 1

SPEED_PROFILE_KEY = "speed_profile_control"
AIRDUCT_KEY = "airduct_mode"
_LEVELS = {profile: level for level, profile in SPEED_PROFILES.items()}


class BambuSpeedProfile(BambuControlEntity, SelectEntity):
    """The speed profile; offered while a print runs, the only time printers change it."""

    _attr_translation_key = "speed_profile"

    def __init__(self, coordinator: BambuCoordinator) -> None:
        super().__init__(coordinator, SPEED_PROFILE_KEY, (PrinterState.speed, PrinterState.job))
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


class BambuAirDuct(BambuControlEntity, SelectEntity):
    """The air duct's mode (cooling, heating, ...), among those the printer lists."""

    _attr_translation_key = "airduct_mode"

    def __init__(self, coordinator: BambuCoordinator, modes: tuple[int, ...]) -> None:
        super().__init__(coordinator, AIRDUCT_KEY, (PrinterState.airduct,))
        self._attr_options = [AIRDUCT_MODES[mode] for mode in modes if mode in AIRDUCT_MODES]

    @property
    def current_option(self) -> str | None:
        """Return the mode the printer reports."""
        airduct = self.coordinator.data.airduct
        return None if airduct is None or airduct.mode is None else AIRDUCT_MODES.get(airduct.mode)

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available, self.current_option)

    async def async_select_option(self, option: str) -> None:
        """Switch the mode and wait for the printer to accept it."""
        mode = next(mode for mode, name in AIRDUCT_MODES.items() if name == option)
        coordinator = self.coordinator
        await coordinator.async_send(coordinator.commands.set_airduct(mode))


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the speed profile, and the air duct where the printer reports one.

    A read-only printer gets neither.
    """
    coordinator = entry.runtime_data.coordinator
    if coordinator.read_only:
        return
    entities: list[SelectEntity] = [BambuSpeedProfile(coordinator)]
    airduct = coordinator.data.airduct
    if airduct is not None and any(mode in AIRDUCT_MODES for mode in airduct.modes):
        entities.append(BambuAirDuct(coordinator, airduct.modes))
    async_add_entities(entities)
