"""Config flow against a real simulated printer: every step, every error, reauth, reconfigure."""

import asyncio
import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import voluptuous as vol
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer import config_flow, flow_input
from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_CAMERA_PORT,
    CONF_CONNECTION,
    CONF_FTPS_PORT,
    CONF_MODEL,
    CONF_SERIAL,
    CONNECTION_LOCAL,
    DOMAIN,
    OPTION_CAMERA,
    OPTION_READ_ONLY,
    SECTION_ADVANCED,
)
from simulator.ca import TestCA
from simulator.device import SimulatedPrinter
from simulator.testing import start_printer

from .conftest import entry_data, make_entry, setup_entry

pytestmark = pytest.mark.usefixtures("trust_simulator")


def local_input(printer: SimulatedPrinter, **overrides: Any) -> dict[str, Any]:
    """Return what a user types into the local form for this printer."""
    values: dict[str, Any] = {
        CONF_HOST: printer.host,
        CONF_SERIAL: printer.serial,
        CONF_ACCESS_CODE: printer.access_code,
        CONF_PORT: printer.port,
    }
    values.update(overrides)
    port = values.pop(CONF_PORT)
    return {**values, SECTION_ADVANCED: {CONF_PORT: port}}


async def start_local_flow(hass: HomeAssistant) -> str:
    """Open the flow, pick the local branch, and return the flow id at the local form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["local", "cloud"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "local"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "local"
    assert result["errors"] == {}
    return str(result["flow_id"])


async def test_local_flow_creates_entry(hass: HomeAssistant, printer: SimulatedPrinter) -> None:
    """A reachable printer with the right code becomes an entry titled with its model."""
    flow_id = await start_local_flow(hass)
    # Users paste serials with spaces or in lower case.
    result = await hass.config_entries.flow.async_configure(
        flow_id, local_input(printer, **{CONF_SERIAL: f" {printer.serial.lower()} "})
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"P1S {printer.serial}"
    assert result["data"] == {
        CONF_HOST: printer.host,
        CONF_PORT: printer.port,
        CONF_SERIAL: printer.serial,
        CONF_ACCESS_CODE: printer.access_code,
        CONF_CONNECTION: CONNECTION_LOCAL,
        CONF_MODEL: "P1S",
    }
    entry = result["result"]
    assert entry.unique_id == printer.serial
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({CONF_ACCESS_CODE: "wrong123"}, {"base": "invalid_auth"}),
        ({CONF_SERIAL: "01P00A999999999"}, {CONF_SERIAL: "tls_wrong_serial"}),
    ],
    ids=["wrong_access_code", "serial_of_another_printer"],
)
async def test_local_flow_errors_then_recovers(
    hass: HomeAssistant,
    printer: SimulatedPrinter,
    overrides: dict[str, Any],
    error: dict[str, str],
) -> None:
    """A mistake shows a specific error; correcting it completes the flow."""
    flow_id = await start_local_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, local_input(printer, **overrides)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == error

    result = await hass.config_entries.flow.async_configure(flow_id, local_input(printer))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_local_flow_cannot_connect(hass: HomeAssistant, printer: SimulatedPrinter) -> None:
    """A printer that is switched off (nothing listening) gives cannot_connect."""
    await printer.stop_broker()
    flow_id = await start_local_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, local_input(printer))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


async def test_local_flow_timeout(
    hass: HomeAssistant, printer: SimulatedPrinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A printer that accepts the connection but never reports gives timeout."""
    monkeypatch.setattr(flow_input, "VALIDATE_TIMEOUT", 0.5)
    printer.silent = True
    flow_id = await start_local_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, local_input(printer))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "timeout"}


