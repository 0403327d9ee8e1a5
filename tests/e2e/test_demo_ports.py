"""The demo's own port: held from the check until Home Assistant binds it, and a taken port
ends the demo within seconds instead of a three-minute wait.

The demo checks its port before it starts anything; the simulator then opens its brokers and
camera servers on ports the system picks, and one of those used to be the demo's port (the
check had released it), so Home Assistant could not bind and the demo waited 180 s for it.
These tests run the demo's stack in this process (real simulator, real Home Assistant).
"""

import asyncio
import socket
import time
from pathlib import Path

import pytest

from scripts.demo import HOST, DemoStack, run

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("socket_enabled")]


def _listener(port: int) -> socket.socket:
    """Listen on the port like another server would, allowed next to a bound, idle socket."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen()
    return sock


async def test_prepare_holds_the_port_it_checked(tmp_path: Path) -> None:
    stack = DemoStack(tmp_path / "config", port=0, ca_dir=tmp_path / "ca", say=lambda _m: None)
    stack.prepare()
    try:
        assert stack.port > 0  # port 0: the system picked a free one for the demo
        # A server asking the system for any free port never gets the demo's port, and one
        # asking for exactly that port is refused.
        for _ in range(200):
            with socket.socket() as other:
                other.bind((HOST, 0))
                assert other.getsockname()[1] != stack.port
        with socket.socket() as other, pytest.raises(OSError):
            other.bind((HOST, stack.port))
    finally:
        stack.release_port()
        await stack.stop()


async def test_a_taken_port_stops_the_demo_within_seconds(tmp_path: Path) -> None:
    messages: list[str] = []
    with socket.socket() as probe:  # a free port, as the end-to-end tests pick one
        probe.bind((HOST, 0))
        port = int(probe.getsockname()[1])
    stack = DemoStack(tmp_path / "config", port=port, ca_dir=tmp_path / "ca", say=messages.append)
    stack.prepare()
    # Something takes the port after the check (the race the flaky test hit).
    with _listener(stack.port):
        started = time.monotonic()
        async with asyncio.timeout(60):
            code = await run(stack)
    assert code == 1
    assert time.monotonic() - started < 30
    error = next(message for message in messages if message.startswith("error:"))
    assert f"port {stack.port}" in error
    assert "another program" in error
