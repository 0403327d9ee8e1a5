"""Sensors: job, temperatures, fans, network, errors, firmware, AMS units and their trays."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfLength,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .entity import (
    NOZZLE_SIDES,
    BambuEntity,
    EntityFactory,
    ams_label,
    async_add_entities_as_found,
    external_spool_side,
    tray_label,
)
from .print_details import print_detail_sensors
from .printer.models import AmsKind
from .printer.state import (
    NOZZLE_TYPES,
    SPEED_PROFILES,
    STAGE_OPTIONS,
    AmsUnit,
    GcodeState,
    PrinterState,
    Tray,
    View,
)

# Push updates: entities never poll, so no update is ever throttled.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class BambuSensorDescription(SensorEntityDescription):
    """A printer-level sensor: how to read it and whether this printer has it."""

    value_fn: Callable[[PrinterState], StateType | datetime]
    views: tuple[View[Any], ...]  # every view value_fn and attr_fn read
    attr_fn: Callable[[PrinterState], Mapping[str, Any] | None] = lambda _: None
    # Attributes that need more than the state (Bambu's error texts, the model's wiki pages).
    detail_fn: Callable[[BambuCoordinator], Mapping[str, Any] | None] | None = None
    exists_fn: Callable[[BambuCoordinator], bool] = lambda _: True


@dataclass(frozen=True, kw_only=True)
class AmsSensorDescription(SensorEntityDescription):
    """A sensor of one AMS unit."""

    value_fn: Callable[[AmsUnit], StateType]
    exists_fn: Callable[[AmsUnit], bool] = lambda _: True


@dataclass(frozen=True, kw_only=True)
class TraySensorDescription(SensorEntityDescription):
    """A sensor of one filament tray (AMS slot or external spool)."""

    value_fn: Callable[[Tray], StateType]
    attr_fn: Callable[[Tray], Mapping[str, Any] | None] = lambda _: None
    external: bool = True  # whether external spools have it too


def _hms_attributes(coordinator: BambuCoordinator) -> dict[str, Any]:
    codes: list[dict[str, Any]] = []
    for message in coordinator.data.hms:
        code: dict[str, Any] = {
            "code": message.full_code,
            "severity": message.severity,
            "module": message.module,
            "url": coordinator.events.hms_url(message.full_code),
        }
        text = coordinator.events.error_text(message.full_code)
        if text is not None:
            code["text"] = text
        codes.append(code)
    return {"codes": codes}


def _print_error(state: PrinterState) -> str:
    error = state.print_error
    return error.formatted if error is not None and error.active else "none"


def _print_error_attributes(coordinator: BambuCoordinator) -> dict[str, Any] | None:
    error = coordinator.data.print_error
    if error is None or not error.active:
        return None
    text = coordinator.events.error_text(error.formatted)
    return None if text is None else {"text": text}


def _active_tray(state: PrinterState) -> str | None:
    tray = state.active_tray
    if tray is None:
        return "none"
    if tray.ams_id is None:
        side = external_spool_side(state, tray)
        return "External spool" if side is None else f"{side.capitalize()} external spool"
    label = tray_label(tray)
    return f"AMS {label['ams']} tray {label['tray']}"


def _active_tray_attributes(state: PrinterState) -> dict[str, Any] | None:
    tray = state.active_tray
    if tray is None:
        return None
    color = None if tray.transparent else tray.color
    return {"type": tray.type, "color": color, "name": tray.sub_brand}


def _gcode_state(state: PrinterState) -> str | None:
    job_state = state.job.state
    return job_state.value if job_state is not None else None


def _nozzle(index: int, target: bool) -> Callable[[PrinterState], float | None]:
    def value(state: PrinterState) -> float | None:
        nozzles = state.temperatures.nozzles
        if index >= len(nozzles):
            return None
        return nozzles[index].target if target else nozzles[index].current

    return value


def _temperature(
    key: str,
    value_fn: Callable[[PrinterState], float | None],
    exists_fn: Callable[[BambuCoordinator], bool] = lambda _: True,
) -> BambuSensorDescription:
    return BambuSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=value_fn,
        views=(PrinterState.temperatures,),
        exists_fn=exists_fn,
    )


def _fan(
    key: str,
    value_fn: Callable[[PrinterState], int | None],
    exists_fn: Callable[[BambuCoordinator], bool],
    *,
    diagnostic: bool = False,
) -> BambuSensorDescription:
    return BambuSensorDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC if diagnostic else None,
        entity_registry_enabled_default=not diagnostic,
        value_fn=value_fn,
        views=(PrinterState.fans,),
        exists_fn=exists_fn,
    )


def _has_nozzle(index: int) -> Callable[[BambuCoordinator], bool]:
    """Exist on dual-nozzle printers; single-nozzle ones show only the nozzle sensors."""
    return lambda coordinator: len(coordinator.data.temperatures.nozzles) > max(index, 1)


PRINTER_SENSORS: tuple[BambuSensorDescription, ...] = (
    BambuSensorDescription(
        key="print_status",
        translation_key="print_status",
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in GcodeState],
        value_fn=_gcode_state,
        views=(PrinterState.job,),
    ),
    BambuSensorDescription(
        key="current_stage",
        translation_key="current_stage",
        device_class=SensorDeviceClass.ENUM,
        options=list(STAGE_OPTIONS),
        value_fn=lambda state: state.job.stage,
        views=(PrinterState.job,),
    ),
    BambuSensorDescription(
        key="progress",
        translation_key="progress",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: state.job.percent,
        views=(PrinterState.job,),
    ),
    BambuSensorDescription(
        key="remaining_time",
        translation_key="remaining_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: state.job.remaining_minutes,
        views=(PrinterState.job,),
    ),
    BambuSensorDescription(
        key="end_time",
        translation_key="end_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda state: state.job.end_time,
        views=(PrinterState.job,),
    ),
    BambuSensorDescription(
        key="start_time",
        translation_key="start_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda state: state.job.start_time,
        views=(PrinterState.job,),
        exists_fn=lambda coordinator: coordinator.data.reported.start_time,
    ),
    BambuSensorDescription(
        key="current_layer",
        translation_key="current_layer",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: state.job.layer,
        views=(PrinterState.job,),
    ),
    BambuSensorDescription(
        key="total_layers",
        translation_key="total_layers",
        value_fn=lambda state: state.job.total_layers,
        views=(PrinterState.job,),
    ),
    BambuSensorDescription(
        key="job_name",
        translation_key="job_name",
        value_fn=lambda state: state.job.name,
        views=(PrinterState.job,),
    ),
    _temperature("nozzle_temperature", lambda state: state.temperatures.nozzle),
    _temperature("nozzle_target_temperature", lambda state: state.temperatures.nozzle_target),
    *(
        _temperature(f"{side}_nozzle{kind}", _nozzle(index, target=target), _has_nozzle(index))
        for index, side in enumerate(NOZZLE_SIDES)
        for kind, target in (("_temperature", False), ("_target_temperature", True))
    ),
    _temperature("bed_temperature", lambda state: state.temperatures.bed),
    _temperature("bed_target_temperature", lambda state: state.temperatures.bed_target),
    _temperature(
        "chamber_temperature",
        lambda state: state.temperatures.chamber,
        lambda coordinator: coordinator.model.chamber_sensor,
    ),
    _fan(
        "part_cooling_fan",
        lambda state: state.fans.part_cooling,
        lambda coordinator: coordinator.data.reported.part_cooling_fan,
    ),
    _fan(
        "aux_fan",
        lambda state: state.fans.aux,
        lambda coordinator: coordinator.model.aux_fan and coordinator.data.reported.aux_fan,
    ),
    _fan(
        "chamber_fan",
        lambda state: state.fans.chamber,
        lambda coordinator: coordinator.model.chamber_fan and coordinator.data.reported.chamber_fan,
    ),
    _fan(
        "heatbreak_fan",
        lambda state: state.fans.heatbreak,
        lambda coordinator: coordinator.data.reported.heatbreak_fan,
        diagnostic=True,
    ),
    BambuSensorDescription(
        key="speed_profile",
        translation_key="speed_profile",
        device_class=SensorDeviceClass.ENUM,
        options=list(SPEED_PROFILES.values()),
        value_fn=lambda state: state.speed.profile,
        views=(PrinterState.speed,),
    ),
    BambuSensorDescription(
        key="wifi_signal",
        translation_key="wifi_signal",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda state: state.wifi_dbm,
        views=(PrinterState.wifi_dbm,),
        exists_fn=lambda coordinator: coordinator.data.reported.wifi_signal,
    ),
    BambuSensorDescription(
        key="print_error",
        translation_key="print_error",
        value_fn=_print_error,
        views=(PrinterState.print_error,),
        detail_fn=_print_error_attributes,
        exists_fn=lambda coordinator: coordinator.data.reported.print_error,
    ),
    BambuSensorDescription(
        key="hms_errors",
        translation_key="hms_errors",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: len(state.hms),
        views=(PrinterState.hms,),
        detail_fn=_hms_attributes,
    ),
    BambuSensorDescription(
        key="firmware_version",
        translation_key="firmware_version",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.firmware.version,
        views=(PrinterState.firmware,),
    ),
    BambuSensorDescription(
        key="nozzle_type",
        translation_key="nozzle_type",
        device_class=SensorDeviceClass.ENUM,
        options=list(NOZZLE_TYPES),
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.nozzle.type,
        views=(PrinterState.nozzle,),
        exists_fn=lambda coordinator: coordinator.data.reported.nozzle_type,
    ),
    BambuSensorDescription(
        key="nozzle_diameter",
        translation_key="nozzle_diameter",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.MILLIMETERS,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.nozzle.diameter,
        views=(PrinterState.nozzle,),
        exists_fn=lambda coordinator: coordinator.data.reported.nozzle_diameter,
    ),
    BambuSensorDescription(
        key="active_tray",
        translation_key="active_tray",
        value_fn=_active_tray,
        views=(PrinterState.active_tray, PrinterState.external_spools),
        attr_fn=_active_tray_attributes,
        exists_fn=lambda coordinator: bool(
            coordinator.data.ams or coordinator.data.external_spools
        ),
    ),
)

AMS_SENSORS: tuple[AmsSensorDescription, ...] = (
    AmsSensorDescription(
        key="humidity_level",
        translation_key="ams_humidity_level",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda unit: unit.humidity_level,
        # The AMS lite has no humidity sensor, though it reports a level.
        exists_fn=lambda unit: (
            unit.humidity_level is not None and unit.kind is not AmsKind.AMS_LITE
        ),
    ),
    AmsSensorDescription(
        key="humidity",
        translation_key="ams_humidity",
        device_class=SensorDeviceClass.HUMIDITY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda unit: unit.humidity_percent,
        exists_fn=lambda unit: unit.humidity_percent is not None,
    ),
    AmsSensorDescription(
        key="temperature",
        translation_key="ams_temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda unit: unit.temperature,
        # AMS lite units report 0.0: they have no sensor.
        exists_fn=lambda unit: bool(unit.temperature),
    ),
    AmsSensorDescription(
        key="remaining_drying_time",
        translation_key="ams_remaining_drying_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        value_fn=lambda unit: unit.dry_time_minutes,
        exists_fn=lambda unit: unit.drying_max is not None,
    ),
)


def _filament_attributes(tray: Tray) -> dict[str, Any]:
    return {
        "name": tray.sub_brand,
        "filament_id": tray.filament_id,
        "color": None if tray.transparent else tray.color,
        "alpha": tray.alpha,
        "nozzle_temp_min": tray.nozzle_temp_min,
        "nozzle_temp_max": tray.nozzle_temp_max,
        "active": tray.active,
        "empty": tray.empty,
    }


def _tray_color(tray: Tray) -> str | None:
    """Show clear filament (alpha 00) as transparent, not as the black its RGB says."""
    if tray.empty:
        return None
    return TRANSPARENT if tray.transparent else tray.color


TRANSPARENT = "transparent"

TRAY_SENSORS: tuple[TraySensorDescription, ...] = (
    TraySensorDescription(
        key="filament",
        translation_key="filament",
        value_fn=lambda tray: "empty" if tray.empty else tray.type,
        attr_fn=_filament_attributes,
    ),
    TraySensorDescription(
        key="color",
        translation_key="color",
        value_fn=_tray_color,
        attr_fn=lambda tray: {"alpha": tray.alpha},
    ),
    TraySensorDescription(
        key="remaining",
        translation_key="remaining",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda tray: None if tray.empty else tray.remain,
        external=False,  # no RFID reading on an external spool: the amount is never known
    ),
)


class BambuSensor(BambuEntity, SensorEntity):
    """A printer-level sensor."""

    entity_description: BambuSensorDescription

    def __init__(self, coordinator: BambuCoordinator, description: BambuSensorDescription) -> None:
        super().__init__(coordinator, description.key, description.views)
        self.entity_description = description

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value read from the merged printer state."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return details that belong with the value (e.g. the HMS codes and their texts)."""
        description = self.entity_description
        if description.detail_fn is not None:
            return description.detail_fn(self.coordinator)
        return description.attr_fn(self.coordinator.data)

    def _shown_values(self) -> tuple[Any, ...]:
        state = self.coordinator.data
        description = self.entity_description
        return (self.available, description.value_fn(state), self.extra_state_attributes)


