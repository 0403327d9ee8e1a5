"""Binary sensors: connection, HMS problems, SD card, firmware update, authorization control."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
from .entity import BambuEntity
from .printer.state import PrinterState

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class BambuBinarySensorDescription(BinarySensorEntityDescription):
    """A printer binary sensor: how to read it and whether this printer has it."""

    value_fn: Callable[[BambuCoordinator], bool | None]
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
        always_available=True,
    ),
    BambuBinarySensorDescription(
        key="hms_problem",
        translation_key="hms_problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        value_fn=lambda coordinator: bool(coordinator.data.hms),
        attr_fn=lambda state: {"codes": [message.full_code for message in state.hms]},
    ),
    BambuBinarySensorDescription(
        key="sdcard",
        translation_key="sdcard",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda coordinator: coordinator.data.sdcard,
        exists_fn=lambda coordinator: coordinator.data.reported.sdcard,
    ),
    BambuBinarySensorDescription(
        key="firmware_update",
        translation_key="firmware_update",
        device_class=BinarySensorDeviceClass.UPDATE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda coordinator: coordinator.data.firmware.update_available,
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
        exists_fn=lambda coordinator: coordinator.data.reported.authorization_control,
    ),
)


class BambuBinarySensor(BambuEntity, BinarySensorEntity):
    """A printer binary sensor."""

    entity_description: BambuBinarySensorDescription

    def __init__(
        self, coordinator: BambuCoordinator, description: BambuBinarySensorDescription
    ) -> None:
        super().__init__(coordinator, description.key)
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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the binary sensors this printer has."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        BambuBinarySensor(coordinator, description)
        for description in BINARY_SENSORS
        if description.exists_fn(coordinator)
    )
