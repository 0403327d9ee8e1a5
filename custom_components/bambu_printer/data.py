"""Typed runtime data attached to each config entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from .coordinator import BambuCoordinator


@dataclass(slots=True)
class BambuRuntimeData:
    """What a loaded printer entry owns: its coordinator (which owns the client)."""

    coordinator: BambuCoordinator


type BambuConfigEntry = ConfigEntry[BambuRuntimeData]
