"""Controls against the simulator over real MQTT: the printer's answers and its refusals."""

import pytest
from homeassistant.components.fan import ATTR_PERCENTAGE, SERVICE_SET_PERCENTAGE
from homeassistant.components.fan import DOMAIN as FAN_DOMAIN
from homeassistant.components.number import DOMAIN as NUMBER_DOMAIN
from homeassistant.components.number.const import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer.const import DOMAIN
from custom_components.bambu_printer.services import SERVICE_SEND_GCODE
from simulator.device import SimulatedPrinter
from simulator.testing import wait_until

from .conftest import device_of


def entity_id(hass: HomeAssistant, entry: MockConfigEntry, domain: str, key: str) -> str:
    """Return the entity id of `<serial>_<key>`."""
    found = er.async_get(hass).async_get_entity_id(domain, DOMAIN, f"{entry.unique_id}_{key}")
    assert found is not None, key
    return found


def shown(hass: HomeAssistant, entity: str, attribute: str | None = None) -> object:
    """Return an entity's state, or one of its attributes."""
    state = hass.states.get(entity)
    assert state is not None
    return state.state if attribute is None else state.attributes.get(attribute)


async def test_heater_fan_and_gcode_reach_the_printer(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, printer: SimulatedPrinter
) -> None:
    """Each control is answered with success, and the printer's next report shows it."""
    bed = entity_id(hass, loaded_entry, "number", "bed_heater")
    await hass.services.async_call(
        NUMBER_DOMAIN, SERVICE_SET_VALUE, {ATTR_ENTITY_ID: bed, ATTR_VALUE: 60}, blocking=True
    )
    await wait_until(lambda: shown(hass, bed) == "60.0")

    fan = entity_id(hass, loaded_entry, "fan", "aux_fan_control")
    await hass.services.async_call(
        FAN_DOMAIN,
        SERVICE_SET_PERCENTAGE,
        {ATTR_ENTITY_ID: fan, ATTR_PERCENTAGE: 40},
        blocking=True,
    )
    await wait_until(lambda: shown(hass, fan, ATTR_PERCENTAGE) == 40)  # gear 6 of 15

    device = device_of(hass, loaded_entry.unique_id)
    assert device is not None
    nozzle = entity_id(hass, loaded_entry, "number", "nozzle_heater")
    await hass.services.async_call(
        DOMAIN, SERVICE_SEND_GCODE, {"device_id": device.id, "gcode": "M104 S180"}, blocking=True
    )
    await wait_until(lambda: shown(hass, nozzle) == "180.0")
    assert printer.engine.nozzle_target == 180


async def test_authorization_control_is_shown_and_refused(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, printer: SimulatedPrinter
) -> None:
    """Switched on at the printer, it makes every control unavailable; nothing is sent."""
    bed = entity_id(hass, loaded_entry, "number", "bed_heater")
    printer.reject_control = True
    await wait_until(lambda: shown(hass, bed) == STATE_UNAVAILABLE, 30)
    device = device_of(hass, loaded_entry.unique_id)
    assert device is not None
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            DOMAIN, SERVICE_SEND_GCODE, {"device_id": device.id, "gcode": "G28"}, blocking=True
        )
    assert raised.value.translation_key == "authorization_required"
    assert printer.engine.bed_target == 0
