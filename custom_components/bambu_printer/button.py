"""Buttons: pause, resume and stop the print; ask the printer for its full state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import BambuCoordinator
from .data import BambuConfigEntry
from .entity import BambuEntity
from .printer.commands import Command, CommandFactory
from .printer.state import Job, PrinterState

# Commands go to the printer one at a time, in the order pressed.
PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class BambuButtonDescription(ButtonEntityDescription):
    """A control button, the command it sends, and when that makes sense."""

    command_fn: Callable[[CommandFactory], Command]
    allowed_fn: Callable[[Job], bool]
    refusal_key: str  # the translated reason when the job does not allow the command


CONTROL_BUTTONS: tuple[BambuButtonDescription, ...] = (
    BambuButtonDescription(
        key="pause",
        translation_key="pause",
        command_fn=lambda factory: factory.pause(),
        allowed_fn=lambda job: job.can_pause,
        refusal_key="nothing_to_pause",
    ),
    BambuButtonDescription(
        key="resume",
        translation_key="resume",
        command_fn=lambda factory: factory.resume(),
        allowed_fn=lambda job: job.can_resume,
        refusal_key="nothing_to_resume",
    ),
    BambuButtonDescription(
        key="stop",
        translation_key="stop",
        command_fn=lambda factory: factory.stop(),
        allowed_fn=lambda job: job.can_stop,
        refusal_key="nothing_to_stop",
    ),
)


class BambuControlButton(BambuEntity, ButtonEntity):
    """Sends one control command and waits for the printer to accept it."""

    entity_description: BambuButtonDescription

    def __init__(self, coordinator: BambuCoordinator, description: BambuButtonDescription) -> None:
        super().__init__(
            coordinator, description.key, (PrinterState.job, PrinterState.authorization_control)
        )
        self.entity_description = description

    @property
    def available(self) -> bool:
        """Offer the button only when the printer would carry the command out."""
        coordinator = self.coordinator
        return (
            super().available
            and not coordinator.authorization_required
            and self.entity_description.allowed_fn(coordinator.data.job)
        )

    async def async_press(self) -> None:
        """Send the command; a refusal or silence raises an error the user sees.

        A press the job does not allow (it raced a report) is refused in plain words, unsent.
        """
        coordinator = self.coordinator
        description = self.entity_description
        if not description.allowed_fn(coordinator.data.job):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key=description.refusal_key
            )
        await coordinator.async_send(description.command_fn(coordinator.commands))


class BambuRefreshButton(BambuEntity, ButtonEntity):
    """Asks the printer to push its whole state (useful after a missed message)."""

    _attr_translation_key = "refresh"
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: BambuCoordinator) -> None:
        super().__init__(coordinator, "refresh", ())

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
