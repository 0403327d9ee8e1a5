"""Diagnostics: what the printer reported, with every secret and address removed."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_EMAIL, CONF_HOST, CONF_PASSWORD, CONF_TOKEN, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .const import CONF_ACCESS_CODE, CONF_UID
from .data import BambuConfigEntry

# Entry data and options; entries added through a Bambu account also hold its token, user id
# and email (never the password).
TO_REDACT_ENTRY = {
    CONF_ACCESS_CODE,
    CONF_EMAIL,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_UID,
    CONF_USERNAME,
}
# Keys inside printer reports that carry addresses, credentials or account identifiers:
# `net.info[].ip` (the printer's IP as an integer), `ipcam.rtsp_url` (IP, sometimes the
# access code), serial numbers of modules, and cloud ids.
TO_REDACT_REPORT = {
    "ip",
    "rtsp_url",
    "sn",
    "access_code",
    "dev_access_code",
    "password",
    "token",
    "uid",
    "user_id",
    "url",
    "oss_url",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: BambuConfigEntry
) -> dict[str, Any]:
    """Return the entry and the merged printer state, redacted."""
    coordinator = entry.runtime_data.coordinator
    state = coordinator.client.state
    return {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(dict(entry.data), TO_REDACT_ENTRY),
            "options": dict(entry.options),
        },
        "connection": {
            "available": coordinator.client.available,
            "model": coordinator.model.key,
            "read_only": coordinator.read_only,
            # Since setup: many connects for few reports is a link that keeps dropping.
            "connects": coordinator.client.connects,
            "reports_received": coordinator.client.reports_received,
        },
        "state": async_redact_data(state.raw_report(), TO_REDACT_REPORT),
    }
