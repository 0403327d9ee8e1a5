"""What the control entities share: they are offered only while the printer takes commands."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .coordinator import BambuCoordinator
from .entity import BambuEntity
from .printer.state import PrinterState, View


class BambuControlEntity(BambuEntity):
    """An entity that sends `print` commands: unavailable while authorization control refuses.

    Sending goes through `coordinator.async_send`, which refuses in read-only mode and under
    authorization control before sending, and turns refusals and silence into translated errors.
    """

    def __init__(self, coordinator: BambuCoordinator, key: str, views: Iterable[View[Any]]) -> None:
        """Hear the reports that change `views` or authorization control."""
        super().__init__(coordinator, key, (*views, PrinterState.authorization_control))

    @property
    def available(self) -> bool:
        """Offer the control only while the printer would carry its commands out."""
        return super().available and not self.coordinator.authorization_required
