"""The print_file and skip_objects actions against the simulator: accepted, refused, read-only.

A simulated P1S serves its card over FTPS; the actions go over MQTT and return once the
printer confirmed (the job started under the file's name; the ids in ``s_obj``).
"""

from collections.abc import AsyncIterator
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bambu_printer.const import DOMAIN, OPTION_READ_ONLY
from simulator.device import SimulatedPrinter
from simulator.testing import start_printer, wait_until

from .conftest import card_entry, device_of

COVER = "image.p1s_cover_image"


@pytest.fixture
async def idle_printer(socket_enabled: None) -> AsyncIterator[SimulatedPrinter]:
    """An idle P1S with a card (two projects at its root)."""
    async with start_printer("P1S", files=True, speedup=600) as printer:
        yield printer


@pytest.fixture
async def busy_printer(socket_enabled: None) -> AsyncIterator[SimulatedPrinter]:
    """A P1S printing "Benchy" (objects 101 and 202), slowly enough to skip one."""
    async with start_printer("P1S", files=True, printing=True, speedup=5) as printer:
        yield printer


@pytest.fixture
async def idle_entry(
    hass: HomeAssistant, idle_printer: SimulatedPrinter
) -> AsyncIterator[MockConfigEntry]:
    """The idle printer's entry."""
    async with card_entry(hass, idle_printer) as entry:
        yield entry


@pytest.fixture
async def busy_entry(
    hass: HomeAssistant, busy_printer: SimulatedPrinter
) -> AsyncIterator[MockConfigEntry]:
    """The printing printer's entry."""
    async with card_entry(hass, busy_printer) as entry:
        yield entry


def _device_id(hass: HomeAssistant, printer: SimulatedPrinter) -> str:
    device = device_of(hass, printer.serial)
    assert device is not None
    return device.id


async def test_print_file_starts_the_file(
    hass: HomeAssistant, idle_entry: MockConfigEntry, idle_printer: SimulatedPrinter
) -> None:
    """The printer starts the card's file; its cover follows."""
    await hass.services.async_call(
        DOMAIN,
        "print_file",
        {"device_id": _device_id(hass, idle_printer), "file": "/Cable clips.gcode.3mf"},
        blocking=True,
    )
    assert idle_printer.engine.job_name == "Cable clips"
    assert idle_printer.engine.gcode_state in {"PREPARE", "RUNNING"}

    def cover_shown() -> bool:
        state = hass.states.get(COVER)
        return state is not None and state.attributes["file"] == "/Cable clips.gcode.3mf"

    await wait_until(cover_shown, within=15)
    state = hass.states.get(COVER)
    assert state is not None
    assert [o["id"] for o in state.attributes["objects"]] == [151, 251, 351]


async def test_print_file_refused_under_authorization_control(
    hass: HomeAssistant, idle_entry: MockConfigEntry, idle_printer: SimulatedPrinter
) -> None:
    """A printer that wants signed commands refuses: the error says so, nothing starts."""
    idle_printer.reject_control = True
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            DOMAIN,
            "print_file",
            {"device_id": _device_id(hass, idle_printer), "file": "/Cable clips.gcode.3mf"},
            blocking=True,
        )
    assert caught.value.translation_key == "authorization_required"
    assert idle_printer.engine.gcode_state not in {"PREPARE", "RUNNING"}


async def test_print_file_checks_its_input(
    hass: HomeAssistant, busy_entry: MockConfigEntry, busy_printer: SimulatedPrinter
) -> None:
    """Busy printer, or not a 3mf path: refused before anything is sent."""
    before = busy_printer.requests_received
    device_id = _device_id(hass, busy_printer)
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "print_file", {"device_id": device_id, "file": "/x.3mf"}, blocking=True
        )
    assert caught.value.translation_key == "printer_busy"
    with pytest.raises(ServiceValidationError) as unknown:
        await hass.services.async_call(
            DOMAIN, "print_file", {"device_id": "nope", "file": "/x.3mf"}, blocking=True
        )
    assert unknown.value.translation_key == "unknown_printer"
    assert busy_printer.requests_received == before


async def test_skip_objects_is_confirmed_by_s_obj(
    hass: HomeAssistant, busy_entry: MockConfigEntry, busy_printer: SimulatedPrinter
) -> None:
    """The printer lists the skipped id; the cover's objects show it skipped."""

    def objects_known() -> bool:
        state = hass.states.get(COVER)
        return state is not None and bool(state.attributes["objects"])

    await wait_until(objects_known, within=15)
    await wait_until(lambda: busy_printer.engine.gcode_state == "RUNNING", within=15)
    device_id = _device_id(hass, busy_printer)
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "skip_objects", {"device_id": device_id, "objects": [999]}, blocking=True
        )
    assert caught.value.translation_key == "unknown_objects"
    await hass.services.async_call(
        DOMAIN, "skip_objects", {"device_id": device_id, "objects": [202]}, blocking=True
    )
    assert busy_printer.engine.gcode_state == "RUNNING"

    def skipped() -> dict[int, bool]:
        state = hass.states.get(COVER)
        assert state is not None
        return {o["id"]: o["skipped"] for o in state.attributes["objects"]}

    await wait_until(lambda: skipped() == {101: False, 202: True})


