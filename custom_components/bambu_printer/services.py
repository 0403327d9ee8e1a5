"""Actions: send G-code to a printer, and ask a printer for its full state."""

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

SERVICE_SEND_GCODE: Final = "send_gcode"
SERVICE_REFRESH: Final = "refresh"
ATTR_GCODE: Final = "gcode"
MAX_GCODE: Final = 64 * 1024  # the library's limit for one request

_DEVICE_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
_GCODE_SCHEMA = _DEVICE_SCHEMA.extend(
    {vol.Required(ATTR_GCODE): vol.All(cv.string, vol.Length(min=1, max=MAX_GCODE))}
)


def _coordinator(hass: HomeAssistant, device_id: str) -> BambuCoordinator:
    """Return the coordinator of the printer a device id names, or say plainly why not."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None or not any(domain == DOMAIN for domain, _ in device.identifiers):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_printer",
            translation_placeholders={"device_id": device_id},
        )
    for entry_id in device.config_entries:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is not None and entry.domain == DOMAIN:
            if entry.state is not ConfigEntryState.LOADED:
                break
            coordinator: BambuCoordinator = entry.runtime_data.coordinator
            return coordinator
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="printer_not_loaded",
        translation_placeholders={"name": device.name_by_user or device.name or device_id},
    )


async def _async_send_gcode(call: ServiceCall) -> None:
    """Send the G-code as one request and wait for the printer to accept it.

    Read-only mode and authorization control refuse it before it is sent.
    """
    coordinator = _coordinator(call.hass, call.data[ATTR_DEVICE_ID])
    gcode: str = call.data[ATTR_GCODE]
    if not gcode.strip():
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="empty_gcode")
    await coordinator.async_send(coordinator.commands.gcode_line(gcode))


async def _async_refresh(call: ServiceCall) -> None:
    """Ask the printer to push its full state (allowed in read-only mode too)."""
    await _coordinator(call.hass, call.data[ATTR_DEVICE_ID]).async_request_full_state()


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions once, for every printer."""
    hass.services.async_register(
        DOMAIN, SERVICE_SEND_GCODE, _async_send_gcode, schema=_GCODE_SCHEMA
    )
    hass.services.async_register(DOMAIN, SERVICE_REFRESH, _async_refresh, schema=_DEVICE_SCHEMA)
