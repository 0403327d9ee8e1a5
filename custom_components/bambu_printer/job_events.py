"""Hands the library's events to Home Assistant: the event entity, device triggers, repairs.

Events come from `printer.events.EventTracker`; this module only adds the words (Bambu's
error texts and wiki links), fires them on the bus for device triggers, tells the event
entity, and keeps one repair issue per HMS message that needs the user.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .error_texts import async_get_catalog
from .printer.error_texts import WIKI_HOME, wiki_url
from .printer.events import EventTracker, PrinterEvent

if TYPE_CHECKING:
    from .data import BambuConfigEntry
    from .printer.models import PrinterModel
    from .printer.state import HmsMessage, PrinterState

_LOGGER = logging.getLogger(__name__)

# Bus event for device triggers: {"device_id", "type", ...event data}.
BUS_EVENT: Final = f"{DOMAIN}_event"
# HMS severities whose messages need the user (the printer stops or waits): repair issues.
USER_SEVERITIES: Final = frozenset({"fatal", "serious"})

type EventListener = Callable[[str, dict[str, Any]], None]


class EventDispatcher:
    """One printer's events: detected by the library, worded and delivered here."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: BambuConfigEntry,
        serial: str,
        model: Callable[[], PrinterModel],
        state: PrinterState,
    ) -> None:
        self._hass = hass
        self._entry = entry
        self._serial = serial
        self._name = entry.title
        self._model = model
        self._catalog = async_get_catalog(hass)
        self._tracker = EventTracker()
        self._tracker.update(state)
        self._listeners: list[EventListener] = []
        self._issues: set[str] = set()
        self._wanted = False  # a fetch of the texts has been started
        self.on_texts: Callable[[], None] = lambda: None  # entities show the texts

    @property
    def _prefix(self) -> str:
        return self._serial[:3]

    @callback
    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        """Call `listener(type, data)` for each event; returns the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def error_text(self, code: str) -> str | None:
        """Return Bambu's text for an HMS code or a print error ("XXXX_XXXX"), when known."""
        texts = self._catalog.texts(self._prefix)  # as far as they are known now
        if texts is None:
            return None
        return texts.hms_text(code) if _is_hms(code) else texts.print_error_text(code)

    def hms_url(self, code: str) -> str:
        """Return the wiki page of an HMS code for this printer's family."""
        return wiki_url(self._model(), code)

    @callback
    def suspend(self) -> None:
        """Name nothing while the link is down: what a reconnect brings is no event."""
        self._tracker.suspend()

    @callback
    def resume(self, state: PrinterState) -> None:
        """Take the full state the reconnect brought as the new baseline."""
        self._tracker.resume(state)
        self._update_issues(state)

    @callback
    def handle(self, state: PrinterState) -> None:
        """Deliver the events this report made, with texts when they are needed and due."""
        events = self._tracker.update(state)
        self._update_issues(state)
        has_error = bool(state.hms) or (state.print_error is not None and state.print_error.active)
        if not (events or has_error):
            return
        if self._catalog.needs_fetch(self._prefix) and (has_error or _with_code(events)):
            self._entry.async_create_background_task(
                self._hass,
                self._async_fetch_then_fire(events, state),
                f"{DOMAIN} {self._serial} error texts",
            )
            return
        self._fire(events)

    async def _async_fetch_then_fire(self, events: list[PrinterEvent], state: PrinterState) -> None:
        await self._catalog.async_ensure(self._prefix)
        self._fire(events)
        self._refresh_issues(state)
        self.on_texts()

    @callback
    def _fire(self, events: list[PrinterEvent]) -> None:
        if not events:
            return
        device = self._device()
        for event in events:
            data = self.event_data(event)
            for listener in list(self._listeners):
                listener(event.type.value, data)
            if device is not None:
                self._hass.bus.async_fire(
                    BUS_EVENT, {"device_id": device.id, "type": event.type.value, **data}
                )

    def _device(self) -> dr.DeviceEntry | None:
        """Return the printer's device (looked up by entry: identifiers are no longer unique)."""
        registry = dr.async_get(self._hass)
        identifier = (DOMAIN, self._serial)
        return next(
            (
                device
                for device in dr.async_entries_for_config_entry(registry, self._entry.entry_id)
                if identifier in device.identifiers
            ),
            None,
        )

    def event_data(self, event: PrinterEvent) -> dict[str, Any]:
        """Return an event's data: its fields, and Bambu's text and the wiki page of its code."""
        data: dict[str, Any] = event.as_dict()
        code = event.error_code
        if code is None:
            return data
        text = self.error_text(code)
        if text is not None:
            data["error_text"] = text
        data["url"] = self.hms_url(code) if _is_hms(code) else WIKI_HOME
        return data

    # --- repair issues ----------------------------------------------------------------------
    def _issue_id(self, code: str) -> str:
        return f"hms_{self._serial}_{code}"

    @callback
    def _update_issues(self, state: PrinterState, *, force: bool = False) -> None:
        """One repair issue per HMS message that needs the user; gone once it clears."""
        wanted = {
            self._issue_id(message.full_code): message
            for message in state.hms
            if message.severity in USER_SEVERITIES
        }
        for issue_id in self._issues - set(wanted):
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
        for issue_id, message in wanted.items():
            if force or issue_id not in self._issues:
                self._create_issue(issue_id, message)
        self._issues = set(wanted)

    @callback
    def _refresh_issues(self, state: PrinterState) -> None:
        self._update_issues(state, force=True)

    @callback
    def _create_issue(self, issue_id: str, message: HmsMessage) -> None:
        text = self.error_text(message.full_code)
        placeholders = {
            "name": self._name,
            "code": message.full_code,
            "url": self.hms_url(message.full_code),
        }
        if text is not None:
            placeholders["text"] = text
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="hms_error" if text is not None else "hms_error_no_text",
            translation_placeholders=placeholders,
            learn_more_url=placeholders["url"],
        )

    @callback
    def clear(self) -> None:
        """Remove this printer's repair issues (the entry is unloaded)."""
        for issue_id in self._issues:
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
        self._issues = set()


def _is_hms(code: str) -> bool:
    """Tell an HMS code ("XXXX_XXXX_XXXX_XXXX") from a print error ("XXXX_XXXX")."""
    return len(code) > len("XXXX_XXXX")


def _with_code(events: list[PrinterEvent]) -> bool:
    return any(event.error_code is not None for event in events)
