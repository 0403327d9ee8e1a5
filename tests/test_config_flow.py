"""Config flow against a real simulated printer: every step, every error, reauth, reconfigure."""

from typing import Any
from unittest.mock import patch

import pytest
import voluptuous as vol
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.bambu_printer import config_flow
from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_CAMERA_PORT,
    CONF_CONNECTION,
    CONF_MODEL,
    CONF_SERIAL,
    CONNECTION_LOCAL,
    DOMAIN,
    OPTION_CAMERA,
    OPTION_READ_ONLY,
    SECTION_ADVANCED,
)
from simulator.device import SimulatedPrinter
from simulator.testing import start_printer

from .conftest import make_entry, setup_entry

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
        ({CONF_ACCESS_CODE: "wrong123"}, "invalid_auth"),
        ({CONF_SERIAL: "01P00A999999999"}, "tls_failed"),
    ],
    ids=["wrong_access_code", "serial_of_another_printer"],
)
async def test_local_flow_errors_then_recovers(
    hass: HomeAssistant, printer: SimulatedPrinter, overrides: dict[str, Any], error: str
) -> None:
    """A mistake shows a specific error; correcting it completes the flow."""
    flow_id = await start_local_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, local_input(printer, **overrides)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}

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
    monkeypatch.setattr(config_flow, "VALIDATE_TIMEOUT", 0.5)
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
    with patch.object(config_flow.PrinterClient, "async_connect", side_effect=RuntimeError("boom")):
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
    async with start_printer("X1C") as other:
        result = await entry.start_reconfigure_flow(hass)
        user_input = {
            CONF_HOST: other.host,
            CONF_ACCESS_CODE: other.access_code,
            SECTION_ADVANCED: {CONF_PORT: other.port},
        }
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "tls_failed"}
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
    assert keys[CONF_HOST].default() == printer.host
    assert keys[CONF_ACCESS_CODE].default is vol.UNDEFINED
    assert "wrong123" not in str(result)
