"""Heater targets: each nozzle, the bed and (where the model has a heater) the chamber."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .controls import BambuControlEntity
from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .entity import NOZZLE_SIDES
from .printer.commands import Command, CommandFactory
from .printer.models import PrinterModel
from .printer.state import PrinterState

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class BambuHeaterDescription(NumberEntityDescription):
    """A heater's target: where it is read, the command that sets it, the model's maximum."""

    value_fn: Callable[[PrinterState], float | None]
    command_fn: Callable[[CommandFactory, int], Command]
    max_fn: Callable[[PrinterModel], int | None]


def _heater(key: str, **fields: Any) -> BambuHeaterDescription:
    return BambuHeaterDescription(
        key=key,
        translation_key=key,
        device_class=NumberDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        native_min_value=0,  # 0 switches the heater off
        native_step=1,
        mode=NumberMode.BOX,
        **fields,
    )


def _nozzle_target(index: int) -> Callable[[PrinterState], float | None]:
    def value(state: PrinterState) -> float | None:
        for nozzle in state.temperatures.nozzles:
            if nozzle.index == index:
                return nozzle.target
        return None

    return value


NOZZLE = _heater(
    "nozzle_heater",
    value_fn=lambda state: state.temperatures.nozzle_target,
    command_fn=lambda factory, value: factory.set_nozzle_temperature(value),
    max_fn=lambda model: model.nozzle_max,
)
# Dual-nozzle printers take a target per extruder (0 right, 1 left).
SIDE_NOZZLES = tuple(
    _heater(
        f"{side}_nozzle_heater",
        value_fn=_nozzle_target(index),
        command_fn=lambda factory, value, index=index: factory.set_nozzle_temperature(value, index),
        max_fn=lambda model: model.nozzle_max,
    )
    for index, side in enumerate(NOZZLE_SIDES)
)
BED = _heater(
    "bed_heater",
    value_fn=lambda state: state.temperatures.bed_target,
    command_fn=lambda factory, value: factory.set_bed_temperature(value),
    max_fn=lambda model: model.bed_max,
)
CHAMBER = _heater(
    "chamber_heater",
    value_fn=lambda state: state.temperatures.chamber_target,
    command_fn=lambda factory, value: factory.set_chamber_temperature(value),
    max_fn=lambda model: model.chamber_max,
)


def heaters(model: PrinterModel) -> list[tuple[BambuHeaterDescription, int]]:
    """Return the heaters this model lets us set, each with its highest target."""
    found = [*SIDE_NOZZLES] if model.dual_nozzle else [NOZZLE]
    found.extend((BED, CHAMBER))
    return [
        (description, maximum)
        for description in found
        if (maximum := description.max_fn(model)) is not None
    ]


class BambuHeaterTarget(BambuControlEntity, NumberEntity):
    """A heater's target temperature; the value is what the printer reports, never assumed."""

    entity_description: BambuHeaterDescription

    def __init__(
        self, coordinator: BambuCoordinator, description: BambuHeaterDescription, maximum: int
    ) -> None:
        super().__init__(coordinator, description.key, (PrinterState.temperatures,))
        self.entity_description = description
        self._attr_native_max_value = maximum

    @property
    def native_value(self) -> float | None:
        """Return the target the printer reports."""
        return self.entity_description.value_fn(self.coordinator.data)

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available, self.native_value)

    async def async_set_native_value(self, value: float) -> None:
        """Send the new target and wait for the printer to accept it."""
        command = self.entity_description.command_fn(self.coordinator.commands, round(value))
        await self.coordinator.async_send(command)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the heater targets unless the printer is read-only."""
    coordinator = entry.runtime_data.coordinator
    if coordinator.read_only:
        return
    async_add_entities(
        BambuHeaterTarget(coordinator, description, maximum)
        for description, maximum in heaters(coordinator.model)
    )
