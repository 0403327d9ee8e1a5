"""Camera entities with a mocked client: ports, the RTSPS address, liveview repairs, the option.

Which camera each model gets is in the entity snapshots (`tests/test_entities.py`); the JPEG
stream itself (stills, MJPEG, idle stop, refusals) is tested against simulated printers in
`tests/test_camera.py`.
"""

from unittest.mock import MagicMock, patch

import pytest
from homeassistant.components.camera import CameraEntityFeature, async_get_stream_source
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer import camera as camera_platform
from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_CAMERA_PORT,
    CONF_MODEL,
    DOMAIN,
    OPTION_CAMERA,
    OPTION_READ_ONLY,
)
from custom_components.bambu_printer.printer.camera import CameraStream, JpegCameraClient
from custom_components.bambu_printer.printer.state import PrinterState
from simulator import issued

from .captures import pushall_report
from .conftest import setup_entry
from .mock_client import ACCESS_CODE, HOST, SERIAL, capture_entry, push_report, set_available
from .test_camera import state_of, unload

QUOTED_CODE = "a@b:/%1Z"
LIVEVIEW_ISSUE = camera_platform.liveview_issue_id(SERIAL)


def camera_entity_id(hass: HomeAssistant) -> str:
    """Return the entity id of the printer's camera (it must exist)."""
    entity_id = er.async_get(hass).async_get_entity_id("camera", DOMAIN, f"{SERIAL}_camera")
    assert entity_id is not None
    return entity_id


@pytest.mark.usefixtures("mock_printer_client")
async def test_jpeg_camera_uses_port_6000_without_a_configured_port(hass: HomeAssistant) -> None:
    """A P1P's camera is reached on port 6000 of the printer, its code kept out of reprs."""
    created: list[JpegCameraClient] = []

    def spy(client: JpegCameraClient, *, idle_timeout: float) -> CameraStream:
        created.append(client)
        return CameraStream(client, idle_timeout=idle_timeout)

    with patch.object(camera_platform, "CameraStream", spy):
        entry = await setup_entry(hass, capture_entry("P1P"))
    (client,) = created
    assert (client.host, client.port, client.serial) == (HOST, 6000, SERIAL)
    assert ACCESS_CODE not in repr(client)
    await unload(hass, entry)


