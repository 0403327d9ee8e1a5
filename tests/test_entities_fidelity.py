"""Issue 13 in Home Assistant: door, drying, nozzle, humidity scale, spools and AMS names.

A mocked client fed from real captures; docs/protocol.md gives the source of each fact.
"""

import copy
from typing import Any
from unittest.mock import MagicMock

import pytest
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er

from custom_components.bambu_printer.const import DOMAIN

from .captures import pushall_report
from .mock_client import SERIAL, push_report

DOOR_BIT = 0x00800000


def shown(hass: HomeAssistant, entity_registry: er.EntityRegistry, domain: str, key: str) -> State:
    """Return the state of the entity `<serial>_<key>` of `domain`."""
    entity_id = entity_registry.async_get_entity_id(domain, DOMAIN, f"{SERIAL}_{key}")
    assert entity_id is not None, key
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


def exists(entity_registry: er.EntityRegistry, domain: str, key: str) -> bool:
    """Whether the entity `<serial>_<key>` of `domain` was created."""
    return entity_registry.async_get_entity_id(domain, DOMAIN, f"{SERIAL}_{key}") is not None


def status(**fields: Any) -> dict[str, Any]:
    """A status report carrying `fields`."""
    return {"print": {"command": "push_status", **fields}}


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_door_follows_the_stat_bit(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    door = shown(hass, entity_registry, "binary_sensor", "door")
    assert (door.state, door.attributes["device_class"]) == ("off", "door")
    await push_report(hass, mock_printer_client, status(stat=f"{0x16382181F0 | DOOR_BIT:X}"))
    assert shown(hass, entity_registry, "binary_sensor", "door").state == "on"


@pytest.mark.parametrize(("capture", "has_door"), [("MOCK-X1CMULTIAMS", True), ("P1P", False)])
@pytest.mark.usefixtures("init_integration")
async def test_door_only_where_the_model_has_one(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, has_door: bool
) -> None:
    assert exists(entity_registry, "binary_sensor", "door") is has_door
    if has_door:  # the X1's door is in home_flag, closed in the capture
        assert shown(hass, entity_registry, "binary_sensor", "door").state == "off"


@pytest.mark.parametrize("capture", ["MOCK-X1CMULTIAMS"])
@pytest.mark.usefixtures("init_integration")
async def test_drying_ams_and_humidity_scale(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """Unit 2 (AMS 2 Pro) dries with 583 minutes left; unit 128 (AMS HT) does not."""
    assert shown(hass, entity_registry, "sensor", "ams_2_remaining_drying_time").state == "583"
    assert shown(hass, entity_registry, "binary_sensor", "ams_2_drying").state == "on"
    assert shown(hass, entity_registry, "binary_sensor", "ams_128_drying").state == "off"
    assert not exists(entity_registry, "binary_sensor", "ams_0_drying")  # classic AMS
    assert not exists(entity_registry, "sensor", "ams_0_remaining_drying_time")
    # The printer's "5" (dry) is the app's 1; unit 2 reports "4".
    assert shown(hass, entity_registry, "sensor", "ams_0_humidity_level").state == "1"
    assert shown(hass, entity_registry, "sensor", "ams_2_humidity_level").state == "2"


@pytest.mark.parametrize(
    ("capture", "nozzle_type"),
    [("MOCK-H2D", "hardened_steel"), ("MOCK-P1PNOAMS", "stainless_steel")],
)
@pytest.mark.usefixtures("init_integration")
async def test_nozzle_type_and_diameter(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, nozzle_type: str
) -> None:
    """The H2D names its nozzles "HS01" in device.nozzle (hardened steel, standard flow)."""
    assert shown(hass, entity_registry, "sensor", "nozzle_type").state == nozzle_type
    assert shown(hass, entity_registry, "sensor", "nozzle_diameter").state == "0.4"
    entry = entity_registry.async_get(
        shown(hass, entity_registry, "sensor", "nozzle_type").entity_id
    )
    assert entry is not None
    assert entry.entity_category == "diagnostic"


@pytest.mark.parametrize("capture", ["MOCK-X1CMULTIAMS"])
@pytest.mark.usefixtures("init_integration")
async def test_transparent_filament_is_not_black(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    ams = copy.deepcopy(pushall_report("MOCK-X1CMULTIAMS")["print"]["ams"])
    ams["ams"][0]["tray"][0].update(tray_color="00000000", cols=["00000000"])
    await push_report(hass, mock_printer_client, status(ams=ams))
    color = shown(hass, entity_registry, "sensor", "ams_0_tray_0_color")
    assert (color.state, color.attributes["alpha"]) == ("transparent", 0)
    filament = shown(hass, entity_registry, "sensor", "ams_0_tray_0_filament")
    assert (filament.state, filament.attributes["alpha"]) == ("PLA", 0)
    assert filament.attributes["color"] is None
    black = shown(hass, entity_registry, "sensor", "ams_0_tray_1_color")
    assert (black.state, black.attributes["alpha"]) == ("#7D6556", 255)


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
@pytest.mark.usefixtures("init_integration")
async def test_external_spools_are_named_by_their_nozzle(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """Spool 254 feeds the left nozzle, 255 the right; no spool has a known amount."""
    left = shown(hass, entity_registry, "sensor", "external_254_filament")
    right = shown(hass, entity_registry, "sensor", "external_255_filament")
    assert left.attributes["friendly_name"].endswith("Left external spool filament")
    assert right.attributes["friendly_name"].endswith("Right external spool filament")
    vir_slot = copy.deepcopy(pushall_report("MOCK-H2D")["print"]["vir_slot"])
    vir_slot[1].update(tray_type="TPU", tray_color="9B9EA0FF", remain=0)
    await push_report(hass, mock_printer_client, status(vir_slot=vir_slot))
    assert shown(hass, entity_registry, "sensor", "external_255_filament").state == "TPU"
    assert not exists(entity_registry, "sensor", "external_255_remaining")


@pytest.mark.parametrize("capture", ["MOCK-A1"])
@pytest.mark.usefixtures("init_integration")
async def test_ams_lite_numbered_16(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_printer_client: MagicMock
) -> None:
    """The A2L's AMS lite is unit 16: it is AMS A, and has no humidity sensor."""
    ams = copy.deepcopy(pushall_report("MOCK-A1")["print"]["ams"])
    ams["ams"][0].update(id="16", humidity_raw="0")
    await push_report(hass, mock_printer_client, {"print": {**status(ams=ams)["print"], "msg": 0}})
    tray = shown(hass, entity_registry, "sensor", "ams_16_tray_0_filament")
    assert tray.attributes["friendly_name"].endswith("AMS A tray 1 filament")
    assert not exists(entity_registry, "sensor", "ams_16_humidity")
    assert not exists(entity_registry, "sensor", "ams_16_humidity_level")
