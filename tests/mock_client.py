"""A mocked `PrinterClient` fed from a real capture, for tests where the wire is not the point.

Only the connection is mocked (start/stop, requests, publishes, availability); the state is a
real `PrinterState` that merged the capture's get_version and pushall reports, and commands
come from the real `CommandFactory`. Tests drive the mock the way the real client drives the
integration: `push_report` merges a report and calls the update listeners when it changed
something, `set_available` calls the availability listeners.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from unittest.mock import MagicMock

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_CONNECTION,
    CONF_MODEL,
    CONF_SERIAL,
    CONNECTION_LOCAL,
    DOMAIN,
    MQTT_PORT,
)
from custom_components.bambu_printer.printer.commands import CommandFactory, Reply
from custom_components.bambu_printer.printer.errors import ConnectError
from custom_components.bambu_printer.printer.models import PrinterModel
from custom_components.bambu_printer.printer.mqtt import PrinterClient
from custom_components.bambu_printer.printer.state import PrinterState

from .captures import pushall_report, version_report

SERIAL = "01S00A000000001"
ACCESS_CODE = "73x9Qk2L"
# A documentation address (RFC 5737): nothing is ever sent there, the client is mocked.
HOST = "192.0.2.17"
# When the capture's reports "arrived": the end time the printer's remaining time gives.
CAPTURE_TIME = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


class Listeners:
    """Stands in for one `add_*_listener` method: keeps the callbacks, returns removers."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[..., None]] = []

    def __call__(self, callback: Callable[..., None]) -> Callable[[], None]:
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def notify(self, *args: Any) -> None:
        """Call every registered callback, as the real client does."""
        for callback in list(self.callbacks):
            callback(*args)


def capture_state(capture: str) -> PrinterState:
    """Return a real PrinterState that merged the capture's version and full status reports."""
    state = PrinterState()
    now = CAPTURE_TIME.timestamp()
    state.apply(version_report(capture), now=now)
    state.apply(pushall_report(capture), now=now)
    return state


def capture_model(capture: str) -> PrinterModel:
    """Return the model the capture's get_version reply names."""
    model = capture_state(capture).model
    assert model is not None
    return model


def new_mock_client(capture: str, serial: str = SERIAL) -> MagicMock:
    """Return a connected PrinterClient mock whose state is the capture's."""
    client = MagicMock(spec=PrinterClient)
    client.serial = serial
    client.available = True
    client.lost_reason = None
    client.state = capture_state(capture)
    client.commands = CommandFactory()
    client.reports_received = 2
    client.connects = 1
    client.add_update_listener.side_effect = Listeners()
    client.add_availability_listener.side_effect = Listeners()
    client.add_auth_failure_listener.side_effect = Listeners()
    client.async_request.return_value = Reply(ok=True, reason=None, data={})
    return client


def _listeners(method: MagicMock) -> Listeners:
    listeners = method.side_effect
    assert isinstance(listeners, Listeners)
    return listeners


async def push_report(hass: HomeAssistant, client: MagicMock, report: Mapping[str, Any]) -> None:
    """Merge a report like the real client and let Home Assistant handle the update."""
    if client.state.apply(report, now=CAPTURE_TIME.timestamp()):
        _listeners(client.add_update_listener).notify()
    await hass.async_block_till_done()


async def clear_authorization_control(hass: HomeAssistant, client: MagicMock) -> None:
    """Let the mocked printer report Developer mode: `fun` without the authorization bit.

    The X1C and H2D captures have authorization control on.
    """
    await push_report(hass, client, {"print": {"command": "push_status", "fun": "18FFF9CFF"}})


async def set_available(hass: HomeAssistant, client: MagicMock, available: bool) -> None:
    """Report the link up or down, as the real client does on connect and disconnect."""
    client.available = available
    client.lost_reason = None if available else ConnectError("the connection closed")
    _listeners(client.add_availability_listener).notify(available)
    await hass.async_block_till_done()


def listener_count(client: MagicMock) -> int:
    """Return how many listeners the integration has registered and not removed."""
    return sum(
        len(_listeners(method).callbacks)
        for method in (
            client.add_update_listener,
            client.add_availability_listener,
            client.add_auth_failure_listener,
        )
    )


def capture_entry(
    capture: str,
    *,
    data: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> MockConfigEntry:
    """Return a LAN config entry (not yet added) for the printer of a capture.

    `data` replaces or adds entry data (e.g. another access code, a camera port).
    """
    model = capture_model(capture)
    return MockConfigEntry(
        domain=DOMAIN,
        title=model.product_name,
        unique_id=SERIAL,
        data={
            CONF_HOST: HOST,
            CONF_PORT: MQTT_PORT,
            CONF_SERIAL: SERIAL,
            CONF_ACCESS_CODE: ACCESS_CODE,
            CONF_CONNECTION: CONNECTION_LOCAL,
            CONF_MODEL: model.key,
            **(data or {}),
        },
        options=dict(options or {}),
    )
