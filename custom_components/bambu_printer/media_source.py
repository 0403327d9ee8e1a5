"""Media browser: each printer's timelapses and print files, fetched when opened.

Browsing lists the printer's folders over FTPS (``/timelapse`` for videos, ``/`` and
``/cache`` for 3mf projects); opening an item fetches it into the media cache and plays it
(a video) or shows it (a project's plate picture, a timelapse's thumbnail).
"""

from __future__ import annotations

from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.components.media_source.error import MediaSourceError
from homeassistant.core import HomeAssistant

from .const import DOMAIN
from .data import BambuConfigEntry
from .files import TIMELAPSE_FOLDER, VIDEO_SUFFIXES
from .media_cache import (
    KIND_COVER,
    KIND_THUMBNAIL,
    KIND_VIDEO,
    MediaCache,
    allowed,
    async_media_cache,
    content_type,
    decode_path,
    encode_path,
    media_url,
)
from .printer.errors import BambuError
from .printer.ftps import FtpsSession, RemoteFile

PROJECT_FOLDERS = ("/", "/cache")
FOLDER_TIMELAPSES = "timelapses"
FOLDER_PROJECTS = "projects"
THUMBNAIL_FOLDER = f"{TIMELAPSE_FOLDER}/thumbnail"


async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
    """Set up the printers' media source."""
    return PrinterMediaSource(hass, await async_media_cache(hass))


def _list_timelapses(session: FtpsSession) -> tuple[list[RemoteFile], set[str]]:
    """List the videos and which thumbnails exist, in one session."""
    try:
        videos = session.list(TIMELAPSE_FOLDER)
    except BambuError:
        return [], set()
    try:
        thumbnails = {entry.path for entry in session.list(THUMBNAIL_FOLDER)}
    except BambuError:
        thumbnails = set()
    return videos, thumbnails


def _list_projects(session: FtpsSession) -> list[RemoteFile]:
    """List the 3mf projects at the root and in the cache folder."""
    found: list[RemoteFile] = []
    for folder in PROJECT_FOLDERS:
        try:
            found.extend(session.list(folder))
        except BambuError:
            continue
    return [entry for entry in found if not entry.is_dir and entry.name.endswith(".3mf")]


def _thumbnail_of(video: str) -> str:
    stem = video.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"{THUMBNAIL_FOLDER}/{stem}.jpg"


def _newest_first(entries: list[RemoteFile]) -> list[RemoteFile]:
    return sorted(entries, key=lambda e: (e.modified is not None, e.modified, e.name), reverse=True)


class PrinterMediaSource(MediaSource):
    """The printers' timelapses and projects."""

    name = "Bambu Lab printers"

    def __init__(self, hass: HomeAssistant, cache: MediaCache) -> None:
        super().__init__(DOMAIN)
        self.hass = hass
        self.cache = cache

    def _entries(self) -> list[BambuConfigEntry]:
        """Return the loaded printers whose files Home Assistant can reach."""
        return [
            entry
            for entry in self.hass.config_entries.async_loaded_entries(DOMAIN)
            if entry.runtime_data.files is not None
        ]

    def _entry(self, entry_id: str) -> BambuConfigEntry:
        for entry in self._entries():
            if entry.entry_id == entry_id:
                return entry
        raise Unresolvable(f"no printer with files for {entry_id}")

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Return the URL that fetches (once) and serves the item."""
        entry_id, _, rest = item.identifier.partition("/")
        kind, _, token = rest.partition("/")
        path = decode_path(token)
        self._entry(entry_id)
        if path is None or kind not in (KIND_VIDEO, KIND_COVER) or not allowed(kind, path):
            raise Unresolvable(f"not a playable printer file: {item.identifier}")
        return PlayMedia(media_url(entry_id, kind, path), content_type(kind, path))

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Browse printers, then a printer's two folders, then their files."""
        if not item.identifier:
            return self._folder(
                None,
                self.name or DOMAIN,
                [self._folder(entry.entry_id, entry.title, []) for entry in self._entries()],
            )
        entry_id, _, folder = item.identifier.partition("/")
        entry = self._entry(entry_id)
        if not folder:
            return self._folder(
                entry_id,
                entry.title,
                [
                    self._folder(f"{entry_id}/{FOLDER_TIMELAPSES}", "Timelapses", []),
                    self._folder(f"{entry_id}/{FOLDER_PROJECTS}", "Print files", []),
                ],
            )
        files = entry.runtime_data.files
        if files is None:  # reloaded without file access meanwhile
            raise Unresolvable(f"no printer with files for {entry_id}")
        try:
            if folder == FOLDER_TIMELAPSES:
                videos, thumbnails = await files.storage.async_run(_list_timelapses)
                children = [
                    self._video(entry_id, video, _thumbnail_of(video.path) in thumbnails)
                    for video in _newest_first(videos)
                    if not video.is_dir and video.name.lower().endswith(VIDEO_SUFFIXES)
                ]
                return self._folder(item.identifier, "Timelapses", children)
            if folder == FOLDER_PROJECTS:
                projects = await files.storage.async_run(_list_projects)
                children = [self._project(entry_id, p) for p in _newest_first(projects)]
                return self._folder(item.identifier, "Print files", children)
        except BambuError as err:
            raise MediaSourceError(f"could not list the printer's files: {err}") from err
        raise Unresolvable(f"unknown folder {folder}")

    @staticmethod
    def _folder(
        identifier: str | None, title: str, children: list[BrowseMediaSource]
    ) -> BrowseMediaSource:
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=identifier,
            media_class=MediaClass.DIRECTORY,
            media_content_type=MediaType.VIDEO,
            title=title,
            can_play=False,
            can_expand=True,
            children=children,
            children_media_class=MediaClass.VIDEO,
        )

    @staticmethod
    def _video(entry_id: str, video: RemoteFile, has_thumbnail: bool) -> BrowseMediaSource:
        thumbnail = (
            media_url(entry_id, KIND_THUMBNAIL, _thumbnail_of(video.path))
            if has_thumbnail
            else None
        )
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=f"{entry_id}/{KIND_VIDEO}/{encode_path(video.path)}",
            media_class=MediaClass.VIDEO,
            media_content_type=content_type(KIND_VIDEO, video.path),
            title=video.name,
            can_play=True,
            can_expand=False,
            thumbnail=thumbnail,
        )

    @staticmethod
    def _project(entry_id: str, project: RemoteFile) -> BrowseMediaSource:
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=f"{entry_id}/{KIND_COVER}/{encode_path(project.path)}",
            media_class=MediaClass.IMAGE,
            media_content_type="image/png",
            title=project.path.lstrip("/"),
            can_play=True,
            can_expand=False,
        )
