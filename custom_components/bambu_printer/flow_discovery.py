"""Config flow steps for a printer heard on the LAN: the user types only its access code.

The discovery listener (discovery.py) starts these flows with the announced host, serial,
model and name. A printer that already has an entry is not offered: a LAN entry with an IP
address gets the announced address instead (the printer moved, e.g. a new DHCP lease), and an
ignored printer stays ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import SOURCE_IGNORE, ConfigEntry, ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.helpers import selector

from .const import (
    CONF_ACCESS_CODE,
    CONF_CONNECTION,
    CONF_MODEL,
    CONF_SERIAL,
    CONNECTION_LOCAL,
    MQTT_PORT,
)
from .flow_input import ERROR_ACCESS_CODE, async_try, check_access_code
from .printer.models import PrinterModel, identify_from_product_name

_CONFIRM_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_ACCESS_CODE): selector.TextSelector(
            selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
        )
    }
)


def _host_update(entry: ConfigEntry | None, host: str) -> dict[str, Any] | None:
    """Return the new address for an entry that should follow the printer, else None.

    Only LAN entries set up with an IP address follow: a host name the user chose keeps
    working by itself, cloud entries have no address, ignored printers have no data.
    """
    if entry is None or entry.source == SOURCE_IGNORE:
        return None
    try:
        ipaddress.ip_address(entry.data.get(CONF_HOST) or "")
    except ValueError:
        return None
    return {CONF_HOST: host}


class LanDiscoverySteps(ConfigFlow):
    """The discovered-printer steps of the integration's config flow."""

    _lan_printer: dict[str, Any]

    def _create_lan_entry(self, data: dict[str, Any], model: PrinterModel) -> ConfigFlowResult:
        """Add a printer reached over the LAN, titled by its model and serial."""
        data[CONF_CONNECTION] = CONNECTION_LOCAL
        data[CONF_MODEL] = model.key
        return self.async_create_entry(title=f"{model.product_name} {data[CONF_SERIAL]}", data=data)

    def _lan_placeholders(self) -> dict[str, str]:
        printer = self._lan_printer
        model = identify_from_product_name(printer[CONF_MODEL])
        product = model.product_name
        return {
            "name": printer[CONF_NAME] or f"{product} {printer[CONF_SERIAL]}",
            "model": product,
            "serial": printer[CONF_SERIAL],
            "host": printer[CONF_HOST],
        }

    async def async_step_lan_discovery(self, discovery_info: Mapping[str, Any]) -> ConfigFlowResult:
        """Update a configured printer's address, or offer a new printer for confirmation."""
        serial, host = discovery_info[CONF_SERIAL], discovery_info[CONF_HOST]
        await self.async_set_unique_id(serial)
        entry = self.hass.config_entries.async_entry_for_domain_unique_id(self.handler, serial)
        self._abort_if_unique_id_configured(updates=_host_update(entry, host))
        self._lan_printer = dict(discovery_info)
        self.context["title_placeholders"] = {"name": self._lan_placeholders()["name"]}
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask only for the access code; connect like the integration will before adding."""
        printer = self._lan_printer
        errors: dict[str, str] = {}
        placeholders = self._lan_placeholders()
        if user_input is not None:
            code = check_access_code(user_input[CONF_ACCESS_CODE])
            if code is None:
                errors[CONF_ACCESS_CODE] = ERROR_ACCESS_CODE
            else:
                data: dict[str, Any] = {
                    CONF_HOST: printer[CONF_HOST],
                    CONF_PORT: MQTT_PORT,
                    CONF_SERIAL: printer[CONF_SERIAL],
                    CONF_ACCESS_CODE: code,
                }
                errors, found, model = await async_try(self.hass, data)
                placeholders.update(found)
            if not errors:
                # Old firmware may not name the model; the announcement does.
                if model is PrinterModel.UNKNOWN:
                    model = identify_from_product_name(printer[CONF_MODEL])
                return self._create_lan_entry(data, model)
        return self.async_show_form(
            step_id="discovery_confirm",
            data_schema=_CONFIRM_SCHEMA,
            errors=errors,
            description_placeholders=placeholders,
        )
