"""Push coordinator: one per printer, fed by the printer's MQTT reports."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import COMMAND_TIMEOUT, CONF_MODEL, DOMAIN, OPTION_READ_ONLY
from .printer.errors import CommandRejected, CommandTimeout, NotConnected
from .printer.models import PrinterModel, identify_from_product_name, identify_from_serial
from .printer.state import PrinterState

if TYPE_CHECKING:
    from .data import BambuConfigEntry
    from .printer.commands import Command, CommandFactory, Reply
    from .printer.mqtt import PrinterClient

_LOGGER = logging.getLogger(__name__)


class BambuCoordinator(DataUpdateCoordinator[PrinterState]):
    """Hands each merged printer report to the entities; never polls."""

    config_entry: BambuConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: BambuConfigEntry,
        client: PrinterClient,
    ) -> None:
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {client.serial}",
            update_interval=None,
        )
        self.client = client
        self.data = client.state
        self._was_available = client.available
        self._firmware = client.state.firmware.version
        self._unsubscribers: list[CALLBACK_TYPE] = []

    @property
    def commands(self) -> CommandFactory:
        """Return the client's command builder: one sequence of ids per connection."""
        return self.client.commands

    @property
    def serial(self) -> str:
        """Return the printer's serial number (its identity everywhere)."""
        return self.client.serial

    @property
    def model(self) -> PrinterModel:
        """Return the model the printer reported, else the entry's, else its serial prefix's."""
        reported = self.client.state.model
        if reported is not None and reported is not PrinterModel.UNKNOWN:
            return reported
        model = identify_from_product_name(self.config_entry.data.get(CONF_MODEL))
        return model if model is not PrinterModel.UNKNOWN else identify_from_serial(self.serial)

    @property
    def read_only(self) -> bool:
        """Return whether the user asked for a monitor-only printer."""
        return bool(self.config_entry.options.get(OPTION_READ_ONLY, False))

    @callback
    def async_attach(self) -> None:
        """Start listening to the client; the entry's unload detaches again."""
        self._unsubscribers = [
            self.client.add_update_listener(self._handle_report),
            self.client.add_availability_listener(self._handle_availability),
            self.client.add_auth_failure_listener(self._handle_auth_failure),
        ]

    @callback
    def async_detach(self) -> None:
        """Stop listening to the client."""
        while self._unsubscribers:
            self._unsubscribers.pop()()

    @callback
    def _handle_report(self) -> None:
        state = self.client.state
        firmware = state.firmware.version
        if firmware != self._firmware:
            self._firmware = firmware
            self._async_update_device(firmware, state.model)
        self.async_set_updated_data(state)

    @callback
    def _async_update_device(self, firmware: str | None, model: PrinterModel | None) -> None:
        """Show a firmware update (or the model learnt after setup) on the device page."""
        registry = dr.async_get(self.hass)
        known = model is not None and model is not PrinterModel.UNKNOWN
        for device in dr.async_entries_for_config_entry(registry, self.config_entry.entry_id):
            sw_version = firmware or device.sw_version
            model_name = model.product_name if model is not None and known else device.model
            if (sw_version, model_name) != (device.sw_version, device.model):
                registry.async_update_device(device.id, sw_version=sw_version, model=model_name)

    @callback
    def _handle_availability(self, available: bool) -> None:
        if available == self._was_available:
            return
        self._was_available = available
        if available:
            _LOGGER.info("Printer %s is back online", self.serial)
        else:
            _LOGGER.info("Printer %s is unavailable; reconnecting in the background", self.serial)
        self.async_update_listeners()

    @callback
    def _handle_auth_failure(self) -> None:
        # The client has logged the refusal and stopped retrying; ask the user for the code.
        self.config_entry.async_start_reauth(self.hass)

    async def _async_update_data(self) -> PrinterState:
        """Answer a refresh someone asked for (update_entity): ask the printer for everything.

        Reports arrive by push; the answer to this pushall is merged when it comes. The state
        returned is what is known now.
        """
        await self._async_push_all(UpdateFailed)
        return self.client.state

    async def async_send(self, command: Command) -> Reply:
        """Send a control command and wait for the printer's answer.

        Raises a translated HomeAssistantError the user can act on when the printer is
        read-only, offline, refuses the command or does not answer.
        """
        if self.read_only:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="read_only_mode")
        try:
            return await self.client.async_request(command, timeout=COMMAND_TIMEOUT)
        except CommandRejected as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_rejected",
                translation_placeholders={"command": command.command, "reason": err.reason},
            ) from err
        except CommandTimeout as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_timeout",
                translation_placeholders={"command": command.command},
            ) from err
        except NotConnected as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="not_connected",
                translation_placeholders={"command": command.command},
            ) from err

    async def async_request_full_state(self) -> None:
        """Ask the printer to push its full state (works in read-only mode too)."""
        await self._async_push_all(HomeAssistantError)

    async def _async_push_all(self, error: type[HomeAssistantError]) -> None:
        """Send pushall; offline, raise ``error`` saying the printer is not connected."""
        try:
            await self.client.async_publish(self.commands.pushall())
        except NotConnected as err:
            raise error(
                translation_domain=DOMAIN,
                translation_key="not_connected",
                translation_placeholders={"command": "pushall"},
            ) from err
