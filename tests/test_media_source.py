"""The media browser against the simulator: browse timelapses and print files, play them.

Items are fetched over FTPS when opened, kept in a size-bounded cache and served to signed-in
users only; paths outside the timelapse folder or that are not projects are refused.
"""

import os
import tempfile
import time
from collections.abc import AsyncIterator
from http import HTTPStatus
from pathlib import Path

import pytest
from homeassistant.components import media_source
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.bambu_printer.const import DOMAIN
from custom_components.bambu_printer.media_cache import _evict, async_media_cache, encode_path
from custom_components.bambu_printer.printer.project import PNG_MAGIC
from simulator.device import SimulatedPrinter
from simulator.testing import start_printer

from .conftest import card_entry

ROOT = f"media-source://{DOMAIN}"


@pytest.fixture
async def card_printer(socket_enabled: None) -> AsyncIterator[SimulatedPrinter]:
    """An idle P1S whose card holds two projects and a timelapse."""
    async with start_printer("P1S", files=True) as printer:
        yield printer


@pytest.fixture
async def media_entry(
    hass: HomeAssistant, card_printer: SimulatedPrinter
) -> AsyncIterator[MockConfigEntry]:
    """The printer's entry, with the media source set up."""
    async with card_entry(hass, card_printer) as entry:
        assert await async_setup_component(hass, "media_source", {})
        await hass.async_block_till_done()
        yield entry


async def test_browse_printers_folders_and_files(
    hass: HomeAssistant, media_entry: MockConfigEntry, card_printer: SimulatedPrinter
) -> None:
    """Printers, then Timelapses and Print files, then the card's videos and projects."""
    root = await media_source.async_browse_media(hass, ROOT)
    assert [child.title for child in root.children or []] == ["P1S"]
    printer = await media_source.async_browse_media(hass, f"{ROOT}/{media_entry.entry_id}")
    assert [child.title for child in printer.children or []] == ["Timelapses", "Print files"]

    videos = await media_source.async_browse_media(
        hass, f"{ROOT}/{media_entry.entry_id}/timelapses"
    )
    assert card_printer.card is not None
    stored = [p for p in card_printer.card.storage.files if p.endswith(".avi")]
    assert [child.title for child in videos.children or []] == [stored[0].rsplit("/", 1)[1]]
    video = (videos.children or [])[0]
    assert video.can_play
    assert video.thumbnail is not None
    assert video.thumbnail.startswith("/api/bambu_printer/media/")

    projects = await media_source.async_browse_media(
        hass, f"{ROOT}/{media_entry.entry_id}/projects"
    )
    assert sorted(child.title for child in projects.children or []) == [
        "Cable clips.gcode.3mf",
        "Calibration cube.gcode.3mf",
    ]


async def test_play_a_timelapse_then_from_the_cache(
    hass: HomeAssistant,
    media_entry: MockConfigEntry,
    card_printer: SimulatedPrinter,
    hass_client: ClientSessionGenerator,
) -> None:
    """Resolving gives a URL; fetching it brings the video, the second time from the cache."""
    assert card_printer.card is not None
    path = next(p for p in card_printer.card.storage.files if p.endswith(".avi"))
    uri = f"{ROOT}/{media_entry.entry_id}/video/{encode_path(path)}"
    resolved = await media_source.async_resolve_media(hass, uri, None)
    assert resolved.mime_type == "video/x-msvideo"
    client = await hass_client()
    response = await client.get(resolved.url)
    assert response.status == HTTPStatus.OK
    assert response.headers["Content-Type"] == "video/x-msvideo"
    body = await response.read()
    assert body == card_printer.card.storage.files[path].data
    assert body.startswith(b"RIFF")

    await card_printer.card.stop()  # the printer's file server is gone: the cache answers
    again = await client.get(resolved.url)
    assert again.status == HTTPStatus.OK
    assert await again.read() == body


