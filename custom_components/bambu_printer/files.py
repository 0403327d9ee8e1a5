"""The printer's files for Home Assistant: the current print's details and newest timelapse.

When a job starts, its 3mf is fetched from the printer over FTPS and read off the event loop
(plate picture, weight, length, objects); when a job ends, the newest timelapse's path is
noted. Entities read both from here and are told when they change. Printers reached through
the Bambu cloud only (no LAN address) have no file access: they get none of this.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import tempfile
from collections.abc import Coroutine, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import CONF_HOST
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .const import (
    CONF_ACCESS_CODE,
    CONF_CONNECTION,
    CONF_FTPS_PORT,
    CONF_SERIAL,
    CONNECTION_CLOUD,
)
from .coordinator import views_context
from .printer.errors import BambuError, RemoteFileNotFound
from .printer.ftps import FTPS_PORT, FtpsSession, FtpsSettings, PrinterStorage, RemoteFile
from .printer.project import (
    PrintDetails,
    ProjectFileError,
    candidate_paths,
    parse_project,
    plate_from_gcode_file,
)
from .printer.state import ENDED_JOB_STATES, PRINTER_JOB_STATES, GcodeState, Job, PrinterState
from .printer.tls import async_get_ssl_context

if TYPE_CHECKING:
    from .coordinator import BambuCoordinator

_LOGGER = logging.getLogger(__name__)

MAX_PROJECT_BYTES: Final = 256 << 20  # a 3mf with the G-code of a long multi-colour print
SPOOL_IN_MEMORY: Final = 8 << 20  # larger downloads go to a temporary file
TIMELAPSE_FOLDER: Final = "/timelapse"
VIDEO_SUFFIXES: Final = (".mp4", ".avi")
TIMELAPSE_DELAY: Final = 10.0  # seconds the printer may take to close the video file


def storage_settings(data: Mapping[str, Any], ssl_context: ssl.SSLContext) -> FtpsSettings | None:
    """Return how to reach the entry's file server; None for cloud-only printers."""
    if data.get(CONF_CONNECTION) == CONNECTION_CLOUD or not data.get(CONF_HOST):
        return None
    return FtpsSettings(
        host=data[CONF_HOST],
        serial=data[CONF_SERIAL],
        access_code=data[CONF_ACCESS_CODE],
        ssl_context=ssl_context,
        port=int(data.get(CONF_FTPS_PORT) or FTPS_PORT),
    )


def newest_video(entries: list[RemoteFile]) -> RemoteFile | None:
    """Return the most recent timelapse (by date, then name: names carry the time)."""
    videos = [e for e in entries if not e.is_dir and e.name.lower().endswith(VIDEO_SUFFIXES)]
    if not videos:
        return None
    return max(videos, key=lambda e: (e.modified or dt_util.utc_from_timestamp(0), e.name))


def _fetch_details(
    session: FtpsSession, paths: list[str], plate_hint: int | None
) -> PrintDetails | None:
    """Try each place the job's 3mf may be; read the first found (in the session's thread)."""
    for path in paths:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            try:
                session.download(path, spool.write, max_bytes=MAX_PROJECT_BYTES)
            except RemoteFileNotFound:
                continue
            spool.seek(0)
            try:
                return parse_project(spool, path, plate_hint)
            except ProjectFileError as err:
                _LOGGER.debug("Not reading the print details of %s: %s", path, err)
                return None
    return None


class PrinterFiles:
    """What the printer's storage tells about its jobs; one per printer entry."""

    def __init__(
        self, hass: HomeAssistant, coordinator: BambuCoordinator, storage: PrinterStorage
    ) -> None:
        self.hass = hass
        self.coordinator = coordinator
        self.storage = storage
        self.details: PrintDetails | None = None
        self.details_updated: datetime | None = None
        self.last_timelapse: str | None = None
        self._loaded_for: str | None = None  # the job whose details are shown
        self._trying: str | None = None  # the job whose file is looked for
        self._phases: set[bool] = set()  # tried while preparing (False) / printing (True)
        self._state: GcodeState | None = None
        self._listeners: list[CALLBACK_TYPE] = []

    @classmethod
    async def async_create(
        cls, hass: HomeAssistant, coordinator: BambuCoordinator
    ) -> PrinterFiles | None:
        """Return the entry's file access; None when the printer is not reachable on the LAN."""
        ssl_context = await async_get_ssl_context()
        settings = storage_settings(coordinator.config_entry.data, ssl_context)
        if settings is None:
            return None
        return cls(hass, coordinator, PrinterStorage(settings))

    @callback
    def async_attach(self) -> CALLBACK_TYPE:
        """Follow the printer's jobs; returns what stops following."""
        self._handle_update()
        return self.coordinator.async_add_listener(
            self._handle_update, views_context((PrinterState.job,))
        )

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``listener`` when the print details or the newest timelapse change."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    @callback
    def _handle_update(self) -> None:
        job = self.coordinator.data.job
        state, previous = job.state, self._state
        self._state = state
        # A job's file may still be arriving while it prepares: one more try once it prints.
        name = job.name
        if state in PRINTER_JOB_STATES and name and name != self._loaded_for:
            if name != self._trying:
                self._trying, self._phases = name, set()
                self._forget_last_print()
            printing = state is not GcodeState.PREPARE
            if printing not in self._phases:
                self._phases.add(printing)
                self._start("print details", self._async_fetch_details(job))
        if state in ENDED_JOB_STATES and previous in PRINTER_JOB_STATES:
            self._start("timelapse", self._async_find_timelapse())

    @callback
    def _forget_last_print(self) -> None:
        """Drop the last print's picture and readings: they do not describe a new print."""
        if self.details is not None:
            self.details = None
            self.details_updated = dt_util.utcnow()
            self._notify()

    def _start(self, what: str, job: Coroutine[Any, Any, None]) -> None:
        self.coordinator.config_entry.async_create_background_task(
            self.hass, job, f"bambu_printer {self.coordinator.serial} {what}"
        )

    async def _async_fetch_details(self, job: Job) -> None:
        """Fetch and read the job's 3mf; keep the details when it is found."""
        paths = candidate_paths(job.name, job.file if job.file and job.file.isprintable() else None)
        if not paths:
            return
        hint = plate_from_gcode_file(job.file)
        try:
            details = await self.storage.async_run(
                lambda session: _fetch_details(session, paths, hint)
            )
        except BambuError as err:
            _LOGGER.debug("Could not fetch the print details of %s: %s", job.name, err)
            return
        if details is None:
            _LOGGER.debug("No readable 3mf for %s in %s", job.name, paths)
            return
        if job.name != self._trying:
            return  # another print started meanwhile: these details are not its
        self.details = details
        self._loaded_for = job.name
        self.details_updated = dt_util.utcnow()
        self._notify()

    async def _async_find_timelapse(self) -> None:
        """Note the newest timelapse once a print ended (and the printer wrote it)."""
        await asyncio.sleep(TIMELAPSE_DELAY)
        try:
            entries = await self.storage.async_list(TIMELAPSE_FOLDER)
        except BambuError as err:
            _LOGGER.debug("Could not list the timelapses: %s", err)
            return
        newest = newest_video(entries)
        if newest is not None and newest.path != self.last_timelapse:
            self.last_timelapse = newest.path
            self._notify()
