"""Config flow: add printers by LAN access code or Bambu account; reauth, reconfigure, options.

The Bambu account branch signs in (email and password, then an emailed code or a two-factor
code when the account asks), lists the account's printers, and creates one entry per chosen
printer: connected through the Bambu cloud broker, or over the LAN when the user gives its IP
(the access code comes from the account). Entries keep the token, never the password.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import (
    CONF_CODE,
    CONF_EMAIL,
    CONF_HOST,
    CONF_NAME,
    CONF_PASSWORD,
    CONF_PORT,
)
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import selector
from homeassistant.helpers.typing import DiscoveryInfoType

from . import account
from .const import (
    CONF_ACCESS_CODE,
    CONF_CAMERA_PORT,
    CONF_FTPS_PORT,
    CONF_MODEL,
    CONF_REGION,
    CONF_SERIAL,
    CONF_UID,
    DEFAULT_CAMERA,
    DEFAULT_READ_ONLY,
    DOMAIN,
    MQTT_PORT,
    OPTION_CAMERA,
    OPTION_READ_ONLY,
    SECTION_ADVANCED,
)
from .data import BambuConfigEntry
from .flow_discovery import LanDiscoverySteps
from .flow_input import (
    ERROR_ACCESS_CODE,
    ERROR_ACCOUNT,
    account_connection,
    async_try,
    check_access_code,
    check_account,
    local_input,
)
from .printer.cloud import (
    CloudAuthError,
    CloudClient,
    CloudCodeExpired,
    CloudCodeWrong,
    CloudConnectError,
    CloudError,
    CloudPrinter,
    CloudRateLimited,
    CloudTfaBlocked,
    CloudTfaWrong,
    CloudTimeout,
    CloudToken,
    CloudTokenExpired,
    CloudUnexpectedResponse,
    NeedsTfa,
    NeedsVerifyCode,
    Region,
)
from .printer.models import PrinterModel, identify_from_product_name

_LOGGER = logging.getLogger(__name__)

_PASSWORD = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
_PORT = selector.NumberSelector(
    selector.NumberSelectorConfig(min=1, max=65535, mode=selector.NumberSelectorMode.BOX)
)

CONF_PRINTERS: Final = "printers"
# The source of the flows that create the entries of the second and later printers chosen in
# one sign-in (see `_async_create_account_entries`).
SOURCE_ACCOUNT_PRINTER: Final = "account_printer"

_CLOUD_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_EMAIL): selector.TextSelector(
            selector.TextSelectorConfig(
                type=selector.TextSelectorType.EMAIL, autocomplete="username"
            )
        ),
        vol.Required(CONF_PASSWORD): _PASSWORD,
        vol.Required(CONF_REGION, default=Region.GLOBAL.value): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=[Region.GLOBAL.value, Region.CHINA.value],
                mode=selector.SelectSelectorMode.LIST,
                translation_key=CONF_REGION,
            )
        ),
    }
)
_REAUTH_ACCOUNT_SCHEMA: Final = vol.Schema(
    {vol.Required(CONF_EMAIL): str, vol.Required(CONF_PASSWORD): _PASSWORD}
)
_CODE_SCHEMA: Final = vol.Schema({vol.Required(CONF_CODE): str})
# How to reach a printer of the account: its IP for the LAN, or nothing for the cloud broker.
_ACCOUNT_PRINTER_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_HOST): str,
        vol.Required(SECTION_ADVANCED): section(
            vol.Schema({vol.Required(CONF_PORT, default=MQTT_PORT): _PORT}),
            {"collapsed": True},
        ),
    }
)

# Form error for each cloud failure, by exact type (all of cloud.py's concrete errors but
# CloudTfaBlocked, which the two-factor step answers with an emailed code).
_CLOUD_ERRORS: Final[Mapping[type[CloudError], str]] = {
    CloudAuthError: "cloud_invalid_auth",
    CloudTokenExpired: "cloud_invalid_auth",
    CloudCodeExpired: "code_expired",
    CloudCodeWrong: "code_invalid",
    CloudTfaWrong: "tfa_invalid",
    CloudRateLimited: "rate_limited",
    CloudUnexpectedResponse: "cloud_blocked",
    CloudConnectError: "cloud_cannot_connect",
    CloudTimeout: "cloud_timeout",
}


def _local_schema(*, with_serial: bool = True, code_required: bool = True) -> vol.Schema:
    """Return the LAN form; values come back as suggestions, never the access code."""
    fields: dict[vol.Marker, Any] = {vol.Required(CONF_HOST): str}
    if with_serial:
        fields[vol.Required(CONF_SERIAL)] = str
    code = vol.Required(CONF_ACCESS_CODE) if code_required else vol.Optional(CONF_ACCESS_CODE)
    fields[code] = _PASSWORD
    # No camera port default: the camera platform picks the model's port (6000 or 322).
    advanced = {
        vol.Required(CONF_PORT, default=MQTT_PORT): _PORT,
        vol.Optional(CONF_CAMERA_PORT): _PORT,
        vol.Optional(CONF_FTPS_PORT): _PORT,
    }
    fields[vol.Required(SECTION_ADVANCED)] = section(vol.Schema(advanced), {"collapsed": True})
    return vol.Schema(fields)


_LOCAL_SCHEMA: Final = _local_schema()
_RECONFIGURE_SCHEMA: Final = _local_schema(with_serial=False, code_required=False)


def _typed(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Return what the user typed, to show it again, without the access code."""
    return {key: value for key, value in user_input.items() if key != CONF_ACCESS_CODE}