async def test_skip_objects_refused_under_authorization_control(
    hass: HomeAssistant, busy_entry: MockConfigEntry, busy_printer: SimulatedPrinter
) -> None:
    """Refused by the printer: an error, and no id is skipped."""
    await wait_until(lambda: busy_printer.engine.gcode_state == "RUNNING", within=15)
    busy_printer.reject_control = True
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            DOMAIN,
            "skip_objects",
            {"device_id": _device_id(hass, busy_printer), "objects": [101]},
            blocking=True,
        )
    assert caught.value.translation_key == "authorization_required"


@pytest.fixture
async def read_only_busy(
    hass: HomeAssistant, busy_printer: SimulatedPrinter
) -> AsyncIterator[MockConfigEntry]:
    """The printing printer's entry in read-only mode."""
    async with card_entry(hass, busy_printer, **{OPTION_READ_ONLY: True}) as entry:
        yield entry


@pytest.fixture
async def read_only_idle(
    hass: HomeAssistant, idle_printer: SimulatedPrinter
) -> AsyncIterator[MockConfigEntry]:
    """The idle printer's entry in read-only mode."""
    async with card_entry(hass, idle_printer, **{OPTION_READ_ONLY: True}) as entry:
        yield entry


async def test_read_only_skip_objects_sends_nothing(
    hass: HomeAssistant, read_only_busy: MockConfigEntry, busy_printer: SimulatedPrinter
) -> None:
    """skip_objects refuses in read-only mode without a request reaching the printer."""
    await wait_until(lambda: busy_printer.engine.gcode_state == "RUNNING", within=15)
    before = busy_printer.requests_received
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            DOMAIN,
            "skip_objects",
            {"device_id": _device_id(hass, busy_printer), "objects": [101]},
            blocking=True,
        )
    assert caught.value.translation_key == "read_only_mode"
    assert busy_printer.requests_received == before


async def test_read_only_print_file_sends_nothing(
    hass: HomeAssistant, read_only_idle: MockConfigEntry, idle_printer: SimulatedPrinter
) -> None:
    """print_file refuses in read-only mode; the printer stays idle."""
    before = idle_printer.requests_received
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            DOMAIN,
            "print_file",
            {"device_id": _device_id(hass, idle_printer), "file": "/Cable clips.gcode.3mf"},
            blocking=True,
        )
    assert caught.value.translation_key == "read_only_mode"
    assert idle_printer.requests_received == before


async def test_odd_requests_are_refused_unsent(
    hass: HomeAssistant, idle_entry: MockConfigEntry, idle_printer: SimulatedPrinter
) -> None:
    """Not a 3mf, or skipping with nothing printing: plain words, nothing sent."""
    before = idle_printer.requests_received
    device_id = _device_id(hass, idle_printer)
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "print_file", {"device_id": device_id, "file": "/model.stl"}, blocking=True
        )
    assert caught.value.translation_key == "invalid_print_file"
    with pytest.raises(ServiceValidationError) as missing:
        await hass.services.async_call(
            DOMAIN, "print_file", {"device_id": device_id, "file": "/cache/gone.3mf"}, blocking=True
        )
    assert missing.value.translation_key == "file_not_found"
    with pytest.raises(ServiceValidationError) as idle:
        await hass.services.async_call(
            DOMAIN, "skip_objects", {"device_id": device_id, "objects": [1]}, blocking=True
        )
    assert idle.value.translation_key == "nothing_to_skip"
    assert idle_printer.requests_received == before


async def test_no_confirmation_is_a_timeout(
    hass: HomeAssistant, idle_entry: MockConfigEntry, idle_printer: SimulatedPrinter
) -> None:
    """A printer that takes the request but never answers nor starts: command_timeout."""
    idle_printer.silent = True
    with (
        patch("custom_components.bambu_printer.file_actions.COMMAND_TIMEOUT", 0.2),
        pytest.raises(HomeAssistantError) as caught,
    ):
        await hass.services.async_call(
            DOMAIN,
            "print_file",
            {"device_id": _device_id(hass, idle_printer), "file": "/Cable clips.gcode.3mf"},
            blocking=True,
        )
    assert caught.value.translation_key == "command_timeout"
    assert idle_printer.engine.gcode_state not in {"PREPARE", "RUNNING"}
