"""The printer's files in Home Assistant: cover image, print weight and length, timelapses.

Against the simulator (a real FTPS server with the test CA): a print's 3mf is fetched when it
starts, its picture and readings show, a new print replaces them, and the newest timelapse is
named once a print ends. With a mocked client: hostile archives leave the entities unknown.
"""

import io
import logging
import zipfile
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus

import pytest
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant, State
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_CONNECTION,
    CONF_SERIAL,
    CONNECTION_CLOUD,
)
from custom_components.bambu_printer.files import storage_settings
from custom_components.bambu_printer.printer.project import PNG_MAGIC
from simulator.card import Project, build_3mf
from simulator.device import SimulatedPrinter
from simulator.testing import start_printer, wait_until

from .conftest import card_entry, setup_entry
from .mock_client import push_report
from .mock_storage import FakeStorage

COVER = "image.p1s_cover_image"
WEIGHT = "sensor.p1s_print_weight"
LENGTH = "sensor.p1s_print_length"


@pytest.fixture
async def card_printer(socket_enabled: None) -> AsyncIterator[SimulatedPrinter]:
    """A fast P1S serving its card over FTPS, printing "Benchy"."""
    async with start_printer("P1S", files=True, printing=True, speedup=600) as printer:
        yield printer


@pytest.fixture
async def files_entry(
    hass: HomeAssistant, card_printer: SimulatedPrinter
) -> AsyncIterator[MockConfigEntry]:
    """The printer's entry, its file server's port given."""
    async with card_entry(hass, card_printer) as entry:
        yield entry


async def _wait_state(
    hass: HomeAssistant, entity_id: str, check: Callable[[State], object]
) -> None:
    def ok() -> bool:
        state = hass.states.get(entity_id)
        return state is not None and bool(check(state))

    await wait_until(ok, within=15)


async def test_cover_weight_and_length_of_the_print(
    hass: HomeAssistant,
    files_entry: MockConfigEntry,
    card_printer: SimulatedPrinter,
    hass_client: ClientSessionGenerator,
) -> None:
    """The job's 3mf gives the picture, weight, length and objects; a new print replaces them."""
    await _wait_state(hass, WEIGHT, lambda s: s.state not in ("unknown", "unavailable"))
    assert float(hass.states.get(WEIGHT).state) == pytest.approx(12.6)  # type: ignore[union-attr]
    assert float(hass.states.get(LENGTH).state) == pytest.approx(4.2)  # type: ignore[union-attr]
    cover = hass.states.get(COVER)
    assert cover is not None
    assert cover.attributes["file"] == "/cache/Benchy.3mf"
    assert [o["id"] for o in cover.attributes["objects"]] == [101, 202]
    first_update = cover.state
    client = await hass_client()
    response = await client.get(cover.attributes["entity_picture"])
    assert response.status == HTTPStatus.OK
    first_picture = await response.read()
    assert first_picture.startswith(PNG_MAGIC)

    card_printer.engine.start_job("Gearbox", minutes=60)
    await _wait_state(hass, COVER, lambda s: s.attributes["file"] == "/cache/Gearbox.3mf")
    cover = hass.states.get(COVER)
    assert cover is not None
    assert cover.state != first_update  # the image's last update: the frontend reloads it
    response = await client.get(cover.attributes["entity_picture"])
    second_picture = await response.read()
    assert second_picture.startswith(PNG_MAGIC)
    assert second_picture != first_picture


async def test_newest_timelapse_is_named_when_a_print_ends(
    hass: HomeAssistant, files_entry: MockConfigEntry, card_printer: SimulatedPrinter
) -> None:
    """A finished print's timelapse (P1: AVI in /timelapse) shows in the cover's attributes."""
    card_printer.engine.start_job("Quick one", layers=2, minutes=0.5)
    await _wait_state(hass, COVER, lambda s: s.attributes["last_timelapse"] is not None)
    cover = hass.states.get(COVER)
    assert cover is not None
    assert card_printer.card is not None
    assert cover.attributes["last_timelapse"] == card_printer.card.last_timelapse
    assert cover.attributes["last_timelapse"].startswith("/timelapse/video_")


def test_cloud_only_printers_have_no_file_access() -> None:
    """No LAN address, or a cloud connection: no FTPS settings, so no file entities."""
    data = {CONF_HOST: "192.0.2.7", CONF_SERIAL: "01P00A000000001", CONF_ACCESS_CODE: "12345678"}
    assert storage_settings({**data, CONF_CONNECTION: CONNECTION_CLOUD}, None) is None  # type: ignore[arg-type]
    assert storage_settings({**data, CONF_HOST: ""}, None) is None  # type: ignore[arg-type]
    settings = storage_settings(data, None)  # type: ignore[arg-type]
    assert settings is not None
    assert (settings.port, settings.serial) == (990, "01P00A000000001")
    assert "12345678" not in repr(settings)


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Metadata/slice_info.config", b" " * (50 << 20))
    return out.getvalue()


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
async def test_hostile_archive_leaves_the_print_unknown(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_printer_client: object,
    mock_storage: FakeStorage,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A zip bomb as the job's file is refused with a debug log; a good file then shows."""
    name = mock_printer_client.state.job.name  # type: ignore[attr-defined]
    mock_storage.card.put(f"/cache/{name}.3mf", _bomb())
    caplog.set_level(logging.DEBUG, logger="custom_components.bambu_printer.files")
    await setup_entry(hass, mock_config_entry)
    assert "Not reading the print details" in caplog.text
    assert hass.states.get("sensor.h2d_print_weight").state == "unknown"  # type: ignore[union-attr]

    # The next job's file is fine.
    mock_storage.card.put("/cache/Next.3mf", build_3mf(Project("Next")))
    await push_report(
        hass, mock_printer_client, {"print": {"subtask_name": "Next", "gcode_state": "RUNNING"}}
    )
    await hass.async_block_till_done()
    assert hass.states.get("sensor.h2d_print_weight").state == "12.6"  # type: ignore[union-attr]


@pytest.mark.parametrize("capture", ["MOCK-H2D"])
async def test_a_new_job_without_its_file_clears_the_last_print(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_printer_client: object,
    mock_storage: FakeStorage,
) -> None:
    """The next print's details are unknown, not the previous print's, when its 3mf is missing."""
    name = mock_printer_client.state.job.name  # type: ignore[attr-defined]
    mock_storage.card.put(f"/cache/{name}.3mf", build_3mf(Project(name)))
    await setup_entry(hass, mock_config_entry)
    assert hass.states.get("sensor.h2d_print_weight").state == "12.6"  # type: ignore[union-attr]
    cover = hass.states.get("image.h2d_cover_image")
    assert cover is not None
    assert cover.attributes["file"] == f"/cache/{name}.3mf"

    # A MakerWorld print reports the profile's title, which names no file on the card.
    await push_report(
        hass,
        mock_printer_client,
        {"print": {"subtask_name": "PETG 0.2mm layer, 2 walls", "gcode_state": "PREPARE"}},
    )
    await hass.async_block_till_done()
    assert hass.states.get("sensor.h2d_print_weight").state == "unknown"  # type: ignore[union-attr]
    cover = hass.states.get("image.h2d_cover_image")
    assert cover is not None
    assert cover.state == "unknown"
    assert cover.attributes["file"] is None
