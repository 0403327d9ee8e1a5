"""Config flow: add a printer by its LAN access code, re-authenticate, reconfigure, options."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import selector

from .connection import async_local_settings
from .const import (
    CONF_ACCESS_CODE,
    CONF_CAMERA_PORT,
    CONF_CONNECTION,
    CONF_MODEL,
    CONF_SERIAL,
    CONNECTION_LOCAL,
    DEFAULT_CAMERA,
    DEFAULT_READ_ONLY,
    DOMAIN,
    MQTT_PORT,
    OPTION_CAMERA,
    OPTION_READ_ONLY,
    SECTION_ADVANCED,
    VALIDATE_TIMEOUT,
)
from .data import BambuConfigEntry
from .printer.errors import AuthError, CommandError, ConnectError, ConnectTimeout, TlsError
from .printer.models import PrinterModel
from .printer.mqtt import PrinterClient

_LOGGER = logging.getLogger(__name__)

_PASSWORD = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
_PORT = selector.NumberSelector(
    selector.NumberSelectorConfig(min=1, max=65535, mode=selector.NumberSelectorMode.BOX)
)


def _local_schema(defaults: Mapping[str, Any], *, with_serial: bool = True) -> vol.Schema:
    """Return the LAN form; the access code is never pre-filled."""
    fields: dict[vol.Marker, Any] = {
        vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, vol.UNDEFINED)): str,
    }
    if with_serial:
        fields[vol.Required(CONF_SERIAL, default=defaults.get(CONF_SERIAL, vol.UNDEFINED))] = str
    return vol.Schema(
        {
            **fields,
            vol.Required(CONF_ACCESS_CODE): _PASSWORD,
            vol.Required(SECTION_ADVANCED): section(
                vol.Schema(
                    {
                        vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, MQTT_PORT)): _PORT,
                        # No default: the camera platform picks the model's port (6000 or 322).
                        vol.Optional(
                            CONF_CAMERA_PORT,
                            description={"suggested_value": defaults.get(CONF_CAMERA_PORT)},
                        ): _PORT,
                    }
                ),
                {"collapsed": True},
            ),
        }
    )


def _flatten(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Lift the advanced section's fields to the top level and normalise them."""
    data = {key: value for key, value in user_input.items() if key != SECTION_ADVANCED}
    data.update(user_input.get(SECTION_ADVANCED, {}))
    data[CONF_HOST] = str(data[CONF_HOST]).strip()
    data[CONF_PORT] = int(data.get(CONF_PORT, MQTT_PORT))
    if data.get(CONF_CAMERA_PORT) is not None:
        data[CONF_CAMERA_PORT] = int(data[CONF_CAMERA_PORT])
    else:
        data.pop(CONF_CAMERA_PORT, None)
    data[CONF_SERIAL] = str(data[CONF_SERIAL]).strip().upper()
    data[CONF_ACCESS_CODE] = str(data[CONF_ACCESS_CODE]).strip()
    return data


async def _async_validate(hass: HomeAssistant, data: Mapping[str, Any]) -> PrinterModel:
    """Connect like the integration will, wait for a report, and tell which model answered.

    Raises the library's typed errors; the caller maps them to form errors.
    """
    client = PrinterClient(await async_local_settings(hass, data))
    try:
        await client.async_connect(timeout=VALIDATE_TIMEOUT)
        # The module list that names the model may trail the first status report; ask for
        # it and wait, since the entry's title needs the model. Old firmware may not answer.
        with suppress(CommandError):
            await client.async_request(client.commands.get_version(), timeout=5)
        return client.state.model or PrinterModel.UNKNOWN
    finally:
        await client.async_stop()


async def _async_try(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> tuple[str | None, PrinterModel]:
    """Validate and return (error key or None, model)."""
    try:
        model = await _async_validate(hass, data)
    except AuthError:
        return "invalid_auth", PrinterModel.UNKNOWN
    except TlsError:
        return "tls_failed", PrinterModel.UNKNOWN
    except ConnectTimeout:
        return "timeout", PrinterModel.UNKNOWN
    except ConnectError:
        return "cannot_connect", PrinterModel.UNKNOWN
    except Exception:
        _LOGGER.exception("Unexpected error while connecting to the printer")
        return "unknown", PrinterModel.UNKNOWN
    return None, model


class BambuConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Bambu Lab printer."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask how to reach the printer."""
        return self.async_show_menu(step_id="user", menu_options=["local"])

    async def async_step_local(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the printer's address, serial number and LAN access code."""
        errors: dict[str, str] = {}
        defaults: Mapping[str, Any] = {}
        if user_input is not None:
            data = _flatten(user_input)
            defaults = data
            await self.async_set_unique_id(data[CONF_SERIAL])
            self._abort_if_unique_id_configured()
            error, model = await _async_try(self.hass, data)
            if error is None:
                data[CONF_CONNECTION] = CONNECTION_LOCAL
                data[CONF_MODEL] = model.key
                return self.async_create_entry(
                    title=f"{model.product_name} {data[CONF_SERIAL]}", data=data
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="local",
            data_schema=_local_schema(defaults),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start re-authentication: the printer refused the stored access code."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask only for the printer's new access code."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, CONF_ACCESS_CODE: str(user_input[CONF_ACCESS_CODE]).strip()}
            error, _model = await _async_try(self.hass, data)
            if error is None:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_ACCESS_CODE: data[CONF_ACCESS_CODE]}
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_ACCESS_CODE): _PASSWORD}),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the printer's address or access code (the serial stays)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        defaults: Mapping[str, Any] = entry.data
        if user_input is not None:
            data = _flatten({**user_input, CONF_SERIAL: entry.data[CONF_SERIAL]})
            defaults = data
            error, _model = await _async_try(self.hass, data)
            if error is None:
                # A cleared camera port goes back to the model's default.
                new_data = {k: v for k, v in entry.data.items() if k != CONF_CAMERA_PORT}
                for key in (CONF_HOST, CONF_PORT, CONF_ACCESS_CODE, CONF_CAMERA_PORT):
                    if key in data:
                        new_data[key] = data[key]
                return self.async_update_reload_and_abort(entry, data=new_data)
            errors["base"] = error
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_local_schema(defaults, with_serial=False),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: BambuConfigEntry) -> BambuOptionsFlow:
        """Return the options flow (read-only mode, camera)."""
        return BambuOptionsFlow()


class BambuOptionsFlow(OptionsFlowWithReload):
    """Options that change which entities exist; saving them reloads the entry."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the read-only and camera switches."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        options = self.config_entry.options
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        OPTION_READ_ONLY,
                        default=options.get(OPTION_READ_ONLY, DEFAULT_READ_ONLY),
                    ): bool,
                    vol.Required(
                        OPTION_CAMERA, default=options.get(OPTION_CAMERA, DEFAULT_CAMERA)
                    ): bool,
                }
            ),
        )
