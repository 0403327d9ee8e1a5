"""The Bambu Lab Printer integration: live status and control of Bambu Lab 3D printers."""

from __future__ import annotations

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.typing import ConfigType
from homeassistant.util.json import json_loads

from .account import async_sync_account, is_account_entry
from .connection import async_connection_settings
from .const import CONTROL_KEYS, DOMAIN, PLATFORMS, VALIDATE_TIMEOUT
from .coordinator import BambuCoordinator
from .data import BambuConfigEntry, BambuRuntimeData
from .discovery import async_start_discovery
from .file_actions import async_setup_file_actions
from .files import PrinterFiles
from .printer.errors import AuthError, ConnectError, TlsError, TlsNameMismatch, TlsUntrusted
from .printer.mqtt import PrinterClient
from .services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once (each names its printer by its device)."""
    async_setup_services(hass)
    async_setup_file_actions(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: BambuConfigEntry) -> bool:
    """Connect to the printer, wait for its full state, then create the entities.

    Entries added through a Bambu account first check the account (token, access code, new
    and removed printers); see `account.async_sync_account`. The LAN discovery listener opens
    first, so a printer that moved to another address is found while this entry retries.
    """
    await async_start_discovery(hass)
    if is_account_entry(entry.data):
        await async_sync_account(hass, entry)
    settings = await async_connection_settings(hass, entry.data)
    client = PrinterClient(settings, loads=json_loads)
    try:
        await client.async_start(timeout=VALIDATE_TIMEOUT)
    except AuthError as err:
        await client.async_stop()
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="auth_failed"
        ) from err
    except TlsError as err:
        await client.async_stop()
        raise _tls_not_ready(err, settings.host, settings.serial) from err
    except ConnectError as err:
        await client.async_stop()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"host": settings.host},
        ) from err

    coordinator = BambuCoordinator(hass, entry, client)
    coordinator.async_attach()
    entry.async_on_unload(client.async_stop)
    entry.async_on_unload(coordinator.async_detach)

    async def _async_stop_on_shutdown(_event: Event) -> None:
        # Home Assistant stopping is no outage: stop listening before the link closes, so
        # nothing reports the printer unavailable or a reconnect.
        coordinator.async_detach()
        await client.async_stop()

    # Not listen_once: the entry may still be unloaded after the stop event, and removing a
    # one-time listener that already ran is an error.
    entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _async_stop_on_shutdown))
    files = await PrinterFiles.async_create(hass, coordinator)
    if files is not None:
        entry.async_on_unload(files.async_attach())
    entry.runtime_data = BambuRuntimeData(coordinator=coordinator, files=files)

    if coordinator.read_only:
        _async_remove_control_entities(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


def _tls_not_ready(err: TlsError, host: str, serial: str) -> ConfigEntryNotReady:
    """Say which check failed: another printer's certificate, none from Bambu Lab, or no TLS."""
    if isinstance(err, TlsNameMismatch) and err.presented is not None:
        key, placeholders = "tls_other_printer", {"cert_name": err.presented}
    elif isinstance(err, TlsNameMismatch):
        key, placeholders = "tls_failed", {}
    elif isinstance(err, TlsUntrusted):
        key, placeholders = "tls_untrusted", {}
    else:
        key, placeholders = "tls_handshake", {"reason": str(err)}
    return ConfigEntryNotReady(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"host": host, "serial": serial, **placeholders},
    )


def _async_remove_control_entities(hass: HomeAssistant, entry: BambuConfigEntry) -> None:
    """Forget the control entities of a printer switched to read-only mode.

    Otherwise they would linger as "unavailable" on dashboards and in automations.
    """
    registry = er.async_get(hass)
    control_ids = {f"{entry.unique_id}_{key}" for key in CONTROL_KEYS}
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.unique_id in control_ids:
            registry.async_remove(entity.entity_id)


async def async_unload_entry(hass: HomeAssistant, entry: BambuConfigEntry) -> bool:
    """Remove the entities; the unload callbacks then close the connection."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
