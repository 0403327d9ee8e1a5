"""Base entity: identity, device, availability, and writing state only on visible change."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import BambuCoordinator, views_context
from .printer.state import (
    AMS_HT_FIRST_ID,
    AMS_LITE_FIRST_ID,
    EXTERNAL_SPOOL_NOZZLE,
    PrinterState,
    Tray,
    View,
)


def printer_device_info(coordinator: BambuCoordinator) -> DeviceInfo:
    """Describe the printer as one Home Assistant device (AMS units are its entities)."""
    firmware = coordinator.data.firmware.version
    return DeviceInfo(
        identifiers={(DOMAIN, coordinator.serial)},
        manufacturer="Bambu Lab",
        model=coordinator.model.product_name,
        name=coordinator.config_entry.title,
        serial_number=coordinator.serial,
        sw_version=str(firmware) if firmware else None,
    )


class BambuEntity(CoordinatorEntity[BambuCoordinator]):
    """An entity of one printer, keyed `<serial>_<key>`."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: BambuCoordinator,
        key: str,
        views: Iterable[View[Any]] | None = None,
    ) -> None:
        """Name the state views the entity shows; it hears only reports that change them.

        With `views` None it hears every report. Availability changes reach every entity.
        """
        super().__init__(coordinator, views_context(views))
        self._attr_unique_id = f"{coordinator.serial}_{key}"
        self._attr_device_info = printer_device_info(coordinator)
        self._shown: tuple[Any, ...] | None = None

    @property
    def available(self) -> bool:
        """Entities follow the printer's connection, not the last report's age."""
        return self.coordinator.client.available

    def _shown_values(self) -> tuple[Any, ...]:
        """Return everything this entity shows; subclasses add their values."""
        return (self.available,)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write state only when something the user sees has changed."""
        shown = self._shown_values()
        if shown == self._shown:
            return
        self._shown = shown
        self.async_write_ha_state()

    async def async_added_to_hass(self) -> None:
        """Remember what was written first, so the next report compares against it."""
        await super().async_added_to_hass()
        self._shown = self._shown_values()


def ams_label(ams_id: int) -> str:
    """Return the AMS unit's name as Bambu Studio shows it: A-D, and HT-A... for AMS HT.

    The A2L numbers its AMS lite 16: it is that printer's first unit, so "A" as well.
    """
    if ams_id >= AMS_HT_FIRST_ID:
        return f"HT-{chr(ord('A') + ams_id - AMS_HT_FIRST_ID)}"
    if ams_id >= AMS_LITE_FIRST_ID:
        return chr(ord("A") + ams_id - AMS_LITE_FIRST_ID)
    return chr(ord("A") + ams_id)


def tray_label(tray: Tray) -> dict[str, str]:
    """Return the unit letter and 1-based slot users see on the AMS ("A" and "1" for A1)."""
    return {"ams": ams_label(tray.ams_id or 0), "tray": str(tray.tray_id + 1)}


NOZZLE_SIDES = ("right", "left")  # extruder ids 0 and 1 of dual-nozzle printers


def external_spool_side(state: PrinterState, tray: Tray) -> str | None:
    """Return the nozzle ("left", "right") an external spool feeds; None with a single spool."""
    if len(state.external_spools) < 2:
        return None
    nozzle = EXTERNAL_SPOOL_NOZZLE.get(tray.tray_id)
    return None if nozzle is None else NOZZLE_SIDES[nozzle]


type EntityFactory = Callable[[], Entity]


@callback
def async_add_entities_as_found(
    coordinator: BambuCoordinator,
    add_entities: Callable[[Iterable[Entity]], None],
    candidates: Callable[[], Iterable[tuple[str, EntityFactory]]],
    shape: Callable[[PrinterState], object],
    views: Iterable[View[Any]] | None = None,
) -> None:
    """Add entities now and whenever the printer starts reporting something new.

    `candidates` yields (key, factory) pairs for everything the printer has right now, e.g.
    one per AMS tray; `shape` is a cheap summary of what `candidates` depends on, so reports
    that only change values cost one comparison, and `views` (all of them by default) the
    state views `shape` reads, so other reports cost nothing.
    """
    known: set[str] = set()
    last_shape: list[object] = [object()]

    @callback
    def add_new() -> None:
        current = shape(coordinator.data)
        if current == last_shape[0]:
            return
        last_shape[0] = current
        new = [(key, factory) for key, factory in candidates() if key not in known]
        if new:
            known.update(key for key, _ in new)
            add_entities([factory() for _, factory in new])

    add_new()
    coordinator.config_entry.async_on_unload(
        coordinator.async_add_listener(add_new, views_context(views))
    )
