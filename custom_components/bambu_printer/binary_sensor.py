"""Binary sensors: connection, HMS, SD card, firmware update, authorization, door, drying."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .entity import BambuEntity, EntityFactory, ams_label, async_add_entities_as_found
from .printer.models import DoorSensor
from .printer.state import AmsUnit, PrinterState, View

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class BambuBinarySensorDescription(BinarySensorEntityDescription):
    """A printer binary sensor: how to read it and whether this printer has it."""

    value_fn: Callable[[BambuCoordinator], bool | None]
    views: tuple[View[Any], ...]  # every state view value_fn and attr_fn read
    attr_fn: Callable[[PrinterState], Mapping[str, Any] | None] = lambda _: None
    exists_fn: Callable[[BambuCoordinator], bool] = lambda _: True
    # The connection sensor must report "off" while offline instead of going unavailable.
    always_available: bool = False


BINARY_SENSORS: tuple[BambuBinarySensorDescription, ...] = (
    BambuBinarySensorDescription(
        key="online",
        translation_key="online",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda coordinator: coordinator.client.available,
        views=(),
        always_available=True,
    ),
    BambuBinarySensorDescription(
        key="hms_problem",
        translation_key="hms_problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        value_fn=lambda coordinator: bool(coordinator.data.hms),
        views=(PrinterState.hms,),
        attr_fn=lambda state: {"codes": [message.full_code for message in state.hms]},
    ),
    BambuBinarySensorDescription(
        key="sdcard",
        translation_key="sdcard",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda coordinator: coordinator.data.sdcard,
        views=(PrinterState.sdcard,),
        exists_fn=lambda coordinator: coordinator.data.reported.sdcard,
    ),
    BambuBinarySensorDescription(
        key="firmware_update",
        translation_key="firmware_update",
        device_class=BinarySensorDeviceClass.UPDATE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda coordinator: coordinator.data.firmware.update_available,
        views=(PrinterState.firmware,),
        attr_fn=lambda state: {
            "new_version": state.firmware.new_version,
            "ams_update_available": state.firmware.ams_update_available,
        },
        exists_fn=lambda coordinator: coordinator.data.reported.firmware_update,
    ),
    BambuBinarySensorDescription(
        key="authorization_control",
        translation_key="authorization_control",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda coordinator: coordinator.authorization_required,
        views=(PrinterState.authorization_control,),
        exists_fn=lambda coordinator: coordinator.data.reported.authorization_control,
    ),
    BambuBinarySensorDescription(
        key="door",
        translation_key="door",
        device_class=BinarySensorDeviceClass.DOOR,
        value_fn=lambda coordinator: coordinator.data.door_open,
        views=(PrinterState.door_open,),
        exists_fn=lambda coordinator: (
            coordinator.model.door_sensor(coordinator.data.firmware.version) is not DoorSensor.NONE
        ),
    ),
)


class BambuBinarySensor(BambuEntity, BinarySensorEntity):
    """A printer binary sensor."""

    entity_description: BambuBinarySensorDescription

    def __init__(
        self, coordinator: BambuCoordinator, description: BambuBinarySensorDescription
    ) -> None:
        super().__init__(coordinator, description.key, description.views)
        self.entity_description = description

    @property
    def available(self) -> bool:
        """Follow the connection, except for the connection sensor itself."""
        return self.entity_description.always_available or super().available

    @property
    def is_on(self) -> bool | None:
        """Return the sensor's state."""
        return self.entity_description.value_fn(self.coordinator)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return details that belong with the state."""
        return self.entity_description.attr_fn(self.coordinator.data)

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available, self.is_on, self.extra_state_attributes)


class AmsDryingSensor(BambuEntity, BinarySensorEntity):
    """Whether one AMS unit is drying its filament; unavailable while it is detached."""

    _attr_translation_key = "ams_drying"
    _attr_device_class = BinarySensorDeviceClass.RUNNING

    def __init__(self, coordinator: BambuCoordinator, unit: AmsUnit) -> None:
        super().__init__(coordinator, f"ams_{unit.id}_drying", (PrinterState.ams,))
        self._ams_id = unit.id
        self._attr_translation_placeholders = {"ams": ams_label(unit.id)}

    def _unit(self) -> AmsUnit | None:
        return next((unit for unit in self.coordinator.data.ams if unit.id == self._ams_id), None)

    @property
    def available(self) -> bool:
        """Available while connected and the unit is still reported."""
        return super().available and self._unit() is not None

    @property
    def is_on(self) -> bool | None:
        """Return whether the unit has drying time left."""
        unit = self._unit()
        return unit.drying if unit is not None else None

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available, self.is_on)


def _candidates(coordinator: BambuCoordinator) -> Iterable[tuple[str, EntityFactory]]:
    for description in BINARY_SENSORS:
        if description.exists_fn(coordinator):
            yield description.key, partial(BambuBinarySensor, coordinator, description)
    for unit in coordinator.data.ams:
        if unit.drying_max is not None:
            yield f"ams_{unit.id}_drying", partial(AmsDryingSensor, coordinator, unit)


def _shape(state: PrinterState) -> object:
    """Summarise what decides which binary sensors exist: readings, model, firmware, AMS."""
    return (
        state.reported,
        state.model,
        state.firmware.version,
        tuple((unit.id, unit.kind) for unit in state.ams),
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the binary sensors this printer has, and more when it reports new hardware."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities_as_found(
        coordinator,
        async_add_entities,
        lambda: _candidates(coordinator),
        _shape,
        (PrinterState.reported, PrinterState.firmware, PrinterState.ams),
    )
