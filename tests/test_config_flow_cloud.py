"""Config flow, Bambu account branch: every sign-in path and error against the fake cloud.

The fake cloud (simulator/cloud_server.py) answers over real HTTP; the printers are simulated
ones with real Mosquitto brokers, one of which also plays the Bambu cloud broker.
"""

import ast
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    SOURCE_USER,
    ConfigEntryState,
)
from homeassistant.const import (
    CONF_CODE,
    CONF_EMAIL,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_TOKEN,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer import account, config_flow, flow_discovery, flow_input
from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_CONNECTION,
    CONF_MODEL,
    CONF_REGION,
    CONF_SERIAL,
    CONF_TOKEN_EXPIRES_AT,
    CONF_UID,
    CONNECTION_CLOUD,
    CONNECTION_LOCAL,
    DOMAIN,
    SECTION_ADVANCED,
)
from custom_components.bambu_printer.printer.cloud import CloudClient, CloudPrinter
from simulator.cloud_server import FakeBambuCloud, LoginMode
from simulator.device import SimulatedPrinter
from simulator.testing import start_printer

from .conftest import (
    CLOUD_EMAIL,
    CLOUD_PASSWORD,
    bind_printer,
    make_account_entry,
    make_entry,
    signed_in_data,
)

pytestmark = pytest.mark.usefixtures("use_fake_cloud")

CLOUD_BROKER = {SECTION_ADVANCED: {CONF_PORT: 8883}}  # host left empty: the cloud broker


def lan(printer: SimulatedPrinter) -> dict[str, Any]:
    """Return the per-printer form's input reaching `printer` over the LAN."""
    return {CONF_HOST: printer.host, SECTION_ADVANCED: {CONF_PORT: printer.port}}


async def start_cloud_flow(hass: HomeAssistant) -> str:
    """Open the flow, pick the account branch, and return the flow id at the sign-in form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["local", "cloud"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "cloud"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "cloud"
    assert result["errors"] == {}
    return str(result["flow_id"])


async def sign_in(
    hass: HomeAssistant, flow_id: str, password: str = CLOUD_PASSWORD
) -> dict[str, Any]:
    """Submit the sign-in form."""
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_EMAIL: f" {CLOUD_EMAIL} ", CONF_PASSWORD: password, CONF_REGION: "global"}
    )
    return dict(result)


async def configure(hass: HomeAssistant, flow_id: str, user_input: dict[str, Any]) -> Any:
    """Submit a step and let the entries it created finish setting up."""
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    await hass.async_block_till_done()
    return result


async def unload_all(hass: HomeAssistant) -> None:
    """Unload every loaded entry of the integration."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def expect_printers_form(result: Any, *serials: str) -> None:
    """Assert the flow shows the printer choice, all offered printers preselected."""
    assert result["type"] is FlowResultType.FORM, result
    assert result["step_id"] == "cloud_printers"
    key = next(iter(result["data_schema"].schema))
    assert key.default() == list(serials)


