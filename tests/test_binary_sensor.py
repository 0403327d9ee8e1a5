"""Binary sensor platform with a mocked client: connection, HMS, SD card, firmware per capture."""

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from .captures import CAPTURE_NAMES


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
@pytest.mark.parametrize("init_integration", [Platform.BINARY_SENSOR], indirect=True)
@pytest.mark.usefixtures("init_integration")
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Each real capture gives exactly these binary sensors, with these states."""
    await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)
