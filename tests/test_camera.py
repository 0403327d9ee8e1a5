"""JPEG cameras against simulated printers: stills, MJPEG, idle stop, refusals, certificates.

Which camera each model gets, the RTSPS address and the liveview repair issue are tested with a
mocked client in `tests/test_camera_entity.py`.
"""

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientResponse
from homeassistant.components.camera import (
    async_get_image,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from PIL import Image
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.bambu_printer import camera as camera_platform
from custom_components.bambu_printer.const import (
    CONF_CAMERA_PORT,
    DOMAIN,
)
from custom_components.bambu_printer.printer.camera import CameraStream, JpegCameraClient
from simulator.camera_server import CameraServer
from simulator.device import SimulatedPrinter
from simulator.testing import start_printer, wait_until

from .conftest import entry_data, make_entry, setup_entry

pytestmark = pytest.mark.usefixtures("trust_simulator")


@pytest.fixture
async def printer(
    socket_enabled: None, request: pytest.FixtureRequest
) -> AsyncIterator[SimulatedPrinter]:
    """Run a simulated printer with its camera (a P1S unless the test parametrizes it).

    Overrides the shared fixture, so `trust_simulator` trusts this printer's test CA.
    """
    kwargs: dict[str, Any] = {"model": "P1S", **getattr(request, "param", {})}
    async with start_printer(camera=True, **kwargs) as simulated:
        yield simulated


def camera_server(printer: SimulatedPrinter) -> CameraServer:
    """Return the simulator's camera server (to count clients and change its code)."""
    server = printer._camera
    assert server is not None
    return server


def camera_entry(printer: SimulatedPrinter, **options: Any) -> MockConfigEntry:
    """Return an entry for the printer that reaches its camera on the simulator's port."""
    entry = make_entry(printer, **options)
    data = entry_data(printer)
    if printer.camera_port is not None:
        data[CONF_CAMERA_PORT] = printer.camera_port
    return MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data=data,
        options=entry.options,
    )


def camera_entity_id(hass: HomeAssistant, printer: SimulatedPrinter) -> str:
    """Return the entity id of the printer's camera (it must exist)."""
    entity_id = er.async_get(hass).async_get_entity_id("camera", DOMAIN, f"{printer.serial}_camera")
    assert entity_id is not None
    return entity_id


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """Return the entity's state string."""
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


def assert_jpeg_1280x720(data: bytes) -> None:
    """Decode the bytes: a real JPEG image of the chamber camera's size."""
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.size == (1280, 720)
        image.load()  # decodes the whole image, not just the header


async def unload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the entry and let everything it started finish."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def assert_camera_socket_closed(printer: SimulatedPrinter) -> None:
    """Wait until the simulator has seen the camera connection close (it notices on write)."""
    server = camera_server(printer)
    await wait_until(lambda: server.active_clients == 0, within=3)


async def read_part(response: ClientResponse) -> bytes:
    """Read one part of a multipart/x-mixed-replace body and return its JPEG."""
    async with asyncio.timeout(10):
        assert await response.content.readline() == b"--frameboundary\r\n"
        headers: dict[str, str] = {}
        while (line := await response.content.readline()) != b"\r\n":
            name, value = line.decode().split(":", 1)
            headers[name.strip().lower()] = value.strip()
        assert headers["content-type"] == "image/jpeg"
        data = await response.content.readexactly(int(headers["content-length"]))
        assert await response.content.readexactly(2) == b"\r\n"
    return data


class ManualClock:
    """A clock and sleep for CameraStream that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def time(self) -> float:
        """Return the current (manual) time."""
        return self.now

    async def sleep(self, delay: float) -> None:
        """Wait until the clock has been advanced by `delay`."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sleeper = (self.now + delay, future)
        self._sleepers.append(sleeper)
        try:
            await future
        finally:
            self._sleepers.remove(sleeper)

    def advance(self, seconds: float) -> None:
        """Move time on and wake every sleeper that is due."""
        self.now += seconds
        for when, future in list(self._sleepers):
            if when <= self.now and not future.done():
                future.set_result(None)


