"""Buttons: pause, resume and stop the print; ask the printer for its full state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .entity import BambuEntity
from .printer.commands import Command, CommandFactory

# Commands go to the printer one at a time, in the order pressed.
PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class BambuButtonDescription(ButtonEntityDescription):
    """A control button and the command it sends."""

    command_fn: Callable[[CommandFactory], Command]


CONTROL_BUTTONS: tuple[BambuButtonDescription, ...] = (
    BambuButtonDescription(
        key="pause", translation_key="pause", command_fn=lambda factory: factory.pause()
    ),
    BambuButtonDescription(
        key="resume", translation_key="resume", command_fn=lambda factory: factory.resume()
    ),
    BambuButtonDescription(
        key="stop", translation_key="stop", command_fn=lambda factory: factory.stop()
    ),
)


class BambuControlButton(BambuEntity, ButtonEntity):
    """Sends one control command and waits for the printer to accept it."""

    entity_description: BambuButtonDescription

    def __init__(self, coordinator: BambuCoordinator, description: BambuButtonDescription) -> None:
        super().__init__(coordinator, description.key)
        self.entity_description = description

    async def async_press(self) -> None:
        """Send the command; a refusal or silence raises an error the user sees."""
        coordinator = self.coordinator
        await coordinator.async_send(self.entity_description.command_fn(coordinator.commands))


class BambuRefreshButton(BambuEntity, ButtonEntity):
    """Asks the printer to push its whole state (useful after a missed message)."""

    _attr_translation_key = "refresh"
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: BambuCoordinator) -> None:
        super().__init__(coordinator, "refresh")

    async def async_press(self) -> None:
        """Request the full state; it arrives as a normal report."""
        await self.coordinator.async_request_full_state()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BambuConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the refresh button, and the control buttons unless the printer is read-only."""
    coordinator = entry.runtime_data.coordinator
    entities: list[ButtonEntity] = [BambuRefreshButton(coordinator)]
    if not coordinator.read_only:
        entities.extend(
            BambuControlButton(coordinator, description) for description in CONTROL_BUTTONS
        )
    async_add_entities(entities)
