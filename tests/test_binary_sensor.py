"""Binary sensors with a mocked client: firmware offers and authorization control."""

from unittest.mock import MagicMock

import pytest
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.bambu_printer.const import DOMAIN

from .mock_client import SERIAL, clear_authorization_control, push_report

pytestmark = pytest.mark.parametrize("init_integration", [Platform.BINARY_SENSOR], indirect=True)


def binary_sensor(entity_registry: er.EntityRegistry, key: str) -> str:
    """Return the entity id of the binary sensor `<serial>_<key>`."""
    entity_id = entity_registry.async_get_entity_id("binary_sensor", DOMAIN, f"{SERIAL}_{key}")
    assert entity_id is not None, key
    return entity_id


@pytest.mark.usefixtures("init_integration")
async def test_ams_only_offer_is_no_printer_update(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """An AMS firmware offer shows as such, not as a printer firmware update."""
    sensor = binary_sensor(entity_registry, "firmware_update")
    offer = [{"name": "ams/0", "cur_ver": "00.00.06.44", "new_ver": "00.00.06.49"}]
    upgrade = {"new_version_state": 1, "new_ver_list": offer}
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "upgrade_state": upgrade}}
    )
    state = hass.states.get(sensor)
    assert state is not None
    assert state.state == STATE_OFF
    assert state.attributes["ams_update_available"] is True
    assert state.attributes["new_version"] is None

    both = [*offer, {"name": "ota", "cur_ver": "01.07.00.00", "new_ver": "01.08.00.00"}]
    upgrade = {"new_version_state": 1, "new_ver_list": both}  # reports are kept, not copied
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "upgrade_state": upgrade}}
    )
    state = hass.states.get(sensor)
    assert state is not None
    assert (state.state, state.attributes["new_version"]) == (STATE_ON, "01.08.00.00")


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_authorization_control_sensor(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """The diagnostic sensor shows the `fun` bit: on in the H2D capture, off in Developer mode."""
    sensor = binary_sensor(entity_registry, "authorization_control")
    assert hass.states.get(sensor).state == STATE_ON  # type: ignore[union-attr]
    await clear_authorization_control(hass, mock_printer_client)
    assert hass.states.get(sensor).state == STATE_OFF  # type: ignore[union-attr]


@pytest.mark.usefixtures("init_integration")
async def test_no_authorization_sensor_without_fun(entity_registry: er.EntityRegistry) -> None:
    """Firmware that does not report `fun` (the P1P capture) gets no such sensor."""
    key = f"{SERIAL}_authorization_control"
    assert entity_registry.async_get_entity_id("binary_sensor", DOMAIN, key) is None