@pytest.fixture
def manual_streams(monkeypatch: pytest.MonkeyPatch) -> tuple[ManualClock, list[CameraStream]]:
    """Give camera entities streams on a manual clock; returns the clock and the streams."""
    clock = ManualClock()
    streams: list[CameraStream] = []

    def create(client: JpegCameraClient, *, idle_timeout: float) -> CameraStream:
        stream = CameraStream(
            client, idle_timeout=idle_timeout, clock=clock.time, sleep=clock.sleep
        )
        streams.append(stream)
        return stream

    monkeypatch.setattr(camera_platform, "CameraStream", create)
    return clock, streams


async def test_still_image_is_a_1280x720_jpeg(
    hass: HomeAssistant, printer: SimulatedPrinter, hass_client: ClientSessionGenerator
) -> None:
    """A still opens the stream on demand and returns a fresh chamber image."""
    entry = await setup_entry(hass, camera_entry(printer))
    entity_id = camera_entity_id(hass, printer)
    assert state_of(hass, entity_id) == "idle"
    assert camera_server(printer).connections_total == 0  # nothing until someone looks

    image = await async_get_image(hass, entity_id)
    assert image.content_type == "image/jpeg"
    assert_jpeg_1280x720(image.content)
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == "streaming"

    client = await hass_client()
    response = await client.get(f"/api/camera_proxy/{entity_id}")
    assert response.status == 200
    assert_jpeg_1280x720(await response.read())
    assert camera_server(printer).connections_total == 1  # the second still reused it

    await unload(hass, entry)
    await assert_camera_socket_closed(printer)


async def test_mjpeg_stream_yields_successive_frames(
    hass: HomeAssistant, printer: SimulatedPrinter, hass_client: ClientSessionGenerator
) -> None:
    """The MJPEG endpoint sends each new frame as its own part while the viewer stays."""
    camera_server(printer).fps = 20
    entry = await setup_entry(hass, camera_entry(printer))
    entity_id = camera_entity_id(hass, printer)

    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{entity_id}")
    assert response.status == 200
    assert response.content_type == "multipart/x-mixed-replace"
    assert response.headers["Content-Type"].endswith("boundary=frameboundary")
    parts = [await read_part(response) for _ in range(4)]
    for part in parts:
        assert_jpeg_1280x720(part)
    assert parts[0] == parts[1]  # the first frame twice, for browsers that lag one frame
    # Parts 3 and 4 are the printer's next two frames: three frames sent in all.
    assert camera_server(printer).frames_sent >= 3
    response.close()

    await unload(hass, entry)
    await assert_camera_socket_closed(printer)


async def test_stream_closes_35_s_after_the_last_viewer(
    hass: HomeAssistant,
    printer: SimulatedPrinter,
    hass_client: ClientSessionGenerator,
    manual_streams: tuple[ManualClock, list[CameraStream]],
) -> None:
    """After the viewer leaves, the socket stays 30 s (for the next look), then closes."""
    clock, streams = manual_streams
    camera_server(printer).fps = 20
    entry = await setup_entry(hass, camera_entry(printer))
    entity_id = camera_entity_id(hass, printer)
    (stream,) = streams

    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{entity_id}")
    await read_part(response)
    await read_part(response)
    assert stream.consumers == 1
    response.close()
    # The server side notices when writing the next frame to the closed connection.
    await wait_until(lambda: stream.consumers == 0)
    assert stream.connected
    assert camera_server(printer).active_clients == 1

    clock.advance(29)
    await asyncio.sleep(0.2)
    assert stream.connected
    assert camera_server(printer).active_clients == 1
    assert state_of(hass, entity_id) == "streaming"

    clock.advance(6)  # 35 s after the viewer left
    await wait_until(lambda: not stream.running and camera_server(printer).active_clients == 0)
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == "idle"

    # A still afterwards opens a new connection at once.
    image = await async_get_image(hass, entity_id)
    assert_jpeg_1280x720(image.content)
    assert camera_server(printer).connections_total == 2
    await unload(hass, entry)
    await assert_camera_socket_closed(printer)


