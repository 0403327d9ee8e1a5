"""Turn a config entry's data into connection settings for the protocol library.

LAN entries reach the printer's own broker (user ``bblp``, the access code, TLS name = serial);
entries that connect through the Bambu cloud reach the region's broker (user ``u_<uid>``, the
account token, public CAs, TLS name = the broker's host).
"""

import ssl
from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant

from . import account
from .const import (
    CONF_ACCESS_CODE,
    CONF_CONNECTION,
    CONF_SERIAL,
    CONNECTION_CLOUD,
    MQTT_PORT,
)
from .printer.mqtt import ConnectionSettings
from .printer.tls import async_get_public_ssl_context, async_get_ssl_context

# Seconds between MQTT pings; a printer silent for three of these is reconnected.
KEEPALIVE = 30


async def async_printer_ssl_context(hass: HomeAssistant) -> ssl.SSLContext:
    """Return the cached TLS context that verifies printers against Bambu's CA."""
    del hass  # the library builds and caches it off the event loop itself
    return await async_get_ssl_context()


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


async def async_cloud_settings(hass: HomeAssistant, data: Mapping[str, Any]) -> ConnectionSettings:
    """Build cloud broker MQTT settings (user u_<uid>, the token, TLS name = broker host).

    The broker's certificate is checked against the public CAs.
    """
    del hass
    credentials = account.entry_mqtt_credentials(data)
    ssl_context = await async_get_public_ssl_context()
    return ConnectionSettings(
        host=credentials.host,
        port=credentials.port,
        serial=data[CONF_SERIAL],
        username=credentials.username,
        password=credentials.password,
        server_hostname=credentials.host,
        ssl_context=ssl_context,
        keepalive=KEEPALIVE,
    )


async def async_connection_settings(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> ConnectionSettings:
    """Build the settings an entry connects with: the cloud broker or the printer itself."""
    if data.get(CONF_CONNECTION) == CONNECTION_CLOUD:
        return await async_cloud_settings(hass, data)
    return await async_local_settings(hass, data)
