"""Fans: part cooling, auxiliary and chamber, set in 10 % steps as the printer shows them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.fan import FanEntity, FanEntityDescription, FanEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .controls import BambuControlEntity
from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .printer.commands import Fan
from .printer.state import PrinterState

PARALLEL_UPDATES = 1

# The printer reports fan gears 0-15, read as percent rounded up to 10 % steps.
SPEED_STEPS = 10


@dataclass(frozen=True, kw_only=True)
class BambuFanDescription(FanEntityDescription):
    """A fan: which M106 fan it is, where its speed is read, whether this printer has it."""

    fan: Fan
    value_fn: Callable[[PrinterState], int | None]
    exists_fn: Callable[[BambuCoordinator], bool]


FANS: tuple[BambuFanDescription, ...] = (
    BambuFanDescription(
        key="part_cooling_fan_control",
        translation_key="part_cooling_fan",
        fan=Fan.PART_COOLING,
        value_fn=lambda state: state.fans.part_cooling,
        exists_fn=lambda coordinator: coordinator.data.reported.part_cooling_fan,
    ),
    BambuFanDescription(
        key="aux_fan_control",
        translation_key="aux_fan",
        fan=Fan.AUX,
        value_fn=lambda state: state.fans.aux,
        exists_fn=lambda coordinator: (
            coordinator.model.aux_fan and coordinator.data.reported.aux_fan
        ),
    ),
    BambuFanDescription(
        key="chamber_fan_control",
        translation_key="chamber_fan",
        fan=Fan.CHAMBER,
        value_fn=lambda state: state.fans.chamber,
        exists_fn=lambda coordinator: (
            coordinator.model.chamber_fan and coordinator.data.reported.chamber_fan
        ),
    ),
)


class BambuFan(BambuControlEntity, FanEntity):
    """A fan whose speed is what the printer reports; setting it sends M106 and waits."""

    entity_description: BambuFanDescription
    _attr_supported_features = (
        FanEntityFeature.SET_SPEED | FanEntityFeature.TURN_ON | FanEntityFeature.TURN_OFF
    )
    _attr_speed_count = SPEED_STEPS

    def __init__(self, coordinator: BambuCoordinator, description: BambuFanDescription) -> None:
        super().__init__(coordinator, description.key, (PrinterState.fans,))
        self.entity_description = description

    @property
    def percentage(self) -> int | None:
        """Return the speed the printer reports, in percent."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def is_on(self) -> bool | None:
        """Return whether the fan turns."""
        percentage = self.percentage
        return None if percentage is None else percentage > 0

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available, self.percentage)

    async def async_set_percentage(self, percentage: int) -> None:
        """Set the speed (0 stops the fan) and wait for the printer to accept it."""
        coordinator = self.coordinator
        command = coordinator.commands.set_fan(self.entity_description.fan, percentage)
        await coordinator.async_send(command)

    async def async_turn_on(
        self, percentage: int | None = None, preset_mode: str | None = None, **kwargs: Any
    ) -> None:
        """Run the fan at the given speed, or at full speed."""
        await self.async_set_percentage(100 if percentage is None else percentage)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop the fan."""
        await self.async_set_percentage(0)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the fans this printer has, unless it is read-only."""
    coordinator = entry.runtime_data.coordinator
    if coordinator.read_only:
        return
    async_add_entities(
        BambuFan(coordinator, description)
        for description in FANS
        if description.exists_fn(coordinator)
    )
