"""Every platform's entities per real capture, with a mocked client: what exists, what it shows.

Platform behaviour (commands, updates, errors) is tested in the platform's own test module.
"""

from collections.abc import Iterator
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.bambu_printer.const import PLATFORMS

from .captures import CAPTURE_NAMES
from .mock_client import SERIAL


@pytest.fixture
def fixed_access_token() -> Iterator[None]:
    """Give cameras the same access token on every run (it is in their state attributes)."""
    with patch("random.SystemRandom.getrandbits", return_value=123123123123):
        yield


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
@pytest.mark.parametrize("init_integration", PLATFORMS, indirect=True)
@pytest.mark.usefixtures(
    "entity_registry_enabled_by_default", "fixed_access_token", "init_integration"
)
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Each real capture gives exactly these entities of the platform, with these states.

    P1 and A1 printers get a JPEG camera, X1 and H2 an RTSPS one; entities that start
    disabled are enabled here (which ones they are: the test below).
    """
    await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
@pytest.mark.usefixtures("init_integration")
async def test_only_two_diagnostic_sensors_start_disabled(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_config_entry: MockConfigEntry
) -> None:
    """Of all entities, only the Wi-Fi signal and the heatbreak fan start disabled (no state)."""
    disabled = {
        entity.unique_id.removeprefix(f"{SERIAL}_"): entity
        for entity in er.async_entries_for_config_entry(entity_registry, mock_config_entry.entry_id)
        if entity.disabled_by is not None
    }
    assert set(disabled) == {"heatbreak_fan", "wifi_signal"}
    for entity in disabled.values():
        assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert hass.states.get(entity.entity_id) is None
