"""Push coordinator: one per printer, fed by the printer's MQTT reports."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .authorization import async_show_authorization_issue
from .const import COMMAND_TIMEOUT, CONF_MODEL, DOMAIN, OPTION_READ_ONLY
from .job_events import EventDispatcher
from .printer.commands import needs_authorization, refused_for_authorization
from .printer.errors import CommandRejected, CommandTimeout, NotConnected
from .printer.models import PrinterModel, identify_from_product_name, identify_from_serial
from .printer.state import VIEW_NAMES, PrinterState, View

if TYPE_CHECKING:
    from .data import BambuConfigEntry
    from .printer.commands import Command, CommandFactory, Reply
    from .printer.mqtt import PrinterClient

_LOGGER = logging.getLogger(__name__)


def views_context(views: Iterable[View[Any]] | None) -> frozenset[str] | None:
    """Return the listener context naming the state views a listener shows (None: all)."""
    return None if views is None else frozenset(view.name for view in views)


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
        self._authorization_refused = False  # a command was refused for authorization
        self._authorization_shown: bool | None = None  # what the repair issue says
        # The views (and version replies) the last report left; a report hands its entities
        # only the views it changed, while any other update goes to every listener.
        self._seen_views: dict[str, object] = {}
        self._seen_versions: object = None
        self._remember_views(client.state)
        self._report_changed: frozenset[str] | None = None
        self.events = EventDispatcher(hass, entry, client.serial, lambda: self.model, self.data)
        self.events.on_texts = self.async_update_listeners

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

    @property
    def authorization_required(self) -> bool:
        """Return whether the printer refuses our print commands (authorization control).

        The printer's `fun` bit says so; printers that do not report it are known to refuse
        once they refused a command with authorization control's error.
        """
        reported = self.client.state.authorization_control
        return self._authorization_refused if reported is None else reported

    @callback
    def _update_authorization_issue(self) -> None:
        """Keep the repair issue in step with authorization control (not in read-only mode)."""
        required = self.authorization_required and not self.read_only
        if required == self._authorization_shown:
            return
        self._authorization_shown = required
        async_show_authorization_issue(
            self.hass, self.serial, self.config_entry.title, required=required
        )

    @callback
    def async_attach(self) -> None:
        """Start listening to the client; the entry's unload detaches again."""
        self._update_authorization_issue()
        self.events.resume(self.client.state)
        self._unsubscribers = [
            self.client.add_update_listener(self._handle_report),
            self.client.add_availability_listener(self._handle_availability),
            self.client.add_auth_failure_listener(self._handle_auth_failure),
        ]

    @callback
    def async_detach(self) -> None:
        """Stop listening to the client; the repair issue goes with the entry."""
        while self._unsubscribers:
            self._unsubscribers.pop()()
        self.events.clear()
        if self._authorization_shown:
            async_show_authorization_issue(
                self.hass, self.serial, self.config_entry.title, required=False
            )
        self._authorization_shown = None

    @callback
    def _handle_report(self) -> None:
        state = self.client.state
        firmware = state.firmware.version
        if firmware != self._firmware:
            self._firmware = firmware
            self._async_update_device(firmware, state.model)
        self._update_authorization_issue()
        self.events.handle(state)
        self._report_changed = self._changed_views(state)
        try:
            self.async_set_updated_data(state)
        finally:
            self._report_changed = None

    def _changed_views(self, state: PrinterState) -> frozenset[str] | None:
        """Return the views this report replaced; None (everything) after a version reply.

        A view keeps its identity until its inputs change, so identity says what changed.
        Entities may read the model and versions outside views: those changes reach all.
        """
        if state.versions is not self._seen_versions:
            self._remember_views(state)
            return None
        seen = self._seen_views
        changed: list[str] = []
        for name in VIEW_NAMES:
            view = getattr(state, name)
            if seen[name] is not view:
                seen[name] = view
                changed.append(name)
        return frozenset(changed)

    def _remember_views(self, state: PrinterState) -> None:
        """Note the state's views and versions, to tell what the next report changes."""
        self._seen_versions = state.versions
        self._seen_views = {name: getattr(state, name) for name in VIEW_NAMES}

    @callback
    def async_update_listeners(self) -> None:
        """Call the listeners; during a report only those of the views it changed.

        Listeners without views (platform adders, entities reading everything) hear every
        report; an entity's `views` context names what it shows.
        """
        changed = self._report_changed
        if changed is None:
            super().async_update_listeners()
            return
        for update_callback, views in list(self._listeners.values()):
            if isinstance(views, frozenset) and changed.isdisjoint(views):
                continue
            try:
                update_callback()
            except Exception:
                # As Home Assistant does: one failing entity must not starve the others.
                self.logger.exception("Unexpected error updating listener for %s", self.name)

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
            self.events.resume(self.client.state)
            _LOGGER.info("Printer %s is back online", self.serial)
        else:
            self.events.suspend()
            _LOGGER.info(
                "Printer %s is unavailable (%s); reconnecting in the background",
                self.serial,
                self.client.lost_reason or "disconnected",
            )
        self.async_update_listeners()

    @callback
    def _handle_auth_failure(self) -> None:
        # The client has logged the refusal and stopped retrying; ask the user for the code.
        self.config_entry.async_start_reauth(self.hass)

    async def _async_update_data(self) -> PrinterState:
        """Answer a refresh someone asked for (update_entity): ask the printer for everything.

        Reports arrive by push; the answer to this pushall is merged when it comes. The state
        returned is what is known now. Offline, the client first tries to reconnect at once
        instead of at its next retry (connecting asks for the full state itself).
        """
        client = self.client
        offline = not client.available
        if offline:
            await client.async_retry_now()
        if offline and client.available:
            return client.state
        await self._async_push_all(UpdateFailed)
        return client.state

    async def async_send(self, command: Command) -> Reply:
        """Send a control command and wait for the printer's answer.

        Raises a translated HomeAssistantError the user can act on when the printer is
        read-only, offline, refuses the command or does not answer. A command authorization
        control refuses is not sent at all.
        """
        if self.read_only:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="read_only_mode")
        if needs_authorization(command) and self.authorization_required:
            raise _authorization_error(command)
        try:
            return await self.client.async_request(command, timeout=COMMAND_TIMEOUT)
        except CommandRejected as err:
            if refused_for_authorization(err.reason):
                self._authorization_refused = True
                self._update_authorization_issue()
                self.async_update_listeners()  # the control buttons become unavailable
                raise _authorization_error(command) from err
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


def _authorization_error(command: Command) -> HomeAssistantError:
    """Return the error explaining that authorization control refuses the command."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="authorization_required",
        translation_placeholders={"command": command.command},
    )
