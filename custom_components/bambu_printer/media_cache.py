"""Printer files fetched for the media browser: a size-bounded cache and the view serving it.

Timelapses and plate pictures are fetched over FTPS when someone opens them, kept on disk in
the system's temporary folder (not the configuration folder: backups would take them along),
and the least recently used files are removed once the cache outgrows its limit. The view
serves them to signed-in users only (the media browser signs its URLs).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView

from .const import DOMAIN
from .files import SPOOL_IN_MEMORY
from .printer.errors import BambuError
from .printer.ftps import FtpsSession
from .printer.project import ProjectFileError, parse_project

if TYPE_CHECKING:
    from .data import BambuConfigEntry

CACHE_LIMIT: Final = 512 << 20  # bytes on disk for every printer's fetched files together
MAX_PROJECT: Final = 256 << 20
VIDEO_TYPES: Final = {".mp4": "video/mp4", ".avi": "video/x-msvideo"}
KIND_VIDEO: Final = "video"
KIND_THUMBNAIL: Final = "thumbnail"
KIND_COVER: Final = "cover"
URL: Final = "/api/bambu_printer/media/{entry_id}/{kind}/{token}"
_VIEW_KEY: Final = f"{DOMAIN}_media_view"


def encode_path(path: str) -> str:
    """Turn a printer path into a URL-safe token."""
    return base64.urlsafe_b64encode(path.encode()).decode().rstrip("=")


def decode_path(token: str) -> str | None:
    """Read a token back; None when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return raw.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def allowed(kind: str, path: str) -> bool:
    """Return whether the media browser may fetch ``path`` as ``kind`` (nothing else)."""
    if not path.startswith("/") or not path.isprintable() or ".." in path.split("/"):
        return False
    lower = path.lower()
    if kind == KIND_VIDEO:
        return lower.startswith("/timelapse/") and lower.endswith(tuple(VIDEO_TYPES))
    if kind == KIND_THUMBNAIL:
        return lower.startswith("/timelapse/thumbnail/") and lower.endswith(".jpg")
    return kind == KIND_COVER and lower.endswith(".3mf")


def media_url(entry_id: str, kind: str, path: str) -> str:
    """Return the (relative) URL that serves a printer file of that kind."""
    return URL.format(entry_id=entry_id, kind=kind, token=encode_path(path))


def content_type(kind: str, path: str) -> str:
    """Return the MIME type the view answers with."""
    if kind == KIND_VIDEO:
        return VIDEO_TYPES[Path(path).suffix.lower()]
    return "image/jpeg" if kind == KIND_THUMBNAIL else "image/png"


class MediaCache:
    """Fetched printer files on disk, least recently used removed beyond ``limit`` bytes."""

    def __init__(self, directory: Path, limit: int = CACHE_LIMIT) -> None:
        self.directory = directory
        self.limit = limit
        self._locks: dict[str, asyncio.Lock] = {}

    def _file(self, serial: str, kind: str, path: str) -> Path:
        digest = hashlib.sha256(f"{serial}\0{kind}\0{path}".encode()).hexdigest()[:40]
        suffix = Path(path).suffix.lower() if kind != KIND_COVER else ".png"
        return self.directory / f"{digest}{suffix}"

    async def async_get(self, entry: BambuConfigEntry, kind: str, path: str) -> Path:
        """Return the local copy of a printer file, fetching it first when not cached."""
        files = entry.runtime_data.files
        if files is None:
            raise BambuError("no file access")
        target = self._file(files.coordinator.serial, kind, path)
        lock = self._locks.setdefault(str(target), asyncio.Lock())
        hass = files.hass
        async with lock:
            if await hass.async_add_executor_job(_touch, target):
                return target
            limit = self.limit if kind != KIND_COVER else MAX_PROJECT
            await files.storage.async_run(
                lambda session: _fetch(session, path, target, kind, limit)
            )
            await hass.async_add_executor_job(_evict, self.directory, self.limit, target)
        return target


def _touch(target: Path) -> bool:
    """Mark a cached file used; False when it is not cached."""
    try:
        os.utime(target)
    except FileNotFoundError:
        return False
    return True


def _fetch(session: FtpsSession, path: str, target: Path, kind: str, limit: int) -> None:
    """Download into a temporary file, keep the cover only for 3mf files, then move in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    try:
        if kind == KIND_COVER:
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
                session.download(path, spool.write, max_bytes=limit)
                spool.seek(0)
                cover = parse_project(spool, path).cover
            if cover is None:
                raise ProjectFileError(f"{path} has no plate picture")
            partial.write_bytes(cover)
        else:
            with partial.open("wb") as out:
                session.download(path, out.write, max_bytes=limit)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _evict(directory: Path, limit: int, keep: Path) -> None:
    """Remove the least recently used files until the cache fits its limit."""
    entries = []
    for item in directory.iterdir():
        if item.is_file() and not item.name.endswith(".part"):
            stat = item.stat()
            entries.append((stat.st_mtime, stat.st_size, item))
    total = sum(size for _, size, _ in entries)
    for _, size, item in sorted(entries, key=lambda entry: entry[0]):
        if total <= limit:
            break
        if item == keep:
            continue
        item.unlink(missing_ok=True)
        total -= size


class PrinterMediaView(HomeAssistantView):
    """Serves cached printer files to signed-in users (the media browser signs its URLs)."""

    url = URL
    name = "api:bambu_printer:media"
    requires_auth = True

    def __init__(self, cache: MediaCache, entries: Callable[[str], BambuConfigEntry | None]):
        self._cache = cache
        self._entries = entries

    async def get(
        self, request: web.Request, entry_id: str, kind: str, token: str
    ) -> web.StreamResponse:
        """Fetch (or take from the cache) and send one file."""
        path = decode_path(token)
        entry = self._entries(entry_id)
        if path is None or entry is None or not allowed(kind, path):
            raise web.HTTPNotFound
        try:
            local = await self._cache.async_get(entry, kind, path)
        except BambuError as err:
            raise web.HTTPNotFound(reason=type(err).__name__) from err
        return web.FileResponse(local, headers={"Content-Type": content_type(kind, path)})


def _cache_directory(config_dir: str) -> Path:
    """Pick a folder outside the configuration (backups take that), one per installation."""
    tag = hashlib.sha256(config_dir.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"{DOMAIN}-{tag}"


async def async_media_cache(hass: HomeAssistant) -> MediaCache:
    """Return the shared cache, registering its view the first time."""
    cache: MediaCache | None = hass.data.get(_VIEW_KEY)
    if cache is not None:
        return cache
    directory = await hass.async_add_executor_job(_cache_directory, hass.config.config_dir)
    raced: MediaCache | None = hass.data.get(_VIEW_KEY)
    if raced is not None:  # another caller got there while the folder was picked
        return raced
    cache = hass.data[_VIEW_KEY] = MediaCache(directory)

    def entry(entry_id: str) -> BambuConfigEntry | None:
        found = hass.config_entries.async_get_entry(entry_id)
        if found is None or found.domain != DOMAIN or not hasattr(found, "runtime_data"):
            return None
        return found

    hass.http.register_view(PrinterMediaView(cache, entry))
    return cache
