"""Firmware: the version installed and the one the printer offers, read-only.

Installing is left to the printer's screen, Bambu Studio or Bambu Handy: the update command
needs a download address from Bambu's servers that the printer does not report, and is not
known to work the same on every model (docs/protocol.md, "Controls, firmware and actions").
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.update import UpdateEntity, UpdateEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .entity import BambuEntity
from .printer.state import PrinterState

PARALLEL_UPDATES = 0

FIRMWARE_KEY = "firmware"
# Bambu Lab's firmware pages (release notes of every version); each model names its page.
_RELEASE_PAGE: Final = "https://bambulab.com/en/support/firmware-download/{page}"


class BambuFirmwareUpdate(BambuEntity, UpdateEntity):
    """The printer's firmware as the printer reports it: installed, offered, installing."""

    _attr_translation_key = "firmware"
    _attr_supported_features = UpdateEntityFeature.PROGRESS

    def __init__(self, coordinator: BambuCoordinator) -> None:
        super().__init__(coordinator, FIRMWARE_KEY, (PrinterState.firmware,))

    @property
    def installed_version(self) -> str | None:
        """Return the firmware the printer runs."""
        return self.coordinator.data.firmware.version

    @property
    def latest_version(self) -> str | None:
        """Return the offered version; the installed one when nothing is offered.

        A printer that offers an update without naming it shows "unknown" as the latest.
        """
        firmware = self.coordinator.data.firmware
        if not firmware.update_available:
            return firmware.version
        return firmware.new_version

    @property
    def in_progress(self) -> bool:
        """Return whether the printer is downloading or writing an update."""
        return self.coordinator.data.firmware.updating

    @property
    def update_percentage(self) -> int | None:
        """Return how far the update has come, while it runs."""
        return self.coordinator.data.firmware.progress

    @property
    def release_url(self) -> str | None:
        """Return Bambu Lab's firmware page for this model, where one is known."""
        page = self.coordinator.model.firmware_page
        return None if page is None else _RELEASE_PAGE.format(page=page)

    def _shown_values(self) -> tuple[Any, ...]:
        return (
            self.available,
            self.installed_version,
            self.latest_version,
            self.in_progress,
            self.update_percentage,
        )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the firmware entity when the printer reports its update state."""
    coordinator = entry.runtime_data.coordinator
    if coordinator.data.reported.firmware_update:
        async_add_entities([BambuFirmwareUpdate(coordinator)])
