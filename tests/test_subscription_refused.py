"""A broker that takes the login but refuses the report subscription: no reauth for it.

The access code was accepted, so asking the user for it again would send them on a wrong
track. Setup is retried later and a running entry keeps reconnecting. The scripted broker is
a real MQTT peer on loopback (Mosquitto cannot be made to refuse just this subscription).
"""

import asyncio

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.bambu_printer as integration
from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_CONNECTION,
    CONF_SERIAL,
    CONNECTION_LOCAL,
    DOMAIN,
)
from custom_components.bambu_printer.printer.mqtt import ConnectionSettings
from simulator.testing import wait_until

from .printer.scripted_broker import ScriptedBroker

pytestmark = pytest.mark.usefixtures("socket_enabled")


def _entry(broker: ScriptedBroker) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id="SCRIPTED",
        data={
            "host": "127.0.0.1",
            "port": broker.port,
            CONF_SERIAL: "SCRIPTED",
            CONF_ACCESS_CODE: "pw",
            CONF_CONNECTION: CONNECTION_LOCAL,
        },
    )


def _use_broker(monkeypatch: pytest.MonkeyPatch, broker: ScriptedBroker) -> None:
    async def settings(*_args: object) -> ConnectionSettings:
        return broker.settings()

    monkeypatch.setattr(integration, "async_connection_settings", settings)


def _reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> int:
    return len(list(entry.async_get_active_flows(hass, {"reauth"})))


async def test_setup_with_refused_subscription_retries_without_reauth(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Setup against a refusing broker is retried later; no reauth flow is started."""
    async with ScriptedBroker(suback=0x80) as broker:
        _use_broker(monkeypatch, broker)
        entry = _entry(broker)
        entry.add_to_hass(hass)
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert _reauth_flows(hass, entry) == 0
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_refused_subscription_on_reconnect_starts_no_reauth(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running entry whose broker starts refusing keeps retrying and asks for no code."""
    async with ScriptedBroker() as broker:
        _use_broker(monkeypatch, broker)
        entry = _entry(broker)
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        client = entry.runtime_data.coordinator.client
        subscribes_before = broker.kinds().count(8)

        broker.suback = 0x80
        broker.reset_all()
        # Two refused reconnects (after about 1 s and 2 s of backoff).
        await wait_until(lambda: broker.kinds().count(8) >= subscribes_before + 2, 10)
        await hass.async_block_till_done()
        assert _reauth_flows(hass, entry) == 0
        assert entry.state is ConfigEntryState.LOADED

        broker.suback = 0
        await wait_until(lambda: client.available, 15)
        await asyncio.sleep(0)
        assert _reauth_flows(hass, entry) == 0
        assert await hass.config_entries.async_unload(entry.entry_id)