async def test_token_login_adds_printer_through_cloud_broker(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """Password straight to token -> choose -> cloud broker: an entry that keeps no password."""
    user = use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    flow_id = await start_cloud_flow(hass)

    result = await sign_in(hass, flow_id)
    expect_printers_form(result, cloud_printer.serial)
    result = await configure(hass, flow_id, {"printers": [cloud_printer.serial]})
    assert result["step_id"] == "cloud_printer"
    assert result["description_placeholders"] == {
        "name": "Workshop P1S",
        "model": "P1S",
        "serial": cloud_printer.serial,
    }
    result = await configure(hass, flow_id, CLOUD_BROKER)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Workshop P1S"
    data = result["data"]
    assert data == {
        CONF_SERIAL: cloud_printer.serial,
        CONF_ACCESS_CODE: cloud_printer.access_code,
        CONF_MODEL: "P1S",
        CONF_CONNECTION: CONNECTION_CLOUD,
        CONF_TOKEN: data[CONF_TOKEN],
        CONF_TOKEN_EXPIRES_AT: data[CONF_TOKEN_EXPIRES_AT],
        CONF_UID: str(user.uid),
        CONF_REGION: "global",
        CONF_EMAIL: CLOUD_EMAIL,
    }
    assert data[CONF_TOKEN]
    assert data[CONF_TOKEN_EXPIRES_AT] > 0
    assert CLOUD_PASSWORD not in str(result)
    entry = result["result"]
    assert entry.unique_id == cloud_printer.serial
    assert entry.state is ConfigEntryState.LOADED
    log = cloud_printer.broker.log_path.read_text(encoding="utf-8")
    assert f"u'u_{user.uid}'" in log  # it logged in to the broker as the cloud user
    await unload_all(hass)


async def test_email_code_login(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """An account that asks for an email code gets the code step, with the address shown."""
    user = use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD, login=LoginMode.CODE)
    bind_printer(use_fake_cloud, cloud_printer)
    flow_id = await start_cloud_flow(hass)

    result = await sign_in(hass, flow_id)
    assert result["step_id"] == "cloud_code"
    assert result["description_placeholders"] == {"email": CLOUD_EMAIL}
    assert user.codes_sent == 1
    result = await configure(hass, flow_id, {CONF_CODE: f" {user.email_code} "})
    expect_printers_form(result, cloud_printer.serial)


async def test_email_code_expired_sends_a_new_one(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """An expired code shows code_expired, and a new code is already on its way."""
    user = use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD, login=LoginMode.CODE)
    bind_printer(use_fake_cloud, cloud_printer)
    flow_id = await start_cloud_flow(hass)
    await sign_in(hass, flow_id)
    old_code = user.email_code
    use_fake_cloud.expire_code(CLOUD_EMAIL)

    result = await configure(hass, flow_id, {CONF_CODE: old_code})
    assert result["step_id"] == "cloud_code"
    assert result["errors"] == {"base": "code_expired"}
    assert user.codes_sent == 2
    result = await configure(hass, flow_id, {CONF_CODE: user.email_code})
    expect_printers_form(result, cloud_printer.serial)


async def test_email_code_wrong(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """A mistyped code shows code_invalid; the right one then works."""
    user = use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD, login=LoginMode.CODE)
    bind_printer(use_fake_cloud, cloud_printer)
    flow_id = await start_cloud_flow(hass)
    await sign_in(hass, flow_id)

    result = await configure(hass, flow_id, {CONF_CODE: "000000x"})
    assert result["errors"] == {"base": "code_invalid"}
    assert user.codes_sent == 1
    result = await configure(hass, flow_id, {CONF_CODE: user.email_code})
    expect_printers_form(result, cloud_printer.serial)


async def test_two_factor_login_wrong_then_right(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """Two-factor accounts get the authenticator step; a wrong code shows tfa_invalid."""
    use_fake_cloud.tfa_csrf_check = False  # the service before mid-2026, or should it return
    user = use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD, login=LoginMode.TFA)
    bind_printer(use_fake_cloud, cloud_printer)
    flow_id = await start_cloud_flow(hass)

    result = await sign_in(hass, flow_id)
    assert result["step_id"] == "cloud_tfa"
    result = await configure(hass, flow_id, {CONF_CODE: "999999x"})
    assert result["step_id"] == "cloud_tfa"
    assert result["errors"] == {"base": "tfa_invalid"}
    result = await configure(hass, flow_id, {CONF_CODE: user.tfa_code})
    expect_printers_form(result, cloud_printer.serial)
    # The token cookie stayed out of Home Assistant's shared session.
    from homeassistant.helpers.aiohttp_client import async_get_clientsession  # noqa: PLC0415

    assert not any(cookie.key == "token" for cookie in async_get_clientsession(hass).cookie_jar)


async def test_two_factor_refused_by_csrf_falls_back_to_the_emailed_code(
    hass: HomeAssistant,
    use_fake_cloud: FakeBambuCloud,
    cloud_printer: SimulatedPrinter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """bambulab.com's CSRF refusal is not a wrong code: an emailed code finishes the sign-in."""
    user = use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD, login=LoginMode.TFA)
    bind_printer(use_fake_cloud, cloud_printer)
    flow_id = await start_cloud_flow(hass)

    result = await sign_in(hass, flow_id)
    assert result["step_id"] == "cloud_tfa"
    result = await configure(hass, flow_id, {CONF_CODE: user.tfa_code})
    assert result["step_id"] == "cloud_code"
    assert result["errors"] == {"base": "tfa_blocked"}
    assert result["description_placeholders"] == {"email": CLOUD_EMAIL}
    assert user.codes_sent == 1
    assert "two-factor" in caplog.text
    assert user.tfa_code not in caplog.text
    result = await configure(hass, flow_id, {CONF_CODE: user.email_code})
    expect_printers_form(result, cloud_printer.serial)


SIGN_IN_FAULTS = {
    "bad_password": "cloud_invalid_auth",
    "rate_limit": "rate_limited",
    "html": "cloud_blocked",
    "timeout": "cloud_timeout",
    "server_error": "cloud_cannot_connect",
}


@pytest.mark.parametrize("fault", list(SIGN_IN_FAULTS))
async def test_sign_in_errors_then_recover(
    hass: HomeAssistant,
    use_fake_cloud: FakeBambuCloud,
    cloud_printer: SimulatedPrinter,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    """Each cloud failure has its own form error; the next attempt can succeed."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    password = CLOUD_PASSWORD
    if fault == "bad_password":
        password = "not-the-password"
    elif fault == "rate_limit":
        use_fake_cloud.inject_rate_limit(times=10, retry_after=None)
    elif fault == "html":
        use_fake_cloud.inject_html(echo_request=True)
    elif fault == "timeout":
        monkeypatch.setattr(account, "CLOUD_TIMEOUT", 0.3)
        use_fake_cloud.inject_delay(5)
    else:
        use_fake_cloud.inject_answer(503, "Service Unavailable", content_type="text/plain")
    flow_id = await start_cloud_flow(hass)

    result = await sign_in(hass, flow_id, password)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "cloud"
    assert result["errors"] == {"base": SIGN_IN_FAULTS[fault]}
    # The email and region are kept; the password is never offered back.
    keys = {str(key): key for key in result["data_schema"].schema}
    assert keys[CONF_EMAIL].description == {"suggested_value": CLOUD_EMAIL}
    assert keys[CONF_REGION].description == {"suggested_value": "global"}
    assert "suggested_value" not in (keys[CONF_PASSWORD].description or {})

    use_fake_cloud.clear_faults()
    result = await sign_in(hass, flow_id)
    expect_printers_form(result, cloud_printer.serial)


@pytest.mark.parametrize("email", ["   ", "a b@example.com", "x" * 300, "me@example.com\x00"])
async def test_sign_in_checks_the_account_field(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, email: str
) -> None:
    """A blank or malformed account is reported at its field without asking the cloud."""
    flow_id = await start_cloud_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_EMAIL: email, CONF_PASSWORD: CLOUD_PASSWORD, CONF_REGION: "global"}
    )
    assert result["errors"] == {CONF_EMAIL: "invalid_email"}
    assert use_fake_cloud.requests == []


async def test_sign_in_unexpected_error(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug while signing in is logged and shown as unknown."""
    flow_id = await start_cloud_flow(hass)
    with patch.object(CloudClient, "async_login", side_effect=RuntimeError("boom")):
        result = await sign_in(hass, flow_id)
    assert result["errors"] == {"base": "unknown"}
    assert "Unexpected error while talking to the Bambu cloud" in caplog.text


async def test_no_printers_left(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """When every printer of the account is set up already, the flow ends."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    make_entry(cloud_printer).add_to_hass(hass)
    flow_id = await start_cloud_flow(hass)
    result = await sign_in(hass, flow_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_printers"


async def test_printer_choice_must_not_be_empty(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """Unticking every printer asks again."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    flow_id = await start_cloud_flow(hass)
    await sign_in(hass, flow_id)
    result = await configure(hass, flow_id, {"printers": []})
    assert result["step_id"] == "cloud_printers"
    assert result["errors"] == {"base": "no_printer_selected"}


async def test_two_printers_one_through_the_cloud_one_on_the_lan(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """Two printers chosen at once become two entries; a wrong LAN port shows its error."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    async with start_printer("X1C", ca=cloud_printer.ca) as lan_printer:
        bind_printer(use_fake_cloud, cloud_printer)
        bind_printer(use_fake_cloud, lan_printer)
        flow_id = await start_cloud_flow(hass)
        result = await sign_in(hass, flow_id)
        expect_printers_form(result, cloud_printer.serial, lan_printer.serial)

        result = await configure(
            hass, flow_id, {"printers": [lan_printer.serial, cloud_printer.serial]}
        )
        assert result["description_placeholders"]["name"] == "Workshop X1C"
        result = await configure(hass, flow_id, {CONF_HOST: "the printer", **CLOUD_BROKER})
        assert result["errors"] == {CONF_HOST: "invalid_host"}
        # The other printer's address: its certificate names the other serial.
        result = await configure(hass, flow_id, lan(cloud_printer))
        assert result["errors"] == {CONF_HOST: "tls_other_printer"}
        assert result["description_placeholders"]["cert_name"] == cloud_printer.serial
        assert result["description_placeholders"]["serial"] == lan_printer.serial
        result = await configure(
            hass, flow_id, {CONF_HOST: " 127.0.0.1 ", SECTION_ADVANCED: {CONF_PORT: 1}}
        )
        assert result["step_id"] == "cloud_printer"
        assert result["errors"] == {"base": "cannot_connect"}
        result = await configure(hass, flow_id, lan(lan_printer))
        assert result["step_id"] == "cloud_printer"
        assert result["errors"] == {}
        assert result["description_placeholders"]["name"] == "Workshop P1S"
        result = await configure(hass, flow_id, CLOUD_BROKER)

        assert result["type"] is FlowResultType.CREATE_ENTRY
        entries = {entry.unique_id: entry for entry in hass.config_entries.async_entries(DOMAIN)}
        assert set(entries) == {lan_printer.serial, cloud_printer.serial}
        lan_entry = entries[lan_printer.serial]
        assert lan_entry.title == "Workshop X1C"
        assert lan_entry.source == SOURCE_USER  # the first printer is this flow's own entry
        assert entries[cloud_printer.serial].source == config_flow.SOURCE_ACCOUNT_PRINTER
        assert lan_entry.data[CONF_CONNECTION] == CONNECTION_LOCAL
        assert lan_entry.data[CONF_HOST] == "127.0.0.1"
        assert lan_entry.data[CONF_PORT] == lan_printer.port
        assert lan_entry.data[CONF_ACCESS_CODE] == lan_printer.access_code
        assert lan_entry.data[CONF_MODEL] == "X1C"
        assert lan_entry.data[CONF_TOKEN] == entries[cloud_printer.serial].data[CONF_TOKEN]
        assert entries[cloud_printer.serial].data[CONF_CONNECTION] == CONNECTION_CLOUD
        assert all(entry.state is ConfigEntryState.LOADED for entry in entries.values())
        await unload_all(hass)


async def test_extra_printer_flow_does_not_duplicate(
    hass: HomeAssistant, cloud_printer: SimulatedPrinter
) -> None:
    """The form-less flow of an extra printer stops when the printer is set up already."""
    make_entry(cloud_printer).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_flow.SOURCE_ACCOUNT_PRINTER},
        data={"name": "Workshop P1S", "data": {CONF_SERIAL: cloud_printer.serial}},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_printer_added_meanwhile(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """A printer set up in another way while this flow ran is not added twice."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    flow_id = await start_cloud_flow(hass)
    await sign_in(hass, flow_id)
    await configure(hass, flow_id, {"printers": [cloud_printer.serial]})
    make_entry(cloud_printer).add_to_hass(hass)
    result = await configure(hass, flow_id, CLOUD_BROKER)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_signs_in_again_and_updates_every_entry_of_the_account(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """Reauth repeats the sign-in (here with an email code) and refreshes the whole account.

    The other entry of the same account gets the token too, its own reauth flow is dismissed
    and it reloads; an entry without an account is left alone.
    """
    user = use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    async with start_printer("X1C", ca=cloud_printer.ca) as lan_printer:
        bind_printer(use_fake_cloud, cloud_printer)
        bind_printer(use_fake_cloud, lan_printer)
        entry = make_account_entry(
            cloud_printer, await signed_in_data(use_fake_cloud, cloud_printer)
        )
        entry.add_to_hass(hass)
        sibling = make_account_entry(
            lan_printer, await signed_in_data(use_fake_cloud, lan_printer, host=lan_printer.host)
        )
        sibling.add_to_hass(hass)
        local = MockConfigEntry(domain=DOMAIN, unique_id="01P00A000000001", data={})
        local.add_to_hass(hass)
        sibling.async_start_reauth(hass)
        await hass.async_block_till_done()
        assert len(list(sibling.async_get_active_flows(hass, {"reauth"}))) == 1

        user.login = LoginMode.CODE
        result = await entry.start_reauth_flow(hass)
        assert result["step_id"] == "reauth_account"
        assert result["description_placeholders"] == {"name": "Workshop P1S"}
        keys = {str(key): key for key in result["data_schema"].schema}
        assert keys[CONF_EMAIL].description == {"suggested_value": CLOUD_EMAIL}
        flow_id = result["flow_id"]

        result = await configure(hass, flow_id, {CONF_EMAIL: CLOUD_EMAIL, CONF_PASSWORD: "nope"})
        assert result["errors"] == {"base": "cloud_invalid_auth"}
        result = await configure(
            hass, flow_id, {CONF_EMAIL: CLOUD_EMAIL, CONF_PASSWORD: CLOUD_PASSWORD}
        )
        assert result["step_id"] == "cloud_code"
        old_token = entry.data[CONF_TOKEN]
        result = await configure(hass, flow_id, {CONF_CODE: user.email_code})

        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reauth_successful"
        assert entry.data[CONF_TOKEN] != old_token
        assert sibling.data[CONF_TOKEN] == entry.data[CONF_TOKEN]
        assert sibling.data[CONF_HOST] == lan_printer.host  # its own settings are kept
        assert list(sibling.async_get_active_flows(hass, {"reauth"})) == []
        assert entry.state is ConfigEntryState.LOADED
        assert sibling.state is ConfigEntryState.LOADED
        assert local.data == {}
        await unload_all(hass)


async def test_reauth_of_a_two_factor_account_through_the_emailed_code(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """The emailed-code fallback also finishes a reauth."""
    user = use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    entry = make_account_entry(cloud_printer, await signed_in_data(use_fake_cloud, cloud_printer))
    entry.add_to_hass(hass)
    token = entry.data[CONF_TOKEN]
    user.login = LoginMode.TFA

    result = await entry.start_reauth_flow(hass)
    flow_id = result["flow_id"]
    result = await configure(
        hass, flow_id, {CONF_EMAIL: CLOUD_EMAIL, CONF_PASSWORD: CLOUD_PASSWORD}
    )
    result = await configure(hass, flow_id, {CONF_CODE: user.tfa_code})
    assert result["errors"] == {"base": "tfa_blocked"}
    result = await configure(hass, flow_id, {CONF_CODE: user.email_code})
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] != token
    await unload_all(hass)


async def test_reauth_with_another_account_is_refused(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """Signing in with a different account does not overwrite the entry's sign-in."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    use_fake_cloud.add_user("other@example.com", "other-password")
    entry = make_account_entry(cloud_printer, await signed_in_data(use_fake_cloud, cloud_printer))
    entry.add_to_hass(hass)
    token = entry.data[CONF_TOKEN]

    result = await entry.start_reauth_flow(hass)
    result = await configure(
        hass,
        result["flow_id"],
        {CONF_EMAIL: "other@example.com", CONF_PASSWORD: "other-password"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert entry.data[CONF_TOKEN] == token


async def test_reconfigure_moves_between_cloud_and_lan(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """An account printer can switch to the LAN (checked first) and back to the cloud."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    entry = make_account_entry(cloud_printer, await signed_in_data(use_fake_cloud, cloud_printer))
    entry.add_to_hass(hass)

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_account"
    assert result["description_placeholders"] == {"name": "Workshop P1S"}
    result = await configure(hass, result["flow_id"], {CONF_HOST: "-x-", **CLOUD_BROKER})
    assert result["errors"] == {CONF_HOST: "invalid_host"}
    result = await configure(
        hass, result["flow_id"], {CONF_HOST: "127.0.0.1", SECTION_ADVANCED: {CONF_PORT: 1}}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await configure(hass, result["flow_id"], lan(cloud_printer))
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_CONNECTION] == CONNECTION_LOCAL
    assert entry.data[CONF_PORT] == cloud_printer.port
    assert entry.state is ConfigEntryState.LOADED

    result = await entry.start_reconfigure_flow(hass)
    keys = {str(key): key for key in result["data_schema"].schema}
    assert keys[CONF_HOST].description == {"suggested_value": "127.0.0.1"}
    result = await configure(hass, result["flow_id"], CLOUD_BROKER)
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_CONNECTION] == CONNECTION_CLOUD
    assert CONF_HOST not in entry.data
    assert CONF_PORT not in entry.data
    assert entry.state is ConfigEntryState.LOADED
    await unload_all(hass)


def discovered(entry: MockConfigEntry, printer: SimulatedPrinter) -> dict[str, Any]:
    """Return the data a reload of `entry` starts a discovered flow with."""
    return {
        account.DISCOVERY_ACCOUNT_ENTRY: entry.entry_id,
        account.DISCOVERY_PRINTER: CloudPrinter(
            serial=printer.serial,
            name="Garage P1S",
            online=True,
            access_code=printer.access_code,
            product_name="P1S",
        ),
    }


async def test_discovered_printer_is_added_with_the_accounts_sign_in(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """A printer bound later shows up titled with its name and joins with the stored token."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    account_entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="01P00A000000002",
        data=await signed_in_data(use_fake_cloud, cloud_printer),
    )
    account_entry.add_to_hass(hass)

    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data=discovered(account_entry, cloud_printer),
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "cloud_printer"
    (progress,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert progress["context"]["title_placeholders"] == {"name": "Garage P1S"}

    result = await configure(hass, result["flow_id"], CLOUD_BROKER)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage P1S"
    assert result["data"][CONF_TOKEN] == account_entry.data[CONF_TOKEN]
    assert result["data"][CONF_UID] == account_entry.data[CONF_UID]
    assert result["result"].state is ConfigEntryState.LOADED
    await unload_all(hass)


async def test_discovered_printer_whose_account_entry_was_removed(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """Without the entry that found it, a discovered printer has no sign-in to use."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    account_entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="01P00A000000003",
        data=await signed_in_data(use_fake_cloud, cloud_printer),
    )
    account_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data=discovered(account_entry, cloud_printer),
    )
    await hass.config_entries.async_remove(account_entry.entry_id)
    result = await configure(hass, result["flow_id"], CLOUD_BROKER)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "account_missing"


async def test_discovered_printer_already_configured(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """No discovered card for a printer that is set up already."""
    entry = make_entry(cloud_printer)
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data=discovered(entry, cloud_printer),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


def test_every_step_error_and_abort_has_a_translation() -> None:
    """Each step, form error and abort reason the config flow can show has English text."""
    source = Path(config_flow.__file__)
    strings = json.loads((source.parent / "translations" / "en.json").read_text("utf-8"))
    steps: set[Any] = set()
    errors: set[Any] = set(_CLOUD_ERRORS_USED)
    aborts: set[Any] = set()
    modules = (source, Path(flow_discovery.__file__))
    trees = [ast.parse(module.read_text("utf-8")) for module in modules]
    for node in (node for tree in trees for node in ast.walk(tree)):
        if isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant):
            if node.arg == "step_id":
                steps.add(node.value.value)
            elif node.arg == "reason":
                aborts.add(node.value.value)
        elif (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Subscript)
            and isinstance(node.value, ast.Constant)
        ):
            errors.add(node.value.value)  # errors["base"] = "..."
        elif (
            isinstance(node, ast.Return)
            and isinstance(node.value, ast.Tuple)
            and isinstance(node.value.elts[0], ast.Constant)
        ):
            errors.add(node.value.elts[0].value)  # _async_try's ("error" or None, model)
    errors.discard(None)
    config = strings["config"]
    assert steps - {"init"} <= set(config["step"])
    assert "init" in strings["options"]["step"]
    assert {"cloud_printer", "reauth_account", "cloud_code", "cloud_tfa"} <= steps
    assert "discovery_confirm" in steps
    assert errors <= set(config["error"]), errors - set(config["error"])
    assert {"no_printers", "wrong_account", "account_missing"} <= aborts
    assert aborts <= set(config["abort"]), aborts - set(config["abort"])
    assert set(config["step"]["user"]["menu_options"]) == {"local", "cloud"}


_CLOUD_ERRORS_USED = (
    set(config_flow._CLOUD_ERRORS.values())
    | {"unknown", "tls_wrong_serial", "tls_other_printer", "tfa_blocked"}
    | {key for _kind, *keys in flow_input.CONNECT_ERRORS for key in keys}
    | {flow_input.ERROR_HOST, flow_input.ERROR_SERIAL, flow_input.ERROR_ACCESS_CODE}
    | {flow_input.ERROR_ACCOUNT}
)