async def test_still_request_counts_as_a_short_visit(
    hass: HomeAssistant,
    printer: SimulatedPrinter,
    manual_streams: tuple[ManualClock, list[CameraStream]],
) -> None:
    """A still keeps the stream 30 s for the next still, which then needs no new socket."""
    clock, streams = manual_streams
    entry = await setup_entry(hass, camera_entry(printer))
    entity_id = camera_entity_id(hass, printer)
    (stream,) = streams

    await async_get_image(hass, entity_id)
    clock.advance(1)
    await async_get_image(hass, entity_id)  # the cached frame is young enough
    assert camera_server(printer).connections_total == 1
    clock.advance(31)
    await wait_until(lambda: camera_server(printer).active_clients == 0)
    assert not stream.running
    await unload(hass, entry)


async def test_wrong_access_code_makes_the_camera_unavailable(
    hass: HomeAssistant,
    printer: SimulatedPrinter,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refused camera logs one error and goes unavailable; it never asks for reauth."""
    monkeypatch.setattr(camera_platform, "REFUSED_RETRY_AFTER", 0.3)
    entry = await setup_entry(hass, camera_entry(printer))
    entity_id = camera_entity_id(hass, printer)
    server = camera_server(printer)
    server.set_access_code("00000000")  # the camera disagrees; MQTT still accepts the code

    with caplog.at_level(logging.ERROR), pytest.raises(HomeAssistantError) as err:
        await async_get_image(hass, entity_id)
    assert err.value.translation_key == "camera_refused"
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == STATE_UNAVAILABLE
    assert server.auth_failures >= 1
    # The camera side never starts a reauth and the printer stays connected.
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
    assert entry.state is ConfigEntryState.LOADED
    assert printer.connected

    # No crash loop: the stream backs off between attempts (1 s, then 2 s, ...), and while
    # its attempts keep failing the camera stays unavailable past the retry delay.
    failures = server.auth_failures
    await asyncio.sleep(1.5)
    assert server.auth_failures <= failures + 1
    assert state_of(hass, entity_id) == STATE_UNAVAILABLE
    refusals = [
        r
        for r in caplog.records
        if r.levelno == logging.ERROR and "refused the access code" in r.getMessage()
    ]
    assert len(refusals) == 1
    assert printer.access_code not in caplog.text

    # Once the camera accepts the code again, its next frame brings it back.
    server.set_access_code(printer.access_code)
    await wait_until(lambda: state_of(hass, entity_id) == "streaming", within=10)
    image = await async_get_image(hass, entity_id)
    assert_jpeg_1280x720(image.content)
    await unload(hass, entry)
    await assert_camera_socket_closed(printer)


async def test_refused_camera_is_offered_again_after_the_retry_delay(
    hass: HomeAssistant,
    printer: SimulatedPrinter,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    manual_streams: tuple[ManualClock, list[CameraStream]],
) -> None:
    """Once the refused stream has gone idle, viewers may try again (a busy P1 refuses too)."""
    clock, streams = manual_streams
    monkeypatch.setattr(camera_platform, "REFUSED_RETRY_AFTER", 0.2)
    entry = await setup_entry(hass, camera_entry(printer))
    entity_id = camera_entity_id(hass, printer)
    (stream,) = streams
    server = camera_server(printer)
    server.set_access_code("00000000")

    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, entity_id)
    assert state_of(hass, entity_id) == STATE_UNAVAILABLE
    clock.advance(31)  # the stream gives up after 30 s without viewers
    await wait_until(lambda: not stream.running)
    await wait_until(lambda: state_of(hass, entity_id) == "idle")

    # Still refused: unavailable again, without a second error in the log.
    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, entity_id)
    assert state_of(hass, entity_id) == STATE_UNAVAILABLE
    errors = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith("custom_components.bambu_printer")
    ]
    assert len(errors) == 1

    clock.advance(31)
    await wait_until(lambda: not stream.running)
    await wait_until(lambda: state_of(hass, entity_id) == "idle")
    server.set_access_code(printer.access_code)
    image = await async_get_image(hass, entity_id)
    assert_jpeg_1280x720(image.content)
    await unload(hass, entry)
    await assert_camera_socket_closed(printer)


async def test_camera_of_another_printer_fails_the_certificate_check(
    hass: HomeAssistant, printer: SimulatedPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    """A camera whose certificate is not this printer's is logged and unavailable."""
    async with start_printer("P1S", camera=True) as other:  # its own CA and serial
        entry = camera_entry(printer)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=entry.title,
            unique_id=entry.unique_id,
            data={**entry.data, CONF_CAMERA_PORT: other.camera_port},
        )
        await setup_entry(hass, entry)
        entity_id = camera_entity_id(hass, printer)
        with pytest.raises(HomeAssistantError) as err:
            await async_get_image(hass, entity_id)
        assert err.value.translation_key == "camera_refused"
        await hass.async_block_till_done()
        assert state_of(hass, entity_id) == STATE_UNAVAILABLE
        assert any(
            r.levelno == logging.ERROR and "failed the certificate check" in r.getMessage()
            for r in caplog.records
        )
        await unload(hass, entry)


