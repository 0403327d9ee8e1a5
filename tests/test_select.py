"""The speed profile with a mocked client: print_speed levels, only while printing."""

from unittest.mock import MagicMock

import pytest
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.components.select import DOMAIN as SELECT_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er

from custom_components.bambu_printer.const import DOMAIN
from custom_components.bambu_printer.printer.errors import NotConnected

from .conftest import state_of
from .mock_client import SERIAL, clear_authorization_control, push_report

pytestmark = pytest.mark.parametrize("init_integration", [Platform.SELECT], indirect=True)


def select_id(entity_registry: er.EntityRegistry) -> str:
    """Return the speed profile's entity id."""
    key = f"{SERIAL}_speed_profile_control"
    entity_id = entity_registry.async_get_entity_id("select", DOMAIN, key)
    assert entity_id is not None
    return entity_id


async def report(hass: HomeAssistant, client: MagicMock, **fields: object) -> None:
    """Let the mocked printer report some fields."""
    await push_report(hass, client, {"print": {"command": "push_status", **fields}})


@pytest.mark.parametrize(("option", "level"), [("silent", "1"), ("sport", "3"), ("ludicrous", "4")])
@pytest.mark.usefixtures("init_integration")
async def test_choosing_a_profile_sends_its_level(
    hass: HomeAssistant,
    *,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    option: str,
    level: str,
) -> None:
    """While printing, a choice sends print_speed; the state follows the report."""
    entity_id = select_id(entity_registry)
    assert state_of(hass, entity_id).state == STATE_UNAVAILABLE  # the P1P capture is not printing
    await report(hass, mock_printer_client, gcode_state="RUNNING")
    assert state_of(hass, entity_id).state == "standard"
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: entity_id, ATTR_OPTION: option},
        blocking=True,
    )
    command = mock_printer_client.async_request.await_args.args[0]
    assert (command.command, command.payload["print"]["param"]) == ("print_speed", level)
    assert state_of(hass, entity_id).state == "standard"
    await report(hass, mock_printer_client, spd_lvl=int(level))
    assert state_of(hass, entity_id).state == option


@pytest.mark.usefixtures("init_integration")
async def test_not_printing_is_refused_plainly(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """A choice that raced the job's end is refused unsent."""
    entity = hass.data[SELECT_DOMAIN].get_entity(select_id(entity_registry))
    with pytest.raises(ServiceValidationError) as raised:
        await entity.async_select_option("sport")
    assert raised.value.translation_key == "not_printing_speed"
    mock_printer_client.async_request.assert_not_called()


@pytest.mark.usefixtures("init_integration")
async def test_offline_is_explained(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """A link that dropped makes the choice fail with "not connected"."""
    await report(hass, mock_printer_client, gcode_state="RUNNING")
    mock_printer_client.async_request.side_effect = NotConnected("gone")
    entity = hass.data[SELECT_DOMAIN].get_entity(select_id(entity_registry))
    with pytest.raises(HomeAssistantError) as raised:
        await entity.async_select_option("sport")
    assert raised.value.translation_key == "not_connected"


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_unavailable_under_authorization_control(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """The H2D capture prints, but under authorization control: the choice is unavailable."""
    entity_id = select_id(entity_registry)
    assert state_of(hass, entity_id).state == STATE_UNAVAILABLE
    await clear_authorization_control(hass, mock_printer_client)
    assert state_of(hass, entity_id).state == "standard"


def airduct_id(entity_registry: er.EntityRegistry) -> str:
    """Return the air duct mode's entity id."""
    entity_id = entity_registry.async_get_entity_id("select", DOMAIN, f"{SERIAL}_airduct_mode")
    assert entity_id is not None
    return entity_id


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_airduct_mode(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """The H2D lists cooling, heating and laser; a choice sends set_airduct with its id."""
    entity_id = airduct_id(entity_registry)
    await clear_authorization_control(hass, mock_printer_client)
    state = state_of(hass, entity_id)
    assert state.state == "cooling"
    assert state.attributes["options"] == ["cooling", "heating", "laser"]
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: entity_id, ATTR_OPTION: "heating"},
        blocking=True,
    )
    command = mock_printer_client.async_request.await_args.args[0]
    assert (command.command, command.payload["print"]["modeId"]) == ("set_airduct", 1)
    airduct = {"modeCur": 1, "modeList": [{"modeId": 0}, {"modeId": 1}, {"modeId": 2}]}
    await report(hass, mock_printer_client, device={"airduct": airduct})
    assert state_of(hass, entity_id).state == "heating"


@pytest.mark.usefixtures("init_integration")
async def test_no_airduct_on_a_p1p(hass: HomeAssistant, entity_registry: er.EntityRegistry) -> None:
    """Printers that report no air duct get no choice for it."""
    assert entity_registry.async_get_entity_id("select", DOMAIN, f"{SERIAL}_airduct_mode") is None
