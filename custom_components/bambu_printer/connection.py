"""Turn a config entry's data into connection settings for the protocol library."""

import logging
import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant

from .const import CONF_ACCESS_CODE, CONF_SERIAL, ENV_CA_FILE, MQTT_PORT
from .printer.mqtt import ConnectionSettings
from .printer.tls import async_get_ssl_context

_LOGGER = logging.getLogger(__name__)

# Seconds between MQTT pings; a printer silent for three of these is reconnected.
KEEPALIVE = 30
_WARNED_CA_OVERRIDE = False


def ca_override() -> Path | None:
    """Return the PEM file that replaces Bambu's CA bundle, if the environment names one."""
    global _WARNED_CA_OVERRIDE  # noqa: PLW0603  (warn once per process, not per printer)
    value = os.environ.get(ENV_CA_FILE)
    if not value:
        return None
    if not _WARNED_CA_OVERRIDE:
        _WARNED_CA_OVERRIDE = True
        _LOGGER.warning(
            "Trusting the certificate authority in %s (from %s) instead of Bambu Lab's",
            value,
            ENV_CA_FILE,
        )
    return Path(value)


async def async_printer_ssl_context(hass: HomeAssistant) -> ssl.SSLContext:
    """Return the cached TLS context that verifies printers against Bambu's CA."""
    del hass  # the library builds and caches it off the event loop itself
    return await async_get_ssl_context(ca_override())


async def async_local_settings(hass: HomeAssistant, data: Mapping[str, Any]) -> ConnectionSettings:
    """Build LAN MQTT settings (user bblp, the access code, TLS name = serial)."""
    return ConnectionSettings(
        host=data[CONF_HOST],
        port=data.get(CONF_PORT, MQTT_PORT),
        serial=data[CONF_SERIAL],
        password=data[CONF_ACCESS_CODE],
        ssl_context=await async_printer_ssl_context(hass),
        keepalive=KEEPALIVE,
    )