async def test_camera_is_back_after_the_printer_was_off_the_network(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A printer switched off takes its camera with it; once it is back, so are the pictures."""
    entry = await setup_entry(hass, camera_entry(printer))
    entity_id = camera_entity_id(hass, printer)
    assert_jpeg_1280x720((await async_get_image(hass, entity_id)).content)

    await printer.stop_broker()
    await wait_until(lambda: state_of(hass, entity_id) == STATE_UNAVAILABLE, within=10)
    await printer.start_broker()
    await wait_until(lambda: state_of(hass, entity_id) != STATE_UNAVAILABLE, within=10)
    assert_jpeg_1280x720((await async_get_image(hass, entity_id)).content)
    await unload(hass, entry)


async def test_unreachable_camera_stays_available(
    hass: HomeAssistant, printer: SimulatedPrinter
) -> None:
    """A camera port nobody listens on fails the still, but is no reason to hide the camera."""
    entry = camera_entry(printer)
    await camera_server(printer).stop()  # the printer is up, its camera port is closed
    await setup_entry(hass, entry)
    entity_id = camera_entity_id(hass, printer)
    with pytest.raises(HomeAssistantError) as err:
        await async_get_image(hass, entity_id)
    assert err.value.translation_key == "camera_no_image"
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == "idle"
    await unload(hass, entry)


async def test_refusal_during_mjpeg_ends_the_stream(
    hass: HomeAssistant, printer: SimulatedPrinter, hass_client: ClientSessionGenerator
) -> None:
    """A viewer of a refusing camera gets an error answer, not a hanging response."""
    entry = await setup_entry(hass, camera_entry(printer))
    entity_id = camera_entity_id(hass, printer)
    camera_server(printer).set_access_code("00000000")

    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{entity_id}")
    assert response.status == 502
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == STATE_UNAVAILABLE
    await unload(hass, entry)


async def test_mjpeg_viewer_sees_the_end_when_the_camera_goes_away(
    hass: HomeAssistant, printer: SimulatedPrinter, hass_client: ClientSessionGenerator
) -> None:
    """A camera that stops sending ends the MJPEG response instead of hanging it."""
    camera_server(printer).fps = 20
    entry = await setup_entry(hass, camera_entry(printer))
    entity_id = camera_entity_id(hass, printer)
    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{entity_id}")
    await read_part(response)
    # Refuse the reconnect too, so the stream reports a failed attempt to the viewer.
    camera_server(printer).set_access_code("00000000")
    async with asyncio.timeout(10):
        await response.read()  # returns once the server ends the response
    response.close()
    await unload(hass, entry)
