"""A running printer entry: a whole print, controls, outages, reauth, secrets, diagnostics."""

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.components.homeassistant import DOMAIN as HA_DOMAIN
from homeassistant.components.homeassistant import SERVICE_UPDATE_ENTITY
from homeassistant.components.light import DOMAIN as LIGHT_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer import connection
from custom_components.bambu_printer.const import DOMAIN, OPTION_READ_ONLY
from custom_components.bambu_printer.diagnostics import async_get_config_entry_diagnostics
from simulator.device import SimulatedPrinter
from simulator.engine import PAUSE, RUNNING
from simulator.testing import start_printer, trusting_ca, wait_until

from .conftest import make_entry, setup_entry


def entity_id(hass: HomeAssistant, entry: MockConfigEntry, domain: str, key: str) -> str:
    """Return the entity id of `<serial>_<key>`."""
    found = er.async_get(hass).async_get_entity_id(domain, DOMAIN, f"{entry.unique_id}_{key}")
    assert found is not None, key
    return found


def refused_logins(printer: SimulatedPrinter) -> int:
    """Count the logins the printer's broker refused (it logs each one)."""
    return printer.broker.log_path.read_text(encoding="utf-8").count("not authorised")


def state_of(hass: HomeAssistant, entry: MockConfigEntry, domain: str, key: str) -> str:
    """Return the shown state of `<serial>_<key>`."""
    state = hass.states.get(entity_id(hass, entry, domain, key))
    assert state is not None, key
    return state.state


@pytest.fixture
async def fast_printer(socket_enabled: None) -> AsyncIterator[SimulatedPrinter]:
    """A simulated P1S reporting every 0.1 s at 60x speed (a 2-minute job takes seconds)."""
    async with start_printer("P1S", speedup=60.0, report_interval=0.1) as simulated:
        yield simulated


@pytest.fixture
def trust_fast_printer(fast_printer: SimulatedPrinter) -> Iterator[None]:
    """Trust the fast printer's test CA."""
    with trusting_ca(fast_printer.ca_path):
        yield


