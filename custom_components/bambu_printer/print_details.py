"""Sensors from the current print's 3mf: how much filament it takes, by weight and length."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import UnitOfLength, UnitOfMass

from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .files import PrinterFiles
from .image import BambuFilesEntity
from .printer.project import PrintDetails


@dataclass(frozen=True, kw_only=True)
class PrintDetailDescription(SensorEntityDescription):
    """A reading of the print's 3mf."""

    value_fn: Callable[[PrintDetails], float | None]


def _filaments(details: PrintDetails) -> dict[str, Any]:
    return {
        "filaments": [
            {"type": use.type, "color": use.color, "grams": use.used_g, "meters": use.used_m}
            for use in details.filaments
        ]
    }


PRINT_DETAIL_SENSORS: tuple[PrintDetailDescription, ...] = (
    PrintDetailDescription(
        key="print_weight",
        translation_key="print_weight",
        device_class=SensorDeviceClass.WEIGHT,
        native_unit_of_measurement=UnitOfMass.GRAMS,
        suggested_display_precision=1,
        value_fn=lambda details: details.weight_g,
    ),
    PrintDetailDescription(
        key="print_length",
        translation_key="print_length",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.METERS,
        suggested_display_precision=2,
        value_fn=lambda details: details.length_m,
    ),
)


class PrintDetailSensor(BambuFilesEntity, SensorEntity):
    """A reading of the current (or last) print's file."""

    entity_description: PrintDetailDescription

    def __init__(
        self,
        coordinator: BambuCoordinator,
        files: PrinterFiles,
        description: PrintDetailDescription,
    ) -> None:
        super().__init__(coordinator, files, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> float | None:
        """Return the reading; unknown until a print's file was read."""
        details = self.files.details
        return self.entity_description.value_fn(details) if details is not None else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return each filament's share of the print."""
        details = self.files.details
        return _filaments(details) if details is not None else None

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available, self.native_value, self.extra_state_attributes)


def print_detail_sensors(entry: BambuConfigEntry) -> list[SensorEntity]:
    """Return the print's weight and length sensors (none without access to the files)."""
    files = entry.runtime_data.files
    if files is None:
        return []
    coordinator = entry.runtime_data.coordinator
    return [
        PrintDetailSensor(coordinator, files, description) for description in PRINT_DETAIL_SENSORS
    ]