class BambuConfigFlow(LanDiscoverySteps, domain=DOMAIN):
    """Add a Bambu Lab printer."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Start without an account; the Bambu account steps fill it in."""
        self._email = ""
        self._region = Region.GLOBAL
        self._tfa_key = ""
        self._account: dict[str, Any] = {}  # the sign-in part of the entries' data
        self._account_entry_id: str | None = None  # discovered printers: whose sign-in to use
        self._printers: dict[str, CloudPrinter] = {}  # the account's printers not yet added
        self._queue: list[str] = []  # serials chosen, in order
        self._ready: list[tuple[str, dict[str, Any]]] = []  # (title, data) validated so far

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask how to reach the printer."""
        return self.async_show_menu(step_id="user", menu_options=["local", "cloud"])

    async def async_step_local(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the printer's address, serial number and LAN access code."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            data, errors = local_input(user_input)
            if not errors:
                await self.async_set_unique_id(data[CONF_SERIAL])
                self._abort_if_unique_id_configured()
                errors, placeholders, model = await async_try(self.hass, data, CONF_SERIAL)
            if not errors:
                return self._create_lan_entry(data, model)
        return self.async_show_form(
            step_id="local",
            data_schema=self.add_suggested_values_to_schema(
                _LOCAL_SCHEMA, _typed(user_input or {})
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start re-authentication: a refused access code, or a refused account token."""
        if account.is_account_entry(entry_data):
            return await self.async_step_reauth_account()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask only for the printer's new access code."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        placeholders = {"name": entry.title}
        if user_input is not None:
            code = check_access_code(user_input[CONF_ACCESS_CODE])
            if code is None:
                errors[CONF_ACCESS_CODE] = ERROR_ACCESS_CODE
            else:
                data = {**entry.data, CONF_ACCESS_CODE: code}
                errors, found, _model = await async_try(self.hass, data)
                placeholders.update(found)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_ACCESS_CODE: code}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_ACCESS_CODE): _PASSWORD}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the printer's address or access code (the serial stays; an empty code too)."""
        entry = self._get_reconfigure_entry()
        if account.is_account_entry(entry.data):
            return await self.async_step_reconfigure_account()
        errors: dict[str, str] = {}
        placeholders = {"name": entry.title}
        suggested: dict[str, Any] = {
            CONF_HOST: entry.data[CONF_HOST],
            SECTION_ADVANCED: {
                CONF_PORT: entry.data.get(CONF_PORT, MQTT_PORT),
                CONF_CAMERA_PORT: entry.data.get(CONF_CAMERA_PORT),
                CONF_FTPS_PORT: entry.data.get(CONF_FTPS_PORT),
            },
        }
        if user_input is not None:
            data, errors = local_input(user_input, code_optional=True)
            data[CONF_SERIAL] = entry.data[CONF_SERIAL]
            data.setdefault(CONF_ACCESS_CODE, entry.data[CONF_ACCESS_CODE])
            if not errors:
                errors, found, _model = await async_try(self.hass, data, CONF_HOST)
                placeholders.update(found)
            if not errors:
                # A cleared camera or file port goes back to the printer's own.
                optional_ports = (CONF_CAMERA_PORT, CONF_FTPS_PORT)
                new_data = {k: v for k, v in entry.data.items() if k not in optional_ports}
                for key in (CONF_HOST, CONF_PORT, CONF_ACCESS_CODE, *optional_ports):
                    if key in data:
                        new_data[key] = data[key]
                return self.async_update_reload_and_abort(entry, data=new_data)
            suggested = _typed(user_input)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(_RECONFIGURE_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reconfigure_account(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move a printer added through the account between the cloud broker and the LAN."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders = {"name": entry.title}
        if user_input is not None:
            data, errors = account_connection(entry.data, user_input)
            if not errors:
                errors, found, _model = await async_try(self.hass, data, CONF_HOST)
                placeholders.update(found)
            if not errors:
                return self.async_update_reload_and_abort(entry, data=data)
        suggested = user_input or {
            CONF_HOST: entry.data.get(CONF_HOST),
            SECTION_ADVANCED: {CONF_PORT: entry.data.get(CONF_PORT, MQTT_PORT)},
        }
        return self.async_show_form(
            step_id="reconfigure_account",
            data_schema=self.add_suggested_values_to_schema(_ACCOUNT_PRINTER_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    # -- Bambu account -------------------------------------------------------------------------

    def _client(self) -> CloudClient:
        return account.create_cloud_client(self.hass, self._region)

    async def _async_cloud(
        self, action: Callable[[], Awaitable[ConfigFlowResult]], errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Run one exchange with the cloud; a failure becomes the form's error (and None)."""
        try:
            return await action()
        except CloudError as err:
            errors["base"] = _CLOUD_ERRORS.get(type(err), "unknown")
        except Exception:
            _LOGGER.exception("Unexpected error while talking to the Bambu cloud")
            errors["base"] = "unknown"
        return None

    async def async_step_cloud(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Sign in to the Bambu account; the password is used for this request only."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._email = str(user_input[CONF_EMAIL]).strip()
            self._region = Region(user_input[CONF_REGION])
            password = str(user_input[CONF_PASSWORD])
            result = await self._async_sign_in(password, errors)
            if result is not None:
                return result
        suggested = {CONF_EMAIL: self._email or None, CONF_REGION: self._region.value}
        return self.async_show_form(
            step_id="cloud",
            data_schema=self.add_suggested_values_to_schema(_CLOUD_SCHEMA, suggested),
            errors=errors,
        )

    async def async_step_reauth_account(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in to the account again: its token expired or was revoked."""
        entry = self._get_reauth_entry()
        self._region = Region(entry.data[CONF_REGION])
        errors: dict[str, str] = {}
        if user_input is not None:
            self._email = str(user_input[CONF_EMAIL]).strip()
            password = str(user_input[CONF_PASSWORD])
            result = await self._async_sign_in(password, errors)
            if result is not None:
                return result
        suggested = {CONF_EMAIL: self._email or entry.data.get(CONF_EMAIL)}
        return self.async_show_form(
            step_id="reauth_account",
            data_schema=self.add_suggested_values_to_schema(_REAUTH_ACCOUNT_SCHEMA, suggested),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    async def _async_sign_in(
        self, password: str, errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Sign in unless the account field is malformed (then say so at the field)."""
        if check_account(self._email) is None:
            errors[CONF_EMAIL] = ERROR_ACCOUNT
            return None
        return await self._async_cloud(lambda: self._async_login(password), errors)

    async def _async_login(self, password: str) -> ConfigFlowResult:
        """Log in with the password; go on to the code or two-factor step when asked."""
        client = self._client()
        result = await client.async_login(self._email, password)
        if isinstance(result, NeedsVerifyCode):
            await client.async_request_verify_code(self._email)
            return await self.async_step_cloud_code()
        if isinstance(result, NeedsTfa):
            self._tfa_key = result.tfa_key
            return await self.async_step_cloud_tfa()
        return await self._async_signed_in(result)

    async def async_step_cloud_code(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the code the Bambu cloud emailed."""
        errors: dict[str, str] = {}
        if user_input is not None:
            code = str(user_input[CONF_CODE]).strip()
            result = await self._async_cloud(lambda: self._async_login_with_code(code), errors)
            if result is not None:
                return result
        return self._async_show_code_form(errors)

    def _async_show_code_form(self, errors: dict[str, str]) -> ConfigFlowResult:
        return self.async_show_form(
            step_id="cloud_code",
            data_schema=_CODE_SCHEMA,
            errors=errors,
            description_placeholders={"email": self._email},
        )

    async def _async_login_with_code(self, code: str) -> ConfigFlowResult:
        client = self._client()
        try:
            token = await client.async_login_with_code(self._email, code)
        except CloudCodeExpired:
            # Send a fresh code at once; the form then says so (code_expired).
            await client.async_request_verify_code(self._email)
            raise
        return await self._async_signed_in(token)

    async def async_step_cloud_tfa(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the code of the account's two-factor authenticator."""
        errors: dict[str, str] = {}
        if user_input is not None:
            code = str(user_input[CONF_CODE]).strip()
            result = await self._async_cloud(lambda: self._async_login_with_tfa(code), errors)
            if result is not None:
                return result
        return self.async_show_form(step_id="cloud_tfa", data_schema=_CODE_SCHEMA, errors=errors)

    async def _async_login_with_tfa(self, code: str) -> ConfigFlowResult:
        client = self._client()
        try:
            token = await client.async_login_with_tfa(self._tfa_key, code)
        except CloudTfaBlocked:
            # bambulab.com wants a CSRF cookie that API clients are never given; the emailed
            # code works on the API host (docs/protocol.md, the cloud sign-in).
            _LOGGER.warning(
                "The Bambu two-factor sign-in refused the request before checking the code; "
                "sending a sign-in code by email instead"
            )
            await client.async_request_verify_code(self._email)
            return self._async_show_code_form({"base": "tfa_blocked"})
        return await self._async_signed_in(token)

    async def _async_signed_in(self, token: CloudToken) -> ConfigFlowResult:
        """Signed in: finish a reauth, or offer the account's printers not added yet."""
        client = self._client()
        self._account = account.account_entry_data(
            await client.async_get_account(token), self._email
        )
        if self.source == SOURCE_REAUTH:
            return self._async_finish_reauth()
        configured = self._async_current_ids()
        self._printers = {
            printer.serial: printer
            for printer in await client.async_get_printers(token)
            if printer.serial not in configured
        }
        if not self._printers:
            return self.async_abort(reason="no_printers")
        return await self.async_step_cloud_printers()

    def _async_finish_reauth(self) -> ConfigFlowResult:
        """Store the new token in this entry and in every other entry of the same account.

        One entry per printer means one expired token asks for a reauth per printer; a single
        sign-in answers them all: the other entries get the token, their reauth flows are
        dismissed and they reload.
        """
        entry = self._get_reauth_entry()
        uid, region = entry.data[CONF_UID], entry.data[CONF_REGION]
        if self._account[CONF_UID] != uid:
            return self.async_abort(reason="wrong_account")
        for other in self._async_current_entries(include_ignore=False):
            if (
                other.entry_id == entry.entry_id
                or other.data.get(CONF_UID) != uid
                or other.data.get(CONF_REGION) != region
            ):
                continue
            self.hass.config_entries.async_update_entry(other, data={**other.data, **self._account})
            for flow in other.async_get_active_flows(self.hass, {SOURCE_REAUTH}):
                self.hass.config_entries.flow.async_abort(flow["flow_id"])
            self.hass.config_entries.async_schedule_reload(other.entry_id)
        return self.async_update_reload_and_abort(entry, data_updates=self._account)

    async def async_step_cloud_printers(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose which of the account's printers to add."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[CONF_PRINTERS]:
                self._queue = list(user_input[CONF_PRINTERS])
                return await self.async_step_cloud_printer()
            errors["base"] = "no_printer_selected"
        options = [
            selector.SelectOptionDict(
                value=printer.serial,
                label=f"{printer.name} ({printer.product_name or '?'}, {printer.serial})",
            )
            for printer in self._printers.values()
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_PRINTERS, default=list(self._printers)): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=options, multiple=True, mode=selector.SelectSelectorMode.LIST
                    )
                )
            }
        )
        return self.async_show_form(step_id="cloud_printers", data_schema=schema, errors=errors)

    async def async_step_cloud_printer(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask how to reach one chosen printer: its IP for the LAN, nothing for the cloud."""
        printer = self._printers[self._queue[len(self._ready)]]
        errors: dict[str, str] = {}
        placeholders = {
            "name": printer.name,
            "model": printer.product_name or "?",
            "serial": printer.serial,
        }
        if user_input is not None:
            if self._account_entry_id is not None:
                # A discovered printer: use the current sign-in of the entry that found it.
                source = self.hass.config_entries.async_get_entry(self._account_entry_id)
                if source is None:
                    return self.async_abort(reason="account_missing")
                self._account = {key: source.data.get(key) for key in account.ACCOUNT_KEYS}
            data, errors = account_connection(
                {
                    CONF_SERIAL: printer.serial,
                    CONF_ACCESS_CODE: printer.access_code,
                    **self._account,
                },
                user_input,
            )
            if not errors:
                errors, found, model = await async_try(self.hass, data, CONF_HOST)
                placeholders.update(found)
            if not errors:
                # Old firmware may not name the model; the account's product name does.
                known = model if model is not PrinterModel.UNKNOWN else None
                data[CONF_MODEL] = (known or identify_from_product_name(printer.product_name)).key
                self._ready.append((printer.name, data))
                if len(self._ready) < len(self._queue):
                    return await self.async_step_cloud_printer()
                return await self._async_create_account_entries()
        return self.async_show_form(
            step_id="cloud_printer",
            data_schema=self.add_suggested_values_to_schema(_ACCOUNT_PRINTER_SCHEMA, user_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_create_account_entries(self) -> ConfigFlowResult:
        """Create one entry per chosen printer: this flow's own, and one flow per other.

        A config flow ends in at most one entry. Home Assistant's own answer to "one setup,
        several entries" (HomeKit's accessory mode) is to start one more flow per extra entry,
        with a source of the integration's own whose step creates the entry without a form.
        SOURCE_IMPORT would do the same but label the entries as imported from YAML, which
        they are not. The printers were validated above; each flow still checks its unique id,
        so a printer added meanwhile is not added twice.
        """
        (title, data), *others = self._ready
        # A discovered card of the same printer must not stop this flow; Home Assistant
        # dismisses it when this entry is created.
        await self.async_set_unique_id(data[CONF_SERIAL], raise_on_progress=False)
        self._abort_if_unique_id_configured()
        for other_title, other_data in others:
            await self.hass.config_entries.flow.async_init(
                DOMAIN,
                context={"source": SOURCE_ACCOUNT_PRINTER},
                data={CONF_NAME: other_title, "data": other_data},
            )
        return self.async_create_entry(title=title, data=data)

    async def async_step_account_printer(self, printer: dict[str, Any]) -> ConfigFlowResult:
        """Create the entry of another printer chosen in the same sign-in (no form)."""
        await self.async_set_unique_id(printer["data"][CONF_SERIAL], raise_on_progress=False)
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=printer[CONF_NAME], data=printer["data"])

    async def async_step_integration_discovery(
        self, discovery_info: DiscoveryInfoType
    ) -> ConfigFlowResult:
        """Offer a printer heard on the LAN, or one bound to the account after its entries."""
        if account.DISCOVERY_PRINTER not in discovery_info:
            return await self.async_step_lan_discovery(discovery_info)
        printer: CloudPrinter = discovery_info[account.DISCOVERY_PRINTER]
        await self.async_set_unique_id(printer.serial)
        self._abort_if_unique_id_configured()
        self._account_entry_id = discovery_info[account.DISCOVERY_ACCOUNT_ENTRY]
        self._printers = {printer.serial: printer}
        self._queue = [printer.serial]
        self.context["title_placeholders"] = {"name": printer.name}
        return await self.async_step_cloud_printer()

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