@pytest.mark.usefixtures("trust_fast_printer")
async def test_print_from_start_to_finish(
    hass: HomeAssistant, fast_printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    """Status, stage, progress and layers follow a whole print; the code never reaches logs."""
    caplog.set_level(logging.DEBUG)
    entry = await setup_entry(hass, make_entry(fast_printer))
    assert state_of(hass, entry, "sensor", "print_status") == "idle"

    progress: list[int] = []
    layers: list[int] = []
    stages: set[str] = set()
    statuses: set[str] = set()

    def record(event: object) -> None:
        progress.append(int(float(state_of(hass, entry, "sensor", "progress"))))
        layers.append(int(float(state_of(hass, entry, "sensor", "current_layer"))))
        stages.add(state_of(hass, entry, "sensor", "current_stage"))
        statuses.add(state_of(hass, entry, "sensor", "print_status"))

    unsubscribe = hass.bus.async_listen("state_changed", record)
    fast_printer.engine.start_job(name="Calibration cube", layers=20, minutes=2)
    await wait_until(lambda: state_of(hass, entry, "sensor", "print_status") == "finish", 60)
    await hass.async_block_till_done()
    unsubscribe()

    assert {"prepare", "running", "finish"} <= statuses
    assert {"heatbed_preheating", "printing"} <= stages
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert layers == sorted(layers)
    assert state_of(hass, entry, "sensor", "current_layer") == "20"
    assert state_of(hass, entry, "sensor", "total_layers") == "20"
    assert state_of(hass, entry, "sensor", "job_name") == "Calibration cube"
    assert state_of(hass, entry, "sensor", "remaining_time") == "0"

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert fast_printer.access_code not in caplog.text


@pytest.mark.usefixtures("trust_fast_printer")
async def test_pause_resume_stop_buttons(
    hass: HomeAssistant, fast_printer: SimulatedPrinter
) -> None:
    """The buttons act on the printer and the status entity shows the result."""
    entry = await setup_entry(hass, make_entry(fast_printer))
    fast_printer.engine.start_job(name="Long print", layers=200, minutes=600)
    await wait_until(lambda: state_of(hass, entry, "sensor", "print_status") == "running", 30)

    for key, engine_state, shown in (
        ("pause", PAUSE, "pause"),
        ("resume", RUNNING, "running"),
        ("stop", "FAILED", "failed"),
    ):
        await hass.services.async_call(
            BUTTON_DOMAIN,
            SERVICE_PRESS,
            {ATTR_ENTITY_ID: entity_id(hass, entry, "button", key)},
            blocking=True,
        )
        assert fast_printer.engine.gcode_state == engine_state
        await wait_until(lambda s=shown: state_of(hass, entry, "sensor", "print_status") == s)

    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_rejected_command_explains_why(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """Firmware that refuses third-party control gives the user a reason and a way out."""
    entry = await setup_entry(hass, make_entry(printer))
    printer.reject_control = True
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            LIGHT_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: entity_id(hass, entry, "light", "chamber_light")},
            blocking=True,
        )
    assert raised.value.translation_key == "command_rejected"
    assert "mqtt message verify failed" in str(raised.value)
    assert "Developer mode" in str(raised.value)
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_command_times_out(
    hass: HomeAssistant, printer: SimulatedPrinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A printer that stops answering makes the button fail with a timeout message."""
    from custom_components.bambu_printer import coordinator  # noqa: PLC0415

    monkeypatch.setattr(coordinator, "COMMAND_TIMEOUT", 0.3)
    entry = await setup_entry(hass, make_entry(printer))
    printer.silent = True
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            BUTTON_DOMAIN,
            SERVICE_PRESS,
            {ATTR_ENTITY_ID: entity_id(hass, entry, "button", "pause")},
            blocking=True,
        )
    assert raised.value.translation_key == "command_timeout"
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_chamber_light_and_refresh(hass: HomeAssistant, printer: SimulatedPrinter) -> None:
    """The light follows the printer; refresh asks for the full state."""
    entry = await setup_entry(hass, make_entry(printer))
    light = entity_id(hass, entry, "light", "chamber_light")
    for service, shown in ((SERVICE_TURN_ON, STATE_ON), (SERVICE_TURN_OFF, STATE_OFF)):
        await hass.services.async_call(
            LIGHT_DOMAIN, service, {ATTR_ENTITY_ID: light}, blocking=True
        )
        await wait_until(lambda s=shown: hass.states.get(light).state == s)  # type: ignore[union-attr]
        assert printer.engine.light_mode() == shown

    before = printer.requests_received
    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: entity_id(hass, entry, "button", "refresh")},
        blocking=True,
    )
    await wait_until(lambda: printer.requests_received > before)
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_read_only_mode(hass: HomeAssistant, printer: SimulatedPrinter) -> None:
    """Read-only mode creates no control entity and refuses commands with a clear error."""
    entry = await setup_entry(hass, make_entry(printer, **{OPTION_READ_ONLY: True}))
    domains = {
        e.unique_id.removeprefix(f"{printer.serial}_"): e.domain
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    assert "light" not in domains.values()
    assert [key for key, domain in domains.items() if domain == "button"] == ["refresh"]

    coordinator = entry.runtime_data.coordinator
    with pytest.raises(HomeAssistantError) as raised:
        await coordinator.async_send(coordinator.commands.pause())
    assert raised.value.translation_key == "read_only_mode"
    assert printer.engine.gcode_state != PAUSE
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_broker_restart_unavailable_then_back(
    hass: HomeAssistant, printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    """While the printer is off, entities are unavailable; they come back on their own."""
    entry = await setup_entry(hass, make_entry(printer))
    nozzle = entity_id(hass, entry, "sensor", "nozzle_temperature")
    online = entity_id(hass, entry, "binary_sensor", "online")

    await printer.stop_broker()
    await wait_until(lambda: hass.states.get(nozzle).state == STATE_UNAVAILABLE)  # type: ignore[union-attr]
    assert hass.states.get(online).state == STATE_OFF  # type: ignore[union-attr]
    await printer.start_broker()
    await wait_until(lambda: hass.states.get(nozzle).state != STATE_UNAVAILABLE, 10)  # type: ignore[union-attr]
    assert hass.states.get(online).state == STATE_ON  # type: ignore[union-attr]

    assert caplog.text.count("is unavailable") == 1
    assert caplog.text.count("is back online") == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_silent_printer_goes_unavailable(
    hass: HomeAssistant, printer: SimulatedPrinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A printer that stops reporting (but keeps the socket) is detected and recovered."""
    monkeypatch.setattr(connection, "KEEPALIVE", 1)
    entry = await setup_entry(hass, make_entry(printer))
    nozzle = entity_id(hass, entry, "sensor", "nozzle_temperature")

    printer.silent = True
    await wait_until(lambda: hass.states.get(nozzle).state == STATE_UNAVAILABLE, 15)  # type: ignore[union-attr]
    printer.silent = False
    await wait_until(lambda: hass.states.get(nozzle).state != STATE_UNAVAILABLE, 15)  # type: ignore[union-attr]
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_access_code_change_starts_reauth(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A printer that refuses the stored code leads to one reauth flow, not a crash loop."""
    entry = await setup_entry(hass, make_entry(printer))
    await printer.set_access_code("changed1")
    await printer.restart_broker()  # the printer drops clients; the old code is refused

    await wait_until(lambda: bool(entry.async_get_active_flows(hass, {"reauth"})), 15)
    await wait_until(lambda: refused_logins(printer) >= 1)  # mosquitto's log trails a little
    refused_before = refused_logins(printer)
    # Longer than the first two reconnect delays (1 s, 2 s): the client must not retry
    # with a code the printer refused.
    await asyncio.sleep(3.5)
    await hass.async_block_till_done()
    assert refused_logins(printer) == refused_before
    assert len(list(entry.async_get_active_flows(hass, {"reauth"}))) == 1
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_setup_retries_when_unreachable(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A printer that is off when Home Assistant starts is retried later, not failed."""
    await printer.stop_broker()
    entry = make_entry(printer)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_setup_with_refused_code_asks_for_reauth(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A code the printer refuses at start-up leads to a reauth flow, not endless retries."""
    entry = make_entry(printer)
    await printer.set_access_code("changed2")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    await hass.async_block_till_done()
    assert len(list(entry.async_get_active_flows(hass, {"reauth"}))) == 1


@pytest.mark.usefixtures("trust_simulator")
async def test_diagnostics_redact_secrets(hass: HomeAssistant, printer: SimulatedPrinter) -> None:
    """Diagnostics show the printer's state but no access code, address or module serial."""
    entry = await setup_entry(hass, make_entry(printer))
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = str(diagnostics)
    assert printer.access_code not in text
    assert "127.0.0.1" not in text
    assert diagnostics["entry"]["data"]["access_code"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["host"] == "**REDACTED**"
    assert diagnostics["state"]["print"]["nozzle_temper"] is not None
    assert diagnostics["connection"]["model"] == "P1S"
    for module in diagnostics["state"]["versions"].values():
        assert module.get("sn", "**REDACTED**") == "**REDACTED**"
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_command_while_offline_says_not_connected(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A command while the printer is off says it is not connected."""
    entry = await setup_entry(hass, make_entry(printer))
    nozzle = entity_id(hass, entry, "sensor", "nozzle_temperature")
    await printer.stop_broker()
    await wait_until(lambda: hass.states.get(nozzle).state == STATE_UNAVAILABLE)  # type: ignore[union-attr]
    # Home Assistant does not press unavailable buttons; a press racing the disconnect
    # reaches the coordinator, which must explain instead of failing obscurely.
    coordinator = entry.runtime_data.coordinator
    with pytest.raises(HomeAssistantError) as raised:
        await coordinator.async_send(coordinator.commands.pause())
    assert raised.value.translation_key == "not_connected"
    with pytest.raises(HomeAssistantError) as raised:
        await coordinator.async_request_full_state()
    assert raised.value.translation_key == "not_connected"
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_update_entity_asks_for_the_full_state(
    hass: HomeAssistant, printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    """homeassistant.update_entity sends a pushall; offline it fails without an error log."""
    await async_setup_component(hass, HA_DOMAIN, {})
    entry = await setup_entry(hass, make_entry(printer))
    nozzle = entity_id(hass, entry, "sensor", "nozzle_temperature")
    coordinator = entry.runtime_data.coordinator
    before = printer.requests_received
    await hass.services.async_call(
        HA_DOMAIN, SERVICE_UPDATE_ENTITY, {ATTR_ENTITY_ID: nozzle}, blocking=True
    )
    await wait_until(lambda: printer.requests_received > before)
    assert coordinator.last_update_success
    assert hass.states.get(nozzle).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert "ERROR" not in {record.levelname for record in caplog.records}

    await printer.stop_broker()
    await wait_until(lambda: hass.states.get(nozzle).state == STATE_UNAVAILABLE)  # type: ignore[union-attr]
    await hass.services.async_call(
        HA_DOMAIN, SERVICE_UPDATE_ENTITY, {ATTR_ENTITY_ID: nozzle}, blocking=True
    )
    assert not coordinator.last_update_success
    assert "not connected" in caplog.text
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_setup_retries_on_certificate_mismatch(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A printer whose certificate is not for the configured serial is not trusted."""
    entry = make_entry(printer)
    data = {**entry.data, "serial": "01P00A999999999"}
    entry = MockConfigEntry(domain=DOMAIN, unique_id="01P00A999999999", data=data)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert "01P00A999999999" in entry.reason
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("trust_simulator")
async def test_home_assistant_stop_closes_the_connection(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """Stopping Home Assistant closes the printer connection without unloading the entry."""
    entry = await setup_entry(hass, make_entry(printer))
    client = entry.runtime_data.coordinator.client
    assert client.available
    await hass.async_stop()
    assert not client.available


@pytest.mark.usefixtures("trust_simulator")
async def test_firmware_update_shows_on_device(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """After the printer installs new firmware, the device page shows the new version."""
    entry = await setup_entry(hass, make_entry(printer))
    registry = dr.async_get(hass)
    # One device per entry; the lookup by identifier is deprecated from 2026.8 (removed 2027.8).
    (device,) = dr.async_entries_for_config_entry(registry, entry.entry_id)
    assert device.identifiers == {(DOMAIN, printer.serial)}
    assert device.model == "P1S"
    assert device.sw_version == printer.engine.version_report()["info"]["module"][0]["sw_ver"]

    report = printer.engine.version_report()
    report["info"]["module"][0]["sw_ver"] = "01.09.00.00"
    printer.publish_report(report)
    # Any status report carries the change to the coordinator.
    await wait_until(lambda: registry.async_get(device.id).sw_version == "01.09.00.00")  # type: ignore[union-attr]
    assert await hass.config_entries.async_unload(entry.entry_id)
