"""Security at the Home Assistant level: a man in the middle, awkward access codes, log checks.

Redaction in diagnostics is tested with a mocked client in `tests/test_diagnostics.py`. The
library-level counterparts (MQTT and camera clients against a man in the middle, hostile
reports) are in `tests/printer/test_security.py`; every test's log is checked for secrets by
the autouse fixture in `tests/conftest.py`, whose scanner is tested here too. There is no FTP
client in this project, so there is no FTP path to test.
"""

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_HOST,
    CONF_PORT,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_CAMERA_PORT,
    DOMAIN,
    SECTION_ADVANCED,
)
from simulator import issued
from simulator.device import SimulatedPrinter
from simulator.testing import start_printer, wait_until

from .conftest import SECRET_CHECKED_LOGGERS, SecretScanner, entry_data
from .mitm import MitmProxy
from .test_config_flow import local_input, start_local_flow

pytestmark = pytest.mark.usefixtures("trust_simulator")

NASTY_CODE = "p@s:/%2F"
REDACTED = "**REDACTED**"


@pytest.fixture
async def printer(
    socket_enabled: None, request: pytest.FixtureRequest
) -> AsyncIterator[SimulatedPrinter]:
    """A printing simulated P1S with its camera (options from the test's parametrization).

    Overrides the shared fixture, so `trust_simulator` trusts this printer's test CA.
    """
    kwargs: dict[str, Any] = {"camera": True, "printing": True, **getattr(request, "param", {})}
    async with start_printer("P1S", **kwargs) as simulated:
        yield simulated


# --- man in the middle ------------------------------------------------------------------------


async def test_config_flow_refuses_a_man_in_the_middle(
    hass: HomeAssistant, printer: SimulatedPrinter, tmp_path: Path
) -> None:
    """A forged certificate for the right serial shows tls_untrusted; no credential leaves."""
    async with MitmProxy(
        tmp_path, printer.serial, printer.host, printer.port, printer.ca_path
    ) as mitm:
        flow_id = await start_local_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            flow_id, local_input(printer, **{CONF_HOST: mitm.host, CONF_PORT: mitm.port})
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "tls_untrusted"}

        # An entry lured there (say, after a DHCP spoof) retries instead of connecting.
        entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id=printer.serial,
            data=entry_data(printer, **{CONF_HOST: mitm.host, CONF_PORT: mitm.port}),
        )
        entry.add_to_hass(hass)
        assert not await hass.config_entries.async_setup(entry.entry_id)
        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert entry.reason is not None
        assert "certificate" in entry.reason or "serial" in entry.reason
        assert await hass.config_entries.async_unload(entry.entry_id)

        await wait_until(lambda: mitm.refused_handshakes >= 2)
        assert mitm.handshakes == 0
        assert mitm.received == b""


# --- an access code full of URL syntax, end to end ---------------------------------------------


@pytest.mark.parametrize("printer", [{"access_code": NASTY_CODE}], indirect=True)
async def test_access_code_with_url_syntax_end_to_end(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """`@:/%` in the code: config flow login, live entities and the camera's auth packet work.

    (The X1/H2 RTSPS address with such a code is checked in `tests/test_camera_entity.py`.)
    """
    assert printer.camera_port is not None
    flow_id = await start_local_flow(hass)
    user_input = local_input(printer)
    user_input[SECTION_ADVANCED][CONF_CAMERA_PORT] = printer.camera_port
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    entry = result["result"]
    assert entry.data[CONF_ACCESS_CODE] == NASTY_CODE

    registry = er.async_get(hass)
    nozzle = registry.async_get_entity_id("sensor", DOMAIN, f"{printer.serial}_nozzle_temperature")
    camera = registry.async_get_entity_id("camera", DOMAIN, f"{printer.serial}_camera")
    assert nozzle is not None
    assert camera is not None
    state = hass.states.get(nozzle)
    assert state is not None
    assert state.state != STATE_UNAVAILABLE

    image = await async_get_image(hass, camera)
    assert image.content.startswith(b"\xff\xd8\xff")
    assert NASTY_CODE not in str(hass.states.get(camera))
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


# --- the log check itself ---------------------------------------------------------------------


def _record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    return logging.LogRecord(
        "custom_components.bambu_printer.test",
        logging.DEBUG,
        __file__,
        1,
        message,
        args,
        (type(exc), exc, exc.__traceback__) if exc is not None else None,
    )


def test_secret_scanner_finds_secrets_anywhere_in_a_record() -> None:
    """The scanner looks at message, arguments (also in reprs) and exception text."""
    before = "old-secret-1234"
    issued.remember(before)
    scanner = SecretScanner(issued.mark())
    code, token, email_code = "12345678", "tok-abcdefghijkl", "654321"
    for secret in (code, token, email_code):
        issued.remember(secret)

    class Holder:
        def __repr__(self) -> str:
            return f"Holder(token={token})"

    leaking = [
        _record(f"code {code}"),
        _record("code %s", code),
        _record("holder %r", Holder()),
        _record("failed", exc=ValueError(f"bad {token}")),
        _record("your code is %s.", email_code),
    ]
    for record in leaking:
        scanner.emit(record)
    assert len(scanner.leaks) == len(leaking)
    assert all(code not in leak and token not in leak for leak in scanner.leaks)

    scanner.leaks.clear()
    harmless = [
        _record(f"serial 01P00A{email_code}9"),  # a 6-digit code inside a longer word
        _record("sizes 7654321 and 16543210"),
        _record("an older secret: %s", before),  # handed out before this test began
        _record("broken %d", "x"),  # a record that cannot be formatted
    ]
    for record in harmless:
        scanner.emit(record)
    assert scanner.leaks == []


def test_log_check_is_active() -> None:
    """Every test runs with the scanner attached and the integration's loggers at DEBUG."""
    assert any(isinstance(handler, SecretScanner) for handler in logging.getLogger().handlers)
    for name in SECRET_CHECKED_LOGGERS:
        assert logging.getLogger(name).isEnabledFor(logging.DEBUG)