def _find_unit(state: PrinterState, ams_id: int) -> AmsUnit | None:
    return next((unit for unit in state.ams if unit.id == ams_id), None)


class AmsSensor(BambuEntity, SensorEntity):
    """A sensor of one AMS unit; unavailable while the unit is detached."""

    entity_description: AmsSensorDescription

    def __init__(
        self, coordinator: BambuCoordinator, description: AmsSensorDescription, unit: AmsUnit
    ) -> None:
        super().__init__(coordinator, f"ams_{unit.id}_{description.key}", (PrinterState.ams,))
        self.entity_description = description
        self._ams_id = unit.id
        self._attr_translation_placeholders = {"ams": ams_label(unit.id)}

    def _unit(self) -> AmsUnit | None:
        return _find_unit(self.coordinator.data, self._ams_id)

    @property
    def available(self) -> bool:
        """Available while connected and the unit is still reported."""
        return super().available and self._unit() is not None

    @property
    def native_value(self) -> StateType:
        """Return the unit's reading."""
        unit = self._unit()
        return self.entity_description.value_fn(unit) if unit is not None else None

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available, self.native_value)


class TraySensor(BambuEntity, SensorEntity):
    """A sensor of one filament tray or external spool."""

    entity_description: TraySensorDescription

    def __init__(
        self,
        coordinator: BambuCoordinator,
        description: TraySensorDescription,
        tray: Tray,
    ) -> None:
        if tray.ams_id is None:
            key = f"external_{tray.tray_id}_{description.key}"
            side = external_spool_side(coordinator.data, tray)
            translation_key = f"external_{description.key}"
            if side is not None:
                translation_key = f"external_{side}_{description.key}"
            placeholders: dict[str, str] = {}
        else:
            key = f"ams_{tray.ams_id}_tray_{tray.tray_id}_{description.key}"
            translation_key = f"tray_{description.key}"
            placeholders = tray_label(tray)
        super().__init__(coordinator, key, (PrinterState.ams, PrinterState.external_spools))
        self.entity_description = description
        self._attr_translation_key = translation_key
        self._attr_translation_placeholders = placeholders
        self._ams_id = tray.ams_id
        self._tray_id = tray.tray_id

    def _tray(self) -> Tray | None:
        state = self.coordinator.data
        if self._ams_id is None:
            trays: Iterable[Tray] = state.external_spools
        else:
            unit = _find_unit(state, self._ams_id)
            trays = unit.trays if unit is not None else ()
        return next((tray for tray in trays if tray.tray_id == self._tray_id), None)

    @property
    def available(self) -> bool:
        """Available while connected and the tray is still reported."""
        return super().available and self._tray() is not None

    @property
    def native_value(self) -> StateType:
        """Return the tray's reading."""
        tray = self._tray()
        return self.entity_description.value_fn(tray) if tray is not None else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return the filament's details."""
        tray = self._tray()
        return self.entity_description.attr_fn(tray) if tray is not None else None

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available, self.native_value, self.extra_state_attributes)