@pytest.mark.parametrize("capture", ["MOCK-X1CMULTIAMS"])
@pytest.mark.usefixtures("mock_printer_client")
async def test_rtsps_stream_source_quotes_the_access_code(hass: HomeAssistant) -> None:
    """An X1C's camera hands HA's stream component its RTSPS address, code percent-quoted."""
    issued.remember(QUOTED_CODE)  # a secret: the log check looks for it too
    entry = await setup_entry(
        hass, capture_entry("MOCK-X1CMULTIAMS", data={CONF_ACCESS_CODE: QUOTED_CODE})
    )
    entity_id = camera_entity_id(hass)
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == "idle"
    assert state.attributes["supported_features"] == CameraEntityFeature.STREAM
    assert QUOTED_CODE not in str(state.attributes)

    source = await async_get_stream_source(hass, entity_id)
    assert source == f"rtsps://bblp:a%40b%3A%2F%251Z@{HOST}:322/streaming/live/1"
    camera = hass.data["camera"].get_entity(entity_id)
    assert camera.use_stream_for_stills
    assert await camera.async_camera_image() is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, LIVEVIEW_ISSUE) is None
    await unload(hass, entry)

    # A configured camera port (port forwarding) replaces 322.
    entry = capture_entry(
        "MOCK-X1CMULTIAMS", data={CONF_ACCESS_CODE: QUOTED_CODE, CONF_CAMERA_PORT: 8322}
    )
    await setup_entry(hass, entry)
    source = await async_get_stream_source(hass, entity_id)
    assert source == f"rtsps://bblp:a%40b%3A%2F%251Z@{HOST}:8322/streaming/live/1"
    await unload(hass, entry)


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
async def test_lan_liveview_off_raises_a_repair_issue(
    hass: HomeAssistant, mock_printer_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """An H2D with LAN liveview off: unavailable camera and a repair issue, until it is on."""
    registry = ir.async_get(hass)
    await push_report(
        hass,
        mock_printer_client,
        {"print": {"command": "push_status", "ipcam": {"rtsp_url": "disable"}}},
    )
    entry = await setup_entry(hass, mock_config_entry)
    entity_id = camera_entity_id(hass)

    assert state_of(hass, entity_id) == STATE_UNAVAILABLE
    issue = registry.async_get_issue(DOMAIN, LIVEVIEW_ISSUE)
    assert issue is not None
    assert issue.translation_key == "lan_liveview_disabled"
    assert issue.translation_placeholders == {"name": entry.title}
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    assert await async_get_stream_source(hass, entity_id) is None

    url = f"rtsps://{HOST}:322/streaming/live/1"
    await push_report(
        hass, mock_printer_client, {"print": {"command": "push_status", "ipcam": {"rtsp_url": url}}}
    )
    assert state_of(hass, entity_id) == "idle"
    assert registry.async_get_issue(DOMAIN, LIVEVIEW_ISSUE) is None
    assert await async_get_stream_source(hass, entity_id) == (
        f"rtsps://bblp:{ACCESS_CODE}@{HOST}:322/streaming/live/1"
    )

    await push_report(
        hass,
        mock_printer_client,
        {"print": {"command": "push_status", "ipcam": {"rtsp_url": "disable"}}},
    )
    assert registry.async_get_issue(DOMAIN, LIVEVIEW_ISSUE) is not None
    assert state_of(hass, entity_id) == STATE_UNAVAILABLE

    # Offline says nothing new about the setting: the issue stays through a reconnect.
    await set_available(hass, mock_printer_client, False)
    assert registry.async_get_issue(DOMAIN, LIVEVIEW_ISSUE) is not None
    await set_available(hass, mock_printer_client, True)
    assert registry.async_get_issue(DOMAIN, LIVEVIEW_ISSUE) is not None
    await unload(hass, entry)
    assert registry.async_get_issue(DOMAIN, LIVEVIEW_ISSUE) is None  # gone with the entry


async def test_rtsps_printer_without_liveview_field_is_not_flagged(
    hass: HomeAssistant, mock_printer_client: MagicMock
) -> None:
    """A printer that never reports `ipcam.rtsp_url` gets the address, not a repair issue."""
    # A P1P reports `ipcam` without `rtsp_url`. Pretend it is an RTSPS model: the entry says
    # P2S and get_version lists no modules, so the entry's model is used.
    state = PrinterState()
    state.apply({"info": {"command": "get_version", "sequence_id": "0", "module": []}})
    state.apply(pushall_report("P1P"))
    mock_printer_client.state = state
    entry = await setup_entry(hass, capture_entry("P1P", data={CONF_MODEL: "P2S"}))
    entity_id = camera_entity_id(hass)
    assert state_of(hass, entity_id) == "idle"
    assert await async_get_stream_source(hass, entity_id) == (
        f"rtsps://bblp:{ACCESS_CODE}@{HOST}:322/streaming/live/1"
    )
    assert ir.async_get(hass).async_get_issue(DOMAIN, LIVEVIEW_ISSUE) is None
    await unload(hass, entry)


async def test_switching_the_camera_option_off_removes_the_camera(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The camera option off creates no camera; switching it off removes an existing one."""
    await setup_entry(hass, mock_config_entry)
    assert state_of(hass, camera_entity_id(hass)) == "idle"

    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {OPTION_READ_ONLY: False, OPTION_CAMERA: False}
    )
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert entity_registry.async_get_entity_id("camera", DOMAIN, f"{SERIAL}_camera") is None
    assert hass.states.async_entity_ids("camera") == []
    assert mock_printer_client.async_start.await_count == 2  # the options reloaded the entry
    await unload(hass, mock_config_entry)


@pytest.mark.usefixtures("mock_printer_client")
async def test_no_camera_when_option_off_from_the_start(hass: HomeAssistant) -> None:
    """An entry created with the camera off never gets a camera entity, nor a stream."""
    with patch.object(camera_platform, "CameraStream") as stream:
        entry = await setup_entry(hass, capture_entry("P1P", options={OPTION_CAMERA: False}))
    assert hass.states.async_entity_ids("camera") == []
    stream.assert_not_called()
    await unload(hass, entry)


@pytest.mark.usefixtures("mock_printer_client")
async def test_camera_name_reads_well_in_the_picture_text(hass: HomeAssistant) -> None:
    """The frontend describes a camera picture as "Preview of the <name> camera."."""
    await setup_entry(hass, capture_entry("P1P"))
    state = hass.states.get(camera_entity_id(hass))
    assert state is not None
    assert f"Preview of the {state.name} camera." == "Preview of the P1P Chamber camera."
