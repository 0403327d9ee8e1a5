"""Image: the picture of the plate being printed, from the job's 3mf on the printer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from homeassistant.components.image import ImageEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .entity import BambuEntity
from .files import PrinterFiles
from .printer.state import PrinterState, View

# Push updates: the picture changes when a new print's file was read.
PARALLEL_UPDATES = 0


def print_attributes(files: PrinterFiles) -> dict[str, Any]:
    """Describe the current print's file: its path, plate, objects and the newest timelapse."""
    details = files.details
    skipped = files.coordinator.data.skipped_objects
    return {
        "file": details.path if details else None,
        "plate": details.plate if details else None,
        "objects": [
            {"id": obj.identify_id, "name": obj.name, "skipped": obj.identify_id in skipped}
            for obj in (details.objects if details else ())
        ],
        "last_timelapse": files.last_timelapse,
    }


class BambuFilesEntity(BambuEntity):
    """An entity showing what the printer's files say; updated when they are read."""

    def __init__(
        self,
        coordinator: BambuCoordinator,
        files: PrinterFiles,
        key: str,
        views: tuple[View[Any], ...] = (),
    ) -> None:
        super().__init__(coordinator, key, views)
        self.files = files

    async def async_added_to_hass(self) -> None:
        """Also follow the print details, which arrive after the report that started the job."""
        await super().async_added_to_hass()
        self.async_on_remove(self.files.async_add_listener(self._handle_coordinator_update))


class PrintCoverImage(BambuFilesEntity, ImageEntity):
    """The plate's picture as the slicer drew it; a new one with each print."""

    _attr_translation_key = "cover_image"
    _attr_content_type = "image/png"

    def __init__(
        self, hass: HomeAssistant, coordinator: BambuCoordinator, files: PrinterFiles
    ) -> None:
        BambuFilesEntity.__init__(
            self, coordinator, files, "cover_image", (PrinterState.skipped_objects,)
        )
        ImageEntity.__init__(self, hass)

    @property
    def image_last_updated(self) -> datetime | None:
        """Change with each print's picture (the frontend fetches it again then)."""
        return self.files.details_updated if self.files.details else None

    async def async_image(self) -> bytes | None:
        """Return the current print's PNG."""
        details = self.files.details
        return details.cover if details is not None else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """Return the file, plate, objects (for skip_objects) and the newest timelapse."""
        return print_attributes(self.files)

    def _shown_values(self) -> tuple[Any, ...]:
        return (self.available, self.image_last_updated, self.extra_state_attributes)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the cover image for printers whose files Home Assistant can reach."""
    files = entry.runtime_data.files
    if files is not None:
        async_add_entities([PrintCoverImage(hass, entry.runtime_data.coordinator, files)])
