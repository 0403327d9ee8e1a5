"""Stopping Home Assistant while dashboards watch a camera: prompt, and quiet in the log.

Home Assistant's HTTP server waits up to 10 s for open responses when it stops, then cancels
them; an MJPEG viewer's response never ends by itself. Here the real server (the test plugin
normally keeps it from starting) serves a real viewer of a simulated P1S's camera.
"""

import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from homeassistant.components.http import HomeAssistantHTTP
from homeassistant.const import EVENT_HOMEASSISTANT_START
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from simulator.broker import free_port
from simulator.device import SimulatedPrinter
from simulator.testing import start_printer

from .conftest import setup_entry
from .test_camera import assert_camera_socket_closed, camera_entity_id, camera_entry, read_part

pytestmark = pytest.mark.usefixtures("trust_simulator")

# The test plugin replaces the server's start (and, on newer Home Assistant, the binding done
# at setup) for every test; taken here, at import, they are still the real ones.
_REAL_START = HomeAssistantHTTP.start
_REAL_BIND = getattr(HomeAssistantHTTP, "async_bind", None)

# Issue 17: the whole demo (Home Assistant and the simulator) stops within 5 s of Ctrl-C;
# Home Assistant's share of that, with a viewer connected.
STOP_BUDGET = 3.0


@pytest.fixture
async def printer(socket_enabled: None) -> AsyncIterator[SimulatedPrinter]:
    """A simulated P1S with its JPEG camera (overrides the shared fixture)."""
    async with start_printer("P1S", camera=True) as simulated:
        simulated_camera = simulated._camera
        assert simulated_camera is not None
        simulated_camera.fps = 10
        yield simulated


async def start_http_server(hass: HomeAssistant) -> str:
    """Start Home Assistant's own HTTP server on a free loopback port; return its address."""
    port = free_port()
    config = {"http": {"server_host": ["127.0.0.1"], "server_port": port}}
    assert await async_setup_component(hass, "http", config)
    # http registers its stop handler when Home Assistant starts, then starts the server
    # (the calls the test plugin replaces): fire the start, then bind and start it here.
    hass.bus.async_fire(EVENT_HOMEASSISTANT_START)
    await hass.async_block_till_done()
    if _REAL_BIND is not None:
        await _REAL_BIND(hass.http)
    await _REAL_START(hass.http)
    return f"http://127.0.0.1:{port}"


async def test_stop_with_a_camera_viewer_is_prompt_and_quiet(
    hass: HomeAssistant,
    printer: SimulatedPrinter,
    caplog: pytest.LogCaptureFixture,
    record_property: Callable[[str, object], None],
) -> None:
    """The viewer's response ends when Home Assistant stops; nothing claims an outage."""
    base_url = await start_http_server(hass)
    await setup_entry(hass, camera_entry(printer))
    entity_id = camera_entity_id(hass, printer)
    state = hass.states.get(entity_id)
    assert state is not None
    url = f"{base_url}/api/camera_proxy_stream/{entity_id}"

    async with aiohttp.ClientSession() as session:
        viewer = await session.get(url, params={"token": state.attributes["access_token"]})
        assert viewer.status == 200
        await read_part(viewer)
        started = time.monotonic()
        await hass.async_stop()
        stopped_in = time.monotonic() - started
        await viewer.read()  # the server ended the response (raises if it was cut off)
        viewer.close()

    print(f"Home Assistant stopped in {stopped_in:.2f} s with a camera viewer connected")  # noqa: T201
    record_property("stop_seconds", round(stopped_in, 2))
    assert stopped_in < STOP_BUDGET
    assert "reconnecting in the background" not in caplog.text
    await assert_camera_socket_closed(printer)
