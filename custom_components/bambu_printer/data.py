"""Typed runtime data attached to each config entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from .coordinator import BambuCoordinator
    from .files import PrinterFiles


@dataclass(slots=True)
class BambuRuntimeData:
    """What a loaded printer entry owns: its coordinator (which owns the client)."""

    coordinator: BambuCoordinator
    files: PrinterFiles | None = None  # the printer's storage; None without LAN access


type BambuConfigEntry = ConfigEntry[BambuRuntimeData]