async def test_local_flow_unexpected_error(
    hass: HomeAssistant, printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug while validating is logged and shown as unknown, never as a crash."""
    flow_id = await start_local_flow(hass)
    with patch.object(flow_input.PrinterClient, "async_connect", side_effect=RuntimeError("boom")):
        result = await hass.config_entries.flow.async_configure(flow_id, local_input(printer))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert "Unexpected error while connecting" in caplog.text


async def test_local_flow_already_configured(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """The same serial cannot be added twice."""
    make_entry(printer).add_to_hass(hass)
    flow_id = await start_local_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, local_input(printer))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_with_new_access_code(hass: HomeAssistant, printer: SimulatedPrinter) -> None:
    """Reauth asks only for the code, rejects a wrong one and reloads with the right one."""
    entry = await setup_entry(hass, make_entry(printer))
    await printer.set_access_code("newcode1")

    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert list(result["data_schema"].schema) == [CONF_ACCESS_CODE]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_CODE: "badcode1"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_CODE: " newcode1 "}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_ACCESS_CODE] == "newcode1"
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_changes_address(hass: HomeAssistant, printer: SimulatedPrinter) -> None:
    """Reconfigure keeps the serial, validates the new address and reloads."""
    entry = await setup_entry(hass, make_entry(printer))

    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert CONF_SERIAL not in result["data_schema"].schema

    user_input = local_input(printer)
    del user_input[CONF_SERIAL]
    bad = {**user_input, SECTION_ADVANCED: {CONF_PORT: 1}}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], bad)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}

    await printer.set_access_code("newcode2")
    user_input[CONF_ACCESS_CODE] = "newcode2"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == printer.port
    assert entry.data[CONF_ACCESS_CODE] == "newcode2"
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_local_flow_stores_camera_port(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A camera port typed into the advanced section is kept (as an int) in the entry."""
    flow_id = await start_local_flow(hass)
    user_input = local_input(printer)
    user_input[SECTION_ADVANCED][CONF_CAMERA_PORT] = 16000.0  # number selectors give floats
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CAMERA_PORT] == 16000
    assert isinstance(result["data"][CONF_CAMERA_PORT], int)
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_file_port_is_kept_and_cleared_like_the_camera_port(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """An FTPS port typed into the advanced section is stored as an int; reconfigure clears it."""
    flow_id = await start_local_flow(hass)
    user_input = local_input(printer)
    user_input[SECTION_ADVANCED][CONF_FTPS_PORT] = 9990.0  # number selectors give floats
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_FTPS_PORT] == 9990
    assert isinstance(result["data"][CONF_FTPS_PORT], int)
    entry = result["result"]

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    advanced = {str(k): v for k, v in result["data_schema"].schema.items()}[SECTION_ADVANCED]
    ftps_key = next(k for k in advanced.schema.schema if str(k) == CONF_FTPS_PORT)
    assert ftps_key.description == {"suggested_value": 9990}
    del user_input[CONF_SERIAL]
    del user_input[SECTION_ADVANCED][CONF_FTPS_PORT]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert CONF_FTPS_PORT not in entry.data
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_sets_and_clears_camera_port(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """Reconfigure suggests the stored camera port; clearing it returns to the model default."""
    entry = await setup_entry(hass, make_entry(printer))
    user_input = local_input(printer)
    del user_input[CONF_SERIAL]

    result = await entry.start_reconfigure_flow(hass)
    user_input[SECTION_ADVANCED][CONF_CAMERA_PORT] = 7000
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_CAMERA_PORT] == 7000

    result = await entry.start_reconfigure_flow(hass)
    advanced = {str(k): v for k, v in result["data_schema"].schema.items()}[SECTION_ADVANCED]
    camera_key = next(k for k in advanced.schema.schema if str(k) == CONF_CAMERA_PORT)
    assert camera_key.description == {"suggested_value": 7000}
    # An emptied optional field is simply absent from what the frontend sends.
    del user_input[SECTION_ADVANCED][CONF_CAMERA_PORT]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert CONF_CAMERA_PORT not in entry.data
    assert entry.data[CONF_ACCESS_CODE] == printer.access_code
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_options_read_only_removes_controls(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """Turning read-only mode on reloads the entry without any control entity."""
    entry = await setup_entry(hass, make_entry(printer))
    registry = er.async_get(hass)

    def control_entities() -> list[str]:
        return [
            e.entity_id
            for e in er.async_entries_for_config_entry(registry, entry.entry_id)
            if e.domain in ("button", "light")
            and not e.unique_id.endswith("_refresh")
            and hass.states.get(e.entity_id) is not None
        ]

    assert control_entities()

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {OPTION_READ_ONLY: True, OPTION_CAMERA: True}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {OPTION_READ_ONLY: True, OPTION_CAMERA: True}
    assert entry.state is ConfigEntryState.LOADED
    assert control_entities() == []
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_other_printer_is_refused(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """Pointing an entry at a different printer fails the certificate's serial check."""
    entry = await setup_entry(hass, make_entry(printer))
    async with start_printer("X1C", ca=printer.ca) as other:  # Bambu's CA signs every printer
        result = await entry.start_reconfigure_flow(hass)
        user_input = {
            CONF_HOST: other.host,
            CONF_ACCESS_CODE: other.access_code,
            SECTION_ADVANCED: {CONF_PORT: other.port},
        }
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "tls_other_printer"}
    assert result["description_placeholders"]["cert_name"] == other.serial
    assert result["description_placeholders"]["serial"] == printer.serial
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_flow_never_shows_access_code_default(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """Forms never pre-fill the access code, even when re-shown after an error."""
    flow_id = await start_local_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, local_input(printer, **{CONF_ACCESS_CODE: "wrong123"})
    )
    assert result["errors"] == {"base": "invalid_auth"}
    keys = {str(key): key for key in result["data_schema"].schema}
    assert suggested(result)[CONF_HOST] == printer.host
    assert keys[CONF_ACCESS_CODE].default is vol.UNDEFINED
    assert suggested(result)[CONF_ACCESS_CODE] is None
    assert "wrong123" not in str(result)


def suggested(result: Any) -> dict[str, Any]:
    """Return the suggested value of each top-level field of a shown form."""
    return {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }


BAD_INPUT = {
    "host_too_long": ({CONF_HOST: "h" * 500}, CONF_HOST, "invalid_host"),
    "host_label_too_long": ({CONF_HOST: f"{'a' * 64}.local"}, CONF_HOST, "invalid_host"),
    "host_nul_byte": ({CONF_HOST: "192.168.1.2\x00"}, CONF_HOST, "invalid_host"),
    "host_blank": ({CONF_HOST: "   "}, CONF_HOST, "invalid_host"),
    "host_bad_ip": ({CONF_HOST: "192.168.1.300"}, CONF_HOST, "invalid_host"),
    "host_underscore": ({CONF_HOST: "my_printer"}, CONF_HOST, "invalid_host"),
    "serial_too_long": ({CONF_SERIAL: "0" * 500}, CONF_SERIAL, "invalid_serial"),
    "serial_blank": ({CONF_SERIAL: "  "}, CONF_SERIAL, "invalid_serial"),
    "serial_short": ({CONF_SERIAL: "01P00A12345678"}, CONF_SERIAL, "invalid_serial"),
    "serial_symbol": ({CONF_SERIAL: "01P00A-12345678"}, CONF_SERIAL, "invalid_serial"),
    "code_blank": ({CONF_ACCESS_CODE: " \t "}, CONF_ACCESS_CODE, "invalid_access_code"),
    "code_short": ({CONF_ACCESS_CODE: "1234567"}, CONF_ACCESS_CODE, "invalid_access_code"),
    "code_long": ({CONF_ACCESS_CODE: "1" * 500}, CONF_ACCESS_CODE, "invalid_access_code"),
    "code_space": ({CONF_ACCESS_CODE: "1234 678"}, CONF_ACCESS_CODE, "invalid_access_code"),
    "code_nul": ({CONF_ACCESS_CODE: "1234\x00678"}, CONF_ACCESS_CODE, "invalid_access_code"),
    "code_accent": ({CONF_ACCESS_CODE: "1234567\u00e9"}, CONF_ACCESS_CODE, "invalid_access_code"),
}


@pytest.mark.parametrize("case", BAD_INPUT.values(), ids=list(BAD_INPUT))
async def test_local_form_checks_each_field(
    hass: HomeAssistant,
    printer: SimulatedPrinter,
    caplog: pytest.LogCaptureFixture,
    case: tuple[dict[str, Any], str, str],
) -> None:
    """Bad input gets a message at its field, keeps what was typed, and logs no error."""
    overrides, field, error = case
    flow_id = await start_local_flow(hass)
    typed = local_input(printer, **overrides)
    result = await hass.config_entries.flow.async_configure(flow_id, typed)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    shown = suggested(result)
    for key in (CONF_HOST, CONF_SERIAL):
        assert shown[key] == typed[key]
    assert shown[CONF_ACCESS_CODE] is None  # never offered back
    assert not [record for record in caplog.records if record.levelname == "ERROR"]

    result = await hass.config_entries.flow.async_configure(flow_id, local_input(printer))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_local_form_reports_every_bad_field_at_once(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """Three bad fields give three messages in one go."""
    flow_id = await start_local_flow(hass)
    bad = {CONF_HOST: "-bad-", CONF_SERIAL: "x", CONF_ACCESS_CODE: "y"}
    result = await hass.config_entries.flow.async_configure(flow_id, local_input(printer, **bad))
    assert result["errors"] == {
        CONF_HOST: "invalid_host",
        CONF_SERIAL: "invalid_serial",
        CONF_ACCESS_CODE: "invalid_access_code",
    }


@pytest.mark.parametrize(
    "host", ["printer", "printer.local.", "p1s-01.example.com", "fe80::1", "10.0.0.7"]
)
def test_host_names_and_addresses_are_accepted(host: str) -> None:
    """IPv4, IPv6 and host names following the DNS label rules pass the check."""
    assert flow_input.check_host(f" {host} ") == host


async def test_local_flow_serial_of_another_printer(
    hass: HomeAssistant, printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    """A certificate for another serial is shown at the serial, naming the one it carries."""
    flow_id = await start_local_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, local_input(printer, **{CONF_SERIAL: "01P00A999999999"})
    )
    assert result["errors"] == {CONF_SERIAL: "tls_wrong_serial"}
    assert result["description_placeholders"]["cert_name"] == printer.serial
    assert result["description_placeholders"]["serial"] == "01P00A999999999"
    assert f"is for {printer.serial}" in caplog.text
    assert printer.access_code not in caplog.text


async def test_local_flow_certificate_not_from_bambu(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """A certificate from another CA (or a device intercepting TLS) is told apart."""
    async with start_printer("P1S", cert_ca=TestCA(Path(tempfile.mkdtemp()) / "x")) as other:
        flow_id = await start_local_flow(hass)
        result = await hass.config_entries.flow.async_configure(flow_id, local_input(other))
    assert result["errors"] == {"base": "tls_untrusted"}
    assert "was not accepted" in caplog.text
    assert other.access_code not in caplog.text


async def test_local_flow_tls_handshake_failure(hass: HomeAssistant) -> None:
    """Something at the address that does not complete a TLS handshake is told apart."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        flow_id = await start_local_flow(hass)
        typed = {
            CONF_HOST: "127.0.0.1",
            CONF_SERIAL: "01P00A000000001",
            CONF_ACCESS_CODE: "12345678",
            SECTION_ADVANCED: {CONF_PORT: port},
        }
        result = await hass.config_entries.flow.async_configure(flow_id, typed)
    finally:
        server.close()
        await server.wait_closed()
    assert result["errors"] == {"base": "tls_handshake"}


async def test_reconfigure_keeps_the_access_code_when_left_empty(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """Changing only the address needs no access code; the stored one stays."""
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=printer.serial, data=entry_data(printer, host="192.0.2.7")
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert suggested(result)[CONF_HOST] == "192.0.2.7"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: printer.host, SECTION_ADVANCED: {CONF_PORT: printer.port}}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == printer.host
    assert entry.data[CONF_ACCESS_CODE] == printer.access_code
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_checks_a_given_access_code(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """An access code typed into reconfigure is checked like in the setup form."""
    entry = make_entry(printer)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: " ", CONF_ACCESS_CODE: "abc", SECTION_ADVANCED: {CONF_PORT: printer.port}},
    )
    assert result["errors"] == {CONF_HOST: "invalid_host", CONF_ACCESS_CODE: "invalid_access_code"}


async def test_reauth_checks_the_access_code(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A blank or malformed access code in reauth is reported at the field."""
    entry = make_entry(printer)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_CODE: "   "}
    )
    assert result["errors"] == {CONF_ACCESS_CODE: "invalid_access_code"}


def test_local_error_texts_do_not_mention_the_cloud() -> None:
    """The LAN form's messages speak of the printer only; the sign-in has its own."""
    strings = json.loads(
        (Path(config_flow.__file__).parent / "translations" / "en.json").read_text("utf-8")
    )["config"]["error"]
    local = ["cannot_connect", "invalid_auth", "timeout", "invalid_host", "invalid_serial"]
    local += ["invalid_access_code", "tls_wrong_serial", "tls_untrusted", "tls_handshake"]
    for key in local:
        assert "cloud" not in strings[key].lower(), key
    for key in ("cloud_cannot_connect", "cloud_invalid_auth", "cloud_timeout"):
        assert "printer" not in strings[key].lower(), key
