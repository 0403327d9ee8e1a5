"""The Bambu account behind printers added by signing in: endpoints, client, entry data, sync.

Printers added through the account get one config entry each (unique id = serial), and every
such entry carries the account's sign-in (token, its expiry, user id, region, email), never the
password. Where the Bambu cloud lives comes from the library's ``CloudEndpoints`` for the
account's region.

On every setup (start-up and reload) :func:`async_sync_account` asks the account for its
printer list, which keeps the stored access code current, offers printers bound since then as
discovered flows, and retires the device of a printer that left the account.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY
from homeassistant.const import CONF_EMAIL, CONF_TOKEN
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import discovery_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import (
    CONF_ACCESS_CODE,
    CONF_CONNECTION,
    CONF_REGION,
    CONF_SERIAL,
    CONF_TOKEN_EXPIRES_AT,
    CONF_UID,
    CONNECTION_CLOUD,
    DOMAIN,
)
from .printer.cloud import (
    CloudAccount,
    CloudClient,
    CloudEndpoints,
    CloudError,
    CloudMqttCredentials,
    CloudPrinter,
    CloudToken,
    CloudTokenExpired,
    Region,
    cloud_mqtt_credentials,
)

if TYPE_CHECKING:
    from .data import BambuConfigEntry

_LOGGER = logging.getLogger(__name__)

# Sign-in in the config flow: the user waits, so retry a rate limit only briefly.
CLOUD_TIMEOUT: Final = 15.0
CLOUD_MAX_RETRIES: Final = 2
CLOUD_BACKOFF: Final = 1.0
# The printer-list refresh during setup must not hold up Home Assistant's start: one try.
SYNC_TIMEOUT: Final = 10.0

# Keys of the data a discovery flow for a newly bound printer starts with.
DISCOVERY_ACCOUNT_ENTRY: Final = "account_entry_id"
DISCOVERY_PRINTER: Final = "printer"

ACCOUNT_KEYS: Final = (CONF_TOKEN, CONF_TOKEN_EXPIRES_AT, CONF_UID, CONF_REGION, CONF_EMAIL)


def create_cloud_client(
    hass: HomeAssistant,
    region: Region | str,
    *,
    timeout: float | None = None,
    max_retries: int | None = None,
) -> CloudClient:
    """Return a client for the region that uses Home Assistant's shared aiohttp session.

    Timeout and retries default to the sign-in values, read at call time.
    """
    return CloudClient(
        async_get_clientsession(hass),
        endpoints=CloudEndpoints.for_region(region),
        timeout=CLOUD_TIMEOUT if timeout is None else timeout,
        max_retries=CLOUD_MAX_RETRIES if max_retries is None else max_retries,
        backoff=CLOUD_BACKOFF,
    )


def account_entry_data(account: CloudAccount, email: str) -> dict[str, Any]:
    """Return the account part of an entry's data: the sign-in, without the password."""
    return {
        CONF_TOKEN: account.token.access_token,
        CONF_TOKEN_EXPIRES_AT: account.token.expires_at,
        CONF_UID: account.uid,
        CONF_REGION: str(account.endpoints.region),
        CONF_EMAIL: email,
    }


def is_account_entry(data: Mapping[str, Any]) -> bool:
    """Tell whether an entry was added through a Bambu account (it then has a user id)."""
    return CONF_UID in data


def entry_token(data: Mapping[str, Any]) -> CloudToken | None:
    """Return the stored account token, or None when the entry holds none."""
    return CloudToken.from_dict(
        {"access_token": data.get(CONF_TOKEN), "expires_at": data.get(CONF_TOKEN_EXPIRES_AT)}
    )


def entry_mqtt_credentials(data: Mapping[str, Any]) -> CloudMqttCredentials:
    """Return the cloud broker login of an account entry: ``u_<uid>`` / token, region host."""
    return cloud_mqtt_credentials(
        data[CONF_UID], data[CONF_TOKEN], CloudEndpoints.for_region(data[CONF_REGION])
    )


async def async_sync_account(hass: HomeAssistant, entry: BambuConfigEntry) -> None:
    """Bring an account entry up to date with the account before it connects.

    Raises ConfigEntryAuthFailed when the account refuses the token and the printer is reached
    through the cloud broker (which would refuse it too), and ConfigEntryError when the printer
    is no longer bound to the account. A printer reached over the LAN keeps working with a
    refused token, so then only a reauth flow is started. Any other cloud trouble (outage, rate
    limit, Cloudflare) is logged and setup carries on with what the entry knows.
    """
    token = entry_token(entry.data)
    if token is None or token.is_expired():
        _async_sign_in_again(hass, entry)
        return
    client = create_cloud_client(hass, entry.data[CONF_REGION], timeout=SYNC_TIMEOUT, max_retries=0)
    try:
        printers = await client.async_get_printers(token)
    except CloudTokenExpired:
        _async_sign_in_again(hass, entry)
        return
    except CloudError as err:  # the messages carry no secrets
        _LOGGER.info(
            "Could not read the printer list of the Bambu account (%s); "
            "using the stored settings of %s",
            err,
            entry.title,
        )
        return

    serial = entry.data[CONF_SERIAL]
    printer = next((found for found in printers if found.serial == serial), None)
    if printer is None:
        _async_remove_devices(hass, entry)
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="printer_unbound",
            translation_placeholders={"serial": serial},
        )
    if printer.access_code and printer.access_code != entry.data.get(CONF_ACCESS_CODE):
        # The code changes when LAN-only mode is switched or the printer is reset; the LAN
        # connection and the camera need the current one.
        _LOGGER.info("The access code of %s changed; using the new one", entry.title)
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_ACCESS_CODE: printer.access_code}
        )
    _async_offer_new_printers(hass, entry, printers)


@callback
def _async_sign_in_again(hass: HomeAssistant, entry: BambuConfigEntry) -> None:
    """Ask the user to sign in again: fail setup for the cloud broker, else just ask."""
    if entry.data.get(CONF_CONNECTION) == CONNECTION_CLOUD:
        raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="cloud_sign_in")
    entry.async_start_reauth(hass)


@callback
def _async_remove_devices(hass: HomeAssistant, entry: BambuConfigEntry) -> None:
    """Remove the devices of an entry whose printer left the account (stale devices).

    One entry per printer means the only stale device an account entry can have is its own
    printer; other printers of the account belong to other entries (a device belongs to one
    entry), which clean up after themselves when they reload. Re-binding the printer and
    reloading the entry creates the device again.
    """
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        registry.async_remove_device(device.id)


@callback
def _async_offer_new_printers(
    hass: HomeAssistant, entry: BambuConfigEntry, printers: list[CloudPrinter]
) -> None:
    """Start a discovered flow for each printer of the account that has no entry yet.

    With one entry per printer a new printer needs its own entry, and creating one silently
    would add devices the user never chose; a discovered card titled with the printer's name
    lets the user add (or ignore) it. The flow reads the sign-in from this entry when the user
    confirms, so only the printer (with its access code, in memory) travels with the flow.
    Home Assistant drops a flow it already has.
    """
    for printer in printers:
        if hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, printer.serial):
            continue
        discovery_flow.async_create_flow(
            hass,
            DOMAIN,
            context={"source": SOURCE_INTEGRATION_DISCOVERY},
            data={DISCOVERY_ACCOUNT_ENTRY: entry.entry_id, DISCOVERY_PRINTER: printer},
        )
