"""Actions on the printer's files: print a 3mf from its storage, skip objects of the print.

Both refuse in read-only mode and while authorization control refuses print commands (the
command is not sent), and both return once the printer confirmed: a success reply, or the
report showing the effect (the job started under the file's name; the ids in ``s_obj``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

import voluptuous as vol
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .const import COMMAND_TIMEOUT, DOMAIN
from .coordinator import BambuCoordinator
from .printer.commands import Command
from .printer.errors import BambuError, RemoteFileNotFound
from .printer.state import PRINTER_JOB_STATES, PrinterState
from .services import printer_coordinator

SERVICE_PRINT_FILE: Final = "print_file"
SERVICE_SKIP_OBJECTS: Final = "skip_objects"
ATTR_FILE: Final = "file"
ATTR_PLATE: Final = "plate"
ATTR_AMS_MAPPING: Final = "ams_mapping"
ATTR_BED_LEVELING: Final = "bed_leveling"
ATTR_TIMELAPSE: Final = "timelapse"
ATTR_OBJECTS: Final = "objects"

PRINT_FILE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_FILE): vol.All(cv.string, vol.Length(min=2, max=512)),
        vol.Optional(ATTR_PLATE, default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=999)),
        vol.Optional(ATTR_AMS_MAPPING, default=list): vol.All(
            cv.ensure_list, [vol.All(vol.Coerce(int), vol.Range(min=-1, max=255))]
        ),
        vol.Optional(ATTR_BED_LEVELING, default=True): cv.boolean,
        vol.Optional(ATTR_TIMELAPSE, default=False): cv.boolean,
    }
)
SKIP_OBJECTS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_OBJECTS): vol.All(
            cv.ensure_list, vol.Length(min=1, max=1000), [vol.All(vol.Coerce(int), vol.Range(0))]
        ),
    }
)


def _coordinator(hass: HomeAssistant, device_id: str) -> BambuCoordinator:
    """Return the loaded printer a device id names; refuse at once in read-only mode."""
    coordinator = printer_coordinator(hass, device_id)
    if coordinator.read_only:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="read_only_mode")
    return coordinator


async def _async_send_confirmed(
    coordinator: BambuCoordinator, command: Command, done: Callable[[PrinterState], bool]
) -> None:
    """Send ``command``; return on its success reply or once a report shows ``done``.

    Refusals (read-only mode, authorization control, the printer's own) raise the
    coordinator's translated errors; no confirmation in time raises ``command_timeout``.
    """
    loop = asyncio.get_running_loop()
    effect: asyncio.Future[None] = loop.create_future()

    @callback
    def check() -> None:
        if not effect.done() and done(coordinator.data):
            effect.set_result(None)

    unsubscribe = coordinator.async_add_listener(check)
    reply = loop.create_task(coordinator.async_send(command))
    try:
        finished, _ = await asyncio.wait(
            (reply, effect), timeout=COMMAND_TIMEOUT + 1, return_when=asyncio.FIRST_COMPLETED
        )
        if reply in finished:
            reply.result()  # raises the translated refusal or timeout
        elif effect not in finished:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_timeout",
                translation_placeholders={"command": command.command},
            )
    finally:
        unsubscribe()
        if not reply.done():
            reply.cancel()
            await asyncio.gather(reply, return_exceptions=True)
        effect.cancel()


async def _async_check_file(coordinator: BambuCoordinator, path: str) -> None:
    """Refuse a file the printer does not have (when its storage is reachable at all)."""
    files = coordinator.config_entry.runtime_data.files
    if files is None:
        return
    try:
        await files.storage.async_run(lambda session: session.size(path))
    except RemoteFileNotFound as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="file_not_found",
            translation_placeholders={"file": path[:200]},
        ) from err
    except BambuError:
        return  # the file server is unreachable: the printer itself will judge the file


async def _async_print_file(call: ServiceCall) -> None:
    """Start printing a plate of a 3mf on the printer's storage."""
    coordinator = _coordinator(call.hass, call.data[ATTR_DEVICE_ID])
    if coordinator.data.job.state in PRINTER_JOB_STATES:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="printer_busy")
    path = "/" + str(call.data[ATTR_FILE]).lstrip("/")
    try:
        command = coordinator.commands.project_file(
            path,
            model=coordinator.model,
            plate=call.data[ATTR_PLATE],
            ams_mapping=call.data[ATTR_AMS_MAPPING],
            bed_leveling=call.data[ATTR_BED_LEVELING],
            timelapse=call.data[ATTR_TIMELAPSE],
        )
    except ValueError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_print_file",
            translation_placeholders={"file": path[:200]},
        ) from err
    await _async_check_file(coordinator, path)
    name = command.payload["print"]["subtask_name"]
    await _async_send_confirmed(
        coordinator,
        command,
        lambda state: state.job.name == name and state.job.state in PRINTER_JOB_STATES,
    )


async def _async_skip_objects(call: ServiceCall) -> None:
    """Stop printing some objects of the current plate."""
    coordinator = _coordinator(call.hass, call.data[ATTR_DEVICE_ID])
    if not coordinator.data.job.can_stop:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="nothing_to_skip")
    wanted = frozenset(int(ident) for ident in call.data[ATTR_OBJECTS])
    files = coordinator.config_entry.runtime_data.files
    details = files.details if files is not None else None
    if details is not None and details.objects:
        unknown = wanted - {obj.identify_id for obj in details.objects}
        if unknown:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_objects",
                translation_placeholders={"ids": ", ".join(map(str, sorted(unknown)))},
            )
    command = coordinator.commands.skip_objects(sorted(wanted))
    await _async_send_confirmed(coordinator, command, lambda state: wanted <= state.skipped_objects)


@callback
def async_setup_file_actions(hass: HomeAssistant) -> None:
    """Register print_file and skip_objects (once, for every printer)."""
    hass.services.async_register(
        DOMAIN, SERVICE_PRINT_FILE, _async_print_file, schema=PRINT_FILE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_SKIP_OBJECTS, _async_skip_objects, schema=SKIP_OBJECTS_SCHEMA
    )
