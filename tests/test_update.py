"""The firmware entity with a mocked client: versions, offers and progress from the reports."""

from unittest.mock import MagicMock

import pytest
from homeassistant.components.update import ATTR_IN_PROGRESS, ATTR_UPDATE_PERCENTAGE
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er

from custom_components.bambu_printer.const import DOMAIN

from .mock_client import SERIAL, push_report

pytestmark = pytest.mark.parametrize("init_integration", [Platform.UPDATE], indirect=True)


def firmware(hass: HomeAssistant, entity_registry: er.EntityRegistry) -> State:
    """Return the firmware entity's state."""
    entity_id = entity_registry.async_get_entity_id("update", DOMAIN, f"{SERIAL}_firmware")
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    return state


async def upgrade_state(hass: HomeAssistant, client: MagicMock, **fields: object) -> None:
    """Let the mocked printer report its `upgrade_state`."""
    await push_report(hass, client, {"print": {"command": "push_status", "upgrade_state": fields}})


@pytest.mark.usefixtures("init_integration")
async def test_offer_and_progress(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """Nothing offered, then an offer naming its version, then the update running."""
    state = firmware(hass, entity_registry)
    assert state.state == STATE_OFF
    assert state.attributes["installed_version"] == "01.07.00.00"
    assert state.attributes["release_url"] == "https://bambulab.com/en/support/firmware-download/p1"
    assert state.attributes["supported_features"] == 4  # progress only: nothing is installed

    offer = [{"name": "ota", "cur_ver": "01.07.00.00", "new_ver": "01.08.00.00"}]
    await upgrade_state(hass, mock_printer_client, new_version_state=1, new_ver_list=offer)
    state = firmware(hass, entity_registry)
    assert state.state == STATE_ON
    assert state.attributes["latest_version"] == "01.08.00.00"
    assert state.attributes[ATTR_IN_PROGRESS] is False

    await upgrade_state(
        hass,
        mock_printer_client,
        new_version_state=1,
        new_ver_list=offer,
        status="DOWNLOADING",
        progress="42",
    )
    state = firmware(hass, entity_registry)
    assert state.attributes[ATTR_IN_PROGRESS] is True
    assert state.attributes[ATTR_UPDATE_PERCENTAGE] == 42


@pytest.mark.usefixtures("init_integration")
async def test_ams_only_offer_is_not_a_printer_update(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """An offer for the AMS alone leaves the printer's firmware current."""
    offer = [{"name": "ams/0", "cur_ver": "00.00.06.44", "new_ver": "00.00.06.49"}]
    await upgrade_state(hass, mock_printer_client, new_version_state=1, new_ver_list=offer)
    state = firmware(hass, entity_registry)
    assert state.state == STATE_OFF
    assert state.attributes["latest_version"] == "01.07.00.00"


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_no_release_page_known(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """Models without a known firmware page get no release link."""
    assert firmware(hass, entity_registry).attributes["release_url"] is None


@pytest.mark.usefixtures("init_integration")
async def test_offer_without_a_version(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """An offer naming no version shows the latest as unknown, still an update."""
    await upgrade_state(hass, mock_printer_client, new_version_state=1)
    state = firmware(hass, entity_registry)
    assert state.attributes["latest_version"] is None