def _candidates(coordinator: BambuCoordinator) -> Iterable[tuple[str, EntityFactory]]:
    state = coordinator.data
    for description in PRINTER_SENSORS:
        if description.exists_fn(coordinator):
            yield description.key, partial(BambuSensor, coordinator, description)
    for unit in state.ams:
        for ams_description in AMS_SENSORS:
            if ams_description.exists_fn(unit):
                yield (
                    f"ams_{unit.id}_{ams_description.key}",
                    partial(AmsSensor, coordinator, ams_description, unit),
                )
    for tray in (*(t for unit in state.ams for t in unit.trays), *state.external_spools):
        for tray_description in TRAY_SENSORS:
            if tray.ams_id is None and not tray_description.external:
                continue
            yield (
                f"{tray.ams_id}_{tray.tray_id}_{tray_description.key}",
                partial(TraySensor, coordinator, tray_description, tray),
            )


def _shape(state: PrinterState) -> object:
    """Summarise what decides which sensors exist: readings, model, nozzles, AMS and spools."""
    return (
        state.reported,
        state.model,
        len(state.temperatures.nozzles),
        tuple((unit.id, unit.kind, len(unit.trays)) for unit in state.ams),
        len(state.external_spools),
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the sensors this printer has, and more when it reports new hardware."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities_as_found(
        coordinator,
        async_add_entities,
        lambda: _candidates(coordinator),
        _shape,
        (
            PrinterState.reported,
            PrinterState.temperatures,
            PrinterState.ams,
            PrinterState.external_spools,
        ),
    )
    async_add_entities(print_detail_sensors(entry))
