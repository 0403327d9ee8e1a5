"""Hear the printers' LAN announcements and offer each new printer as a discovered flow.

Printers broadcast NOTIFY packets to UDP 2021, which Home Assistant's ssdp integration does
not listen on. One listener serves every entry: it opens when the first entry sets up (before
that entry connects, so a printer whose address changed is found while its entry retries),
and closes when no entry is loaded or retrying any more, and when Home Assistant stops.

Each printer is passed on once, and again only when its address or model changes: the flow
then updates a configured printer's address (or aborts for a configured or ignored one), or
offers a new printer with host, serial and model filled in. Removing an entry, an ignored
one too, lets its printer be offered again.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any, Final

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    SOURCE_INTEGRATION_DISCOVERY,
    ConfigEntry,
    ConfigEntryChange,
    ConfigEntryState,
)
from homeassistant.const import CONF_HOST, CONF_NAME, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import discovery_flow
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util.hass_dict import HassKey

from .const import CONF_MODEL, CONF_SERIAL, DOMAIN
from .printer.discovery import DISCOVERY_PORT, Announcement, parse_announcement

_LOGGER = logging.getLogger(__name__)

# Every interface: printers send to the broadcast address 255.255.255.255.
LISTEN_HOST: Final = "0.0.0.0"  # noqa: S104
LISTEN_PORT: Final = DISCOVERY_PORT
# Printers remembered at most; announcements of further serials are dropped (a flood of
# invented serials must not start a flow each).
MAX_PRINTERS: Final = 64
DISCOVERY_KEY_VERSION: Final = 1

DATA_DISCOVERY: HassKey[PrinterDiscovery] = HassKey(f"{DOMAIN}_discovery")
# Entry states in which an entry counts as using the listener.
_ACTIVE: Final = frozenset(
    {ConfigEntryState.LOADED, ConfigEntryState.SETUP_RETRY, ConfigEntryState.SETUP_IN_PROGRESS}
)


def discovery_data(announcement: Announcement) -> dict[str, Any]:
    """Return what a discovered flow starts with: where the printer is and what it is."""
    return {
        CONF_HOST: announcement.host,
        CONF_SERIAL: announcement.serial,
        CONF_MODEL: announcement.model.key,
        CONF_NAME: announcement.name,
    }


class _Protocol(asyncio.DatagramProtocol):
    """Hands every datagram to the listener; errors on the socket are not fatal for UDP."""

    def __init__(self, listener: PrinterDiscovery) -> None:
        self._listener = listener

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        """Pass the packet on; the sender's address is not used (the packet names the host)."""
        self._listener.async_packet(data)

    def error_received(self, exc: Exception) -> None:
        """Log and carry on: an ICMP error about one datagram does not end the listener."""
        _LOGGER.debug("Discovery socket error: %s", exc)


class PrinterDiscovery:
    """The one UDP listener of the integration, shared by all entries."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start closed; `async_start` opens the socket."""
        self.hass = hass
        self._transport: asyncio.DatagramTransport | None = None
        self._lock = asyncio.Lock()
        self._offered: dict[str, Announcement] = {}
        self._told_port_taken = False
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_on_stop)
        self._unsubscribe_entries = async_dispatcher_connect(
            hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._async_entry_changed
        )

    @property
    def port(self) -> int | None:
        """Return the UDP port listened on, None while closed."""
        if self._transport is None:
            return None
        return int(self._transport.get_extra_info("sockname")[1])

    async def async_start(self) -> None:
        """Open the socket unless it is open; a port in use is logged once per run."""
        async with self._lock:
            if self._transport is not None or self.hass.is_stopping:
                return
            loop = asyncio.get_running_loop()
            try:
                transport, _protocol = await loop.create_datagram_endpoint(
                    lambda: _Protocol(self),
                    local_addr=(LISTEN_HOST, LISTEN_PORT),
                    family=socket.AF_INET,
                )
            except OSError as err:
                level = logging.DEBUG if self._told_port_taken else logging.WARNING
                self._told_port_taken = True
                _LOGGER.log(
                    level,
                    "Cannot listen for printer announcements on UDP port %s (%s); printers "
                    "are not discovered, adding them by hand works as before",
                    LISTEN_PORT,
                    err,
                )
                return
            self._transport = transport
            _LOGGER.debug("Listening for printer announcements on UDP port %s", self.port)

    @callback
    def async_stop(self) -> None:
        """Close the socket (it opens again when an entry sets up)."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
            _LOGGER.debug("Stopped listening for printer announcements")

    @callback
    def async_packet(self, packet: bytes) -> None:
        """Start a discovered flow for a printer not passed on yet, or moved or changed."""
        announcement = parse_announcement(packet)
        if announcement is None:
            return
        known = self._offered.get(announcement.serial)
        if known is None and len(self._offered) >= MAX_PRINTERS:
            return
        if known is not None and (known.host, known.model) == (
            announcement.host,
            announcement.model,
        ):
            return  # a new name alone changes nothing Home Assistant keeps
        self._offered[announcement.serial] = announcement
        discovery_flow.async_create_flow(
            self.hass,
            DOMAIN,
            context={"source": SOURCE_INTEGRATION_DISCOVERY},
            data=discovery_data(announcement),
            discovery_key=discovery_flow.DiscoveryKey(
                domain=DOMAIN, key=announcement.serial, version=DISCOVERY_KEY_VERSION
            ),
        )

    @callback
    def _async_entry_changed(self, change: ConfigEntryChange, entry: ConfigEntry) -> None:
        """Offer a removed printer again; close when no entry uses the listener any more."""
        if entry.domain != DOMAIN:
            return
        if change is ConfigEntryChange.REMOVED and entry.unique_id is not None:
            self._offered.pop(entry.unique_id, None)
        if not any(
            other.state in _ACTIVE for other in self.hass.config_entries.async_entries(DOMAIN)
        ):
            self.async_stop()

    @callback
    def _async_on_stop(self, _event: Event) -> None:
        """Close the socket and stop following entries: Home Assistant is stopping."""
        self._unsubscribe_entries()
        self.async_stop()


async def async_start_discovery(hass: HomeAssistant) -> None:
    """Open the shared listener (created on first use) unless it is open."""
    if (listener := hass.data.get(DATA_DISCOVERY)) is None:
        listener = hass.data[DATA_DISCOVERY] = PrinterDiscovery(hass)
    await listener.async_start()
