"""A printer added through a Bambu account, at run time: cloud broker, token expiry, account sync.

The fake cloud answers the HTTP API; a simulated printer's Mosquitto plays the cloud broker
with the cloud login (`u_<uid>` / the newest token).
"""

import json
import logging
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_CODE, CONF_EMAIL, CONF_PASSWORD, CONF_TOKEN, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_REGION,
    CONF_TOKEN_EXPIRES_AT,
    CONF_UID,
    DOMAIN,
    SECTION_ADVANCED,
)
from custom_components.bambu_printer.diagnostics import async_get_config_entry_diagnostics
from custom_components.bambu_printer.printer.cloud import BIND_PATH, mqtt_username
from simulator.cloud_server import FakeBambuCloud, LoginMode
from simulator.device import SimulatedPrinter
from simulator.engine import RUNNING
from simulator.testing import start_printer, wait_until

from .conftest import (
    CLOUD_EMAIL,
    CLOUD_PASSWORD,
    bind_printer,
    make_account_entry,
    setup_entry,
    signed_in_data,
)

pytestmark = pytest.mark.usefixtures("use_fake_cloud")


def state_of(hass: HomeAssistant, entry: MockConfigEntry, domain: str, key: str) -> str:
    """Return the shown state of `<serial>_<key>`."""
    entity = er.async_get(hass).async_get_entity_id(domain, DOMAIN, f"{entry.unique_id}_{key}")
    assert entity is not None, key
    state = hass.states.get(entity)
    assert state is not None, key
    return state.state


def reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[Any]:
    """Return the entry's reauth flows in progress."""
    return list(entry.async_get_active_flows(hass, {"reauth"}))


async def cloud_entry(
    hass: HomeAssistant, cloud: FakeBambuCloud, printer: SimulatedPrinter, **data: Any
) -> MockConfigEntry:
    """Add (not set up) an account entry for `printer`, connected through the cloud broker."""
    entry = make_account_entry(printer, {**await signed_in_data(cloud, printer), **data})
    entry.add_to_hass(hass)
    return entry


