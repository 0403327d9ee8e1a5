"""Actions: send G-code, ask for the full state, start and stop drying an AMS unit."""

from __future__ import annotations

from typing import Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN
from .coordinator import BambuCoordinator
from .entity import ams_label
from .printer.commands import DRYING_HOURS, DRYING_MIN_TEMPERATURE
from .printer.models import AmsKind
from .printer.state import AmsUnit

SERVICE_SEND_GCODE: Final = "send_gcode"
SERVICE_REFRESH: Final = "refresh"
SERVICE_START_DRYING: Final = "start_drying"
SERVICE_STOP_DRYING: Final = "stop_drying"
ATTR_GCODE: Final = "gcode"
ATTR_AMS: Final = "ams"
ATTR_TEMPERATURE: Final = "temperature"
ATTR_DURATION: Final = "duration"
ATTR_ROTATE_TRAY: Final = "rotate_tray"
# The hottest any drying unit goes (degC); each unit's own maximum is checked per call.
_HOTTEST_DRYING: Final = max(kind.drying_max or 0 for kind in AmsKind)
MAX_GCODE: Final = 64 * 1024  # the library's limit for one request

_DEVICE_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
_GCODE_SCHEMA = _DEVICE_SCHEMA.extend(
    {vol.Required(ATTR_GCODE): vol.All(cv.string, vol.Length(min=1, max=MAX_GCODE))}
)
_STOP_DRYING_SCHEMA = _DEVICE_SCHEMA.extend({vol.Required(ATTR_AMS): cv.string})
_START_DRYING_SCHEMA = _STOP_DRYING_SCHEMA.extend(
    {
        vol.Required(ATTR_TEMPERATURE): vol.All(
            vol.Coerce(int), vol.Range(min=DRYING_MIN_TEMPERATURE, max=_HOTTEST_DRYING)
        ),
        vol.Required(ATTR_DURATION): vol.All(
            vol.Coerce(int), vol.Range(min=DRYING_HOURS[0], max=DRYING_HOURS[1])
        ),
        vol.Optional(ATTR_ROTATE_TRAY, default=False): cv.boolean,
    }
)


def printer_coordinator(hass: HomeAssistant, device_id: str) -> BambuCoordinator:
    """Return the coordinator of the printer a device id names, or say plainly why not.

    The printer's entry is the one whose unique id is the serial in the device's identifier.
    """
    device = dr.async_get(hass).async_get(device_id)
    serial = None
    if device is not None:
        serial = next((ident for domain, ident in device.identifiers if domain == DOMAIN), None)
    if device is None or serial is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_printer",
            translation_placeholders={"device_id": device_id},
        )
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, serial)
    if entry is None or entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="printer_not_loaded",
            translation_placeholders={"name": device.name_by_user or device.name or device_id},
        )
    coordinator: BambuCoordinator = entry.runtime_data.coordinator
    return coordinator


async def _async_send_gcode(call: ServiceCall) -> None:
    """Send the G-code as one request and wait for the printer to accept it.

    Read-only mode and authorization control refuse it before it is sent.
    """
    coordinator = printer_coordinator(call.hass, call.data[ATTR_DEVICE_ID])
    gcode: str = call.data[ATTR_GCODE]
    if not gcode.strip():
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="empty_gcode")
    await coordinator.async_send(coordinator.commands.gcode_line(gcode))


async def _async_refresh(call: ServiceCall) -> None:
    """Ask the printer to push its full state (allowed in read-only mode too)."""
    await printer_coordinator(call.hass, call.data[ATTR_DEVICE_ID]).async_request_full_state()


def _drying_unit(coordinator: BambuCoordinator, name: str) -> tuple[AmsUnit, int]:
    """Return the AMS unit named as users see it ("A", "HT-A") and its hottest drying."""
    wanted = name.strip().upper()
    for unit in coordinator.data.ams:
        if ams_label(unit.id).upper() != wanted:
            continue
        maximum = unit.drying_max
        if maximum is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="ams_cannot_dry",
                translation_placeholders={"ams": ams_label(unit.id)},
            )
        return unit, maximum
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_ams",
        translation_placeholders={"ams": name},
    )


async def _async_start_drying(call: ServiceCall) -> None:
    """Start drying, within the unit's own maximum, and wait for the printer to accept it."""
    coordinator = printer_coordinator(call.hass, call.data[ATTR_DEVICE_ID])
    unit, maximum = _drying_unit(coordinator, call.data[ATTR_AMS])
    temperature: int = call.data[ATTR_TEMPERATURE]
    if temperature > maximum:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="drying_too_hot",
            translation_placeholders={"ams": ams_label(unit.id), "max": str(maximum)},
        )
    command = coordinator.commands.start_drying(
        unit.id, temperature, call.data[ATTR_DURATION], rotate_tray=call.data[ATTR_ROTATE_TRAY]
    )
    await coordinator.async_send(command)


async def _async_stop_drying(call: ServiceCall) -> None:
    """Stop drying and wait for the printer to accept it."""
    coordinator = printer_coordinator(call.hass, call.data[ATTR_DEVICE_ID])
    unit, _ = _drying_unit(coordinator, call.data[ATTR_AMS])
    await coordinator.async_send(coordinator.commands.stop_drying(unit.id))


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions once, for every printer."""
    hass.services.async_register(
        DOMAIN, SERVICE_SEND_GCODE, _async_send_gcode, schema=_GCODE_SCHEMA
    )
    hass.services.async_register(DOMAIN, SERVICE_REFRESH, _async_refresh, schema=_DEVICE_SCHEMA)
    hass.services.async_register(
        DOMAIN, SERVICE_START_DRYING, _async_start_drying, schema=_START_DRYING_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_STOP_DRYING, _async_stop_drying, schema=_STOP_DRYING_SCHEMA
    )