async def test_a_project_shows_its_plate_picture(
    hass: HomeAssistant, media_entry: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    """A 3mf plays as its plate's PNG; a timelapse thumbnail as its JPEG."""
    uri = f"{ROOT}/{media_entry.entry_id}/cover/{encode_path('/Cable clips.gcode.3mf')}"
    resolved = await media_source.async_resolve_media(hass, uri, None)
    assert resolved.mime_type == "image/png"
    client = await hass_client()
    response = await client.get(resolved.url)
    assert response.status == HTTPStatus.OK
    assert (await response.read()).startswith(PNG_MAGIC)

    videos = await media_source.async_browse_media(
        hass, f"{ROOT}/{media_entry.entry_id}/timelapses"
    )
    thumbnail = (videos.children or [])[0].thumbnail
    assert thumbnail is not None
    response = await client.get(thumbnail)
    assert response.status == HTTPStatus.OK
    assert (await response.read()).startswith(b"\xff\xd8\xff")


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("video", "/etc/passwd"),
        ("video", "/timelapse/../secret.mp4"),
        ("cover", "/timelapse/video.avi"),
        ("thumbnail", "/Cable clips.gcode.3mf"),
        ("other", "/timelapse/a.mp4"),
    ],
)
async def test_only_media_paths_are_served(
    hass: HomeAssistant,
    media_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    kind: str,
    path: str,
) -> None:
    """Anything but timelapses, their thumbnails and 3mf pictures is not found."""
    client = await hass_client()
    url = f"/api/bambu_printer/media/{media_entry.entry_id}/{kind}/{encode_path(path)}"
    response = await client.get(url)
    assert response.status == HTTPStatus.NOT_FOUND
    with pytest.raises(media_source.Unresolvable):
        await media_source.async_resolve_media(
            hass, f"{ROOT}/{media_entry.entry_id}/{kind}/{encode_path(path)}", None
        )


async def test_media_needs_a_signed_in_user(
    hass: HomeAssistant,
    media_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Without a session or a signature the view answers 401."""
    uri = f"{ROOT}/{media_entry.entry_id}/cover/{encode_path('/Cable clips.gcode.3mf')}"
    resolved = await media_source.async_resolve_media(hass, uri, None)  # the view is there
    client = await hass_client_no_auth()
    response = await client.get(resolved.url.split("?")[0])
    assert response.status == HTTPStatus.UNAUTHORIZED


def test_cache_removes_least_recently_used_beyond_its_limit(tmp_path: Path) -> None:
    """Oldest use first; the file just fetched stays even when it alone is over the limit."""
    now = time.time()
    for age, name in ((300, "old"), (200, "middle"), (100, "recent")):
        item = tmp_path / name
        item.write_bytes(b"x" * 100)
        os.utime(item, (now - age, now - age))
    _evict(tmp_path, 150, tmp_path / "recent")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recent"]
    big = tmp_path / "big"
    big.write_bytes(b"x" * 500)
    _evict(tmp_path, 150, big)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big"]


async def test_an_unreachable_printer_says_so(
    hass: HomeAssistant, media_entry: MockConfigEntry, card_printer: SimulatedPrinter
) -> None:
    """Browsing a printer whose file server is down is an error; other printers are unknown."""
    assert card_printer.card is not None
    await card_printer.card.stop()
    with pytest.raises(media_source.MediaSourceError, match="could not list"):
        await media_source.async_browse_media(hass, f"{ROOT}/{media_entry.entry_id}/timelapses")
    with pytest.raises(media_source.Unresolvable):
        await media_source.async_browse_media(hass, f"{ROOT}/not-an-entry")
    with pytest.raises(media_source.Unresolvable):
        await media_source.async_browse_media(hass, f"{ROOT}/{media_entry.entry_id}/elsewhere")


async def test_the_cache_stays_out_of_backups(
    hass: HomeAssistant, media_entry: MockConfigEntry
) -> None:
    """Backups take the configuration folder: fetched videos are kept in the temporary one."""
    cache = await async_media_cache(hass)
    assert not cache.directory.is_relative_to(hass.config.config_dir)
    assert cache.directory.is_relative_to(tempfile.gettempdir())
    assert cache.limit <= 512 << 20