async def test_entities_update_through_the_cloud_broker(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """The entry logs in to the cloud broker as u_<uid> with the token and follows a print."""
    user = use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    entry = await cloud_entry(hass, use_fake_cloud, cloud_printer)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert state_of(hass, entry, "sensor", "print_status") == "idle"
    log = cloud_printer.broker.log_path.read_text(encoding="utf-8")
    assert f"u'{mqtt_username(user.uid)}'" in log
    assert "u'bblp'" not in log

    cloud_printer.engine.start_job(name="Cloud cube", layers=50, minutes=60)
    await wait_until(lambda: state_of(hass, entry, "sensor", "job_name") == "Cloud cube", 10)
    await wait_until(
        lambda: (
            cloud_printer.engine.gcode_state == RUNNING
            and state_of(hass, entry, "sensor", "print_status") == "running"
        ),
        30,
    )
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_token_expiry_at_run_time_starts_reauth_and_recovers(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """A token the broker stops accepting leads to reauth; after it the entry works again."""
    user = use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    entry = await cloud_entry(hass, use_fake_cloud, cloud_printer)
    await setup_entry(hass, entry)
    old_token = entry.data[CONF_TOKEN]

    # The token expires: the cloud answers 401 and the broker drops and refuses the session.
    use_fake_cloud.expire_token(old_token)
    await cloud_printer.broker.set_password(mqtt_username(user.uid), "expired")
    await wait_until(lambda: bool(reauth_flows(hass, entry)), 15)
    await hass.async_block_till_done()
    assert state_of(hass, entry, "sensor", "print_status") == STATE_UNAVAILABLE
    (flow,) = reauth_flows(hass, entry)

    user.login = LoginMode.TFA
    use_fake_cloud.tfa_csrf_check = False  # the two-factor path as it was before mid-2026
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_EMAIL: CLOUD_EMAIL, CONF_PASSWORD: CLOUD_PASSWORD}
    )
    assert result["step_id"] == "cloud_tfa"
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_CODE: user.tfa_code}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] != old_token
    assert entry.state is ConfigEntryState.LOADED
    await wait_until(lambda: state_of(hass, entry, "sensor", "print_status") == "idle", 10)
    cloud_printer.engine.start_job(name="After reauth", layers=10, minutes=10)
    await wait_until(lambda: state_of(hass, entry, "sensor", "job_name") == "After reauth", 10)
    assert reauth_flows(hass, entry) == []
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("why", ["revoked", "stored_expiry"])
async def test_setup_with_a_refused_token_asks_to_sign_in(
    hass: HomeAssistant,
    use_fake_cloud: FakeBambuCloud,
    cloud_printer: SimulatedPrinter,
    why: str,
) -> None:
    """A token the cloud refuses, or one past its stored expiry, fails setup into reauth."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    entry = await cloud_entry(hass, use_fake_cloud, cloud_printer)
    if why == "revoked":
        use_fake_cloud.revoke_all(CLOUD_EMAIL)
    else:
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_TOKEN_EXPIRES_AT: 1_000_000.0}
        )
    requests_before = len(use_fake_cloud.requests)

    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(reauth_flows(hass, entry)) == 1
    assert (len(use_fake_cloud.requests) > requests_before) == (why == "revoked")


async def test_lan_printer_keeps_working_with_a_refused_token(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """Over the LAN the printer does not need the account: it loads, and reauth is offered."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    entry = make_account_entry(
        cloud_printer,
        await signed_in_data(use_fake_cloud, cloud_printer, host=cloud_printer.host),
    )
    use_fake_cloud.revoke_all(CLOUD_EMAIL)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert state_of(hass, entry, "sensor", "print_status") == "idle"
    assert len(reauth_flows(hass, entry)) == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reload_follows_the_account(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """A reload picks up a new access code and offers printers bound since, by name."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    entry = make_account_entry(
        cloud_printer,
        await signed_in_data(use_fake_cloud, cloud_printer, host=cloud_printer.host),
    )
    await setup_entry(hass, entry)
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []

    # The printer switched LAN-only mode (new code, the account knows it), and a second
    # printer was bound to the account.
    await cloud_printer.set_access_code("87654321")
    bind_printer(use_fake_cloud, cloud_printer, dev_access_code="87654321")
    use_fake_cloud.add_printer(CLOUD_EMAIL, "01P00A000000009", "11112222", name="Garage P1S")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_ACCESS_CODE] == "87654321"
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == "integration_discovery"
    assert flow["context"]["unique_id"] == "01P00A000000009"
    assert flow["context"]["title_placeholders"] == {"name": "Garage P1S"}
    assert flow["step_id"] == "cloud_printer"
    # Another reload does not offer it twice.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_printer_removed_from_the_account_loses_its_device(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """A printer no longer bound to the account: its device goes, the entry says why."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    entry = await cloud_entry(hass, use_fake_cloud, cloud_printer)
    await setup_entry(hass, entry)
    devices = dr.async_get(hass)
    assert len(dr.async_entries_for_config_entry(devices, entry.entry_id)) == 1

    use_fake_cloud.remove_printer(CLOUD_EMAIL, cloud_printer.serial)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "no longer bound" in (entry.reason or "")
    assert dr.async_entries_for_config_entry(devices, entry.entry_id) == []
    assert er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id) == []

    bind_printer(use_fake_cloud, cloud_printer)  # bound again: everything comes back
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert len(dr.async_entries_for_config_entry(devices, entry.entry_id)) == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_cloud_trouble_at_setup_uses_the_stored_settings(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """A Cloudflare page or an outage on the printer list does not keep the printer away."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    bind_printer(use_fake_cloud, cloud_printer)
    entry = await cloud_entry(hass, use_fake_cloud, cloud_printer)
    use_fake_cloud.inject_html(path=BIND_PATH)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert reauth_flows(hass, entry) == []
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_password_is_never_stored_logged_or_diagnosed(
    hass: HomeAssistant,
    use_fake_cloud: FakeBambuCloud,
    cloud_printer: SimulatedPrinter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After a whole sign-in (with an email code) the password is nowhere; secrets redacted."""
    caplog.set_level(logging.DEBUG)
    user = use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD, login=LoginMode.CODE)
    bind_printer(use_fake_cloud, cloud_printer)

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    flow_id = result["flow_id"]
    await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "cloud"})
    await hass.config_entries.flow.async_configure(
        flow_id, {CONF_EMAIL: CLOUD_EMAIL, CONF_PASSWORD: CLOUD_PASSWORD, CONF_REGION: "global"}
    )
    code = user.email_code
    assert code is not None
    await hass.config_entries.flow.async_configure(flow_id, {CONF_CODE: code})
    await hass.config_entries.flow.async_configure(flow_id, {"printers": [cloud_printer.serial]})
    result = await hass.config_entries.flow.async_configure(
        flow_id, {SECTION_ADVANCED: {"port": 8883}}
    )
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED

    stored = json.dumps(entry.as_dict(), default=str)
    assert CLOUD_PASSWORD not in stored
    assert CLOUD_PASSWORD not in caplog.text
    token = entry.data[CONF_TOKEN]
    for secret in (token, cloud_printer.access_code, code):
        assert secret not in caplog.text

    diagnostics = json.dumps(await async_get_config_entry_diagnostics(hass, entry), default=str)
    for secret in (CLOUD_PASSWORD, token, cloud_printer.access_code, CLOUD_EMAIL, str(user.uid)):
        assert secret not in diagnostics
    data = json.loads(diagnostics)["entry"]["data"]
    for key in (CONF_TOKEN, CONF_UID, CONF_EMAIL, CONF_ACCESS_CODE):
        assert data[key] == "**REDACTED**"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_second_printer_on_the_lan_with_the_account_code(
    hass: HomeAssistant, use_fake_cloud: FakeBambuCloud, cloud_printer: SimulatedPrinter
) -> None:
    """A LAN account printer uses the access code the account holds, never a typed one."""
    use_fake_cloud.add_user(CLOUD_EMAIL, CLOUD_PASSWORD)
    async with start_printer("A1", ca=cloud_printer.ca) as lan_printer:
        bind_printer(use_fake_cloud, lan_printer)
        entry = make_account_entry(
            lan_printer,
            {
                **await signed_in_data(use_fake_cloud, lan_printer, host=lan_printer.host),
                CONF_ACCESS_CODE: "stale000",  # the account's code replaces it
            },
        )
        await setup_entry(hass, entry)
        assert entry.state is ConfigEntryState.LOADED
        assert entry.data[CONF_ACCESS_CODE] == lan_printer.access_code
        assert await hass.config_entries.async_unload(entry.entry_id)
