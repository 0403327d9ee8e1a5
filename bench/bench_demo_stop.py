"""Measure how long the demo takes to exit after Ctrl-C while camera viewers are connected.

Starts ``python -m scripts.demo`` (Home Assistant, the simulator, one Mosquitto per printer)
in a session of its own on a free port, waits until it is ready, opens MJPEG viewers on a
JPEG camera through Home Assistant's API, then sends SIGINT to the demo's process group, as
Ctrl-C in a terminal does, and times until the demo has exited.

    .venv/bin/python bench/bench_demo_stop.py [--viewers 3] [--config /tmp/bambu-demo-bench]
"""

import argparse
import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.demo_api import HomeAssistantApi  # noqa: E402

TARGET_S = 5.0
READY_TIMEOUT = 300.0


# The demo's ready line names its dashboard's address (the demo picks and holds the port).
READY = re.compile(r"ready after [0-9.]+ s: open (\S+)")


async def run(config: Path, viewers: int) -> None:
    """Run the demo, connect the viewers, press "Ctrl-C" and time the exit."""
    demo = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scripts.demo",
        "--config",
        str(config),
        "--port",
        "0",
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert demo.stdout is not None
    lines: list[str] = []

    async def read() -> None:
        assert demo.stdout is not None
        while line := await demo.stdout.readline():
            lines.append(line.decode(errors="replace").rstrip())

    reader = asyncio.create_task(read())
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            while not (ready := next(filter(None, map(READY.search, lines)), None)):
                if reader.done():
                    raise SystemExit("the demo exited:\n" + "\n".join(lines))
                await asyncio.sleep(0.2)
        dashboard = urlsplit(ready.group(1))
        base_url = f"{dashboard.scheme}://{dashboard.netloc}"
        async with aiohttp.ClientSession() as session:
            api = HomeAssistantApi(session, base_url)
            await api.login()
            states = await api.states()
            cameras = [
                state
                for entity_id, state in states.items()
                if entity_id.startswith("camera.") and "access_token" in state["attributes"]
            ]
            # The X1C's camera is RTSPS (played by Home Assistant's stream component, which
            # needs ffmpeg); the P1S and A1 serve JPEG frames as MJPEG.
            jpeg = [state for state in cameras if "x1" not in state["entity_id"]]
            responses = []
            for index in range(viewers):
                camera = jpeg[index % len(jpeg)]
                response = await session.get(
                    f"{base_url}/api/camera_proxy_stream/{camera['entity_id']}",
                    params={"token": camera["attributes"]["access_token"]},
                )
                assert response.status == 200, response.status
                await response.content.readline()  # the first part has started
                responses.append(response)
            await asyncio.sleep(2.0)  # frames flowing
            started = time.monotonic()
            os.killpg(demo.pid, signal.SIGINT)
            await demo.wait()
            elapsed = time.monotonic() - started
            for response in responses:
                response.close()
        await reader
    finally:
        if demo.returncode is None:
            os.killpg(demo.pid, signal.SIGKILL)
            await demo.wait()
    print(f"Demo exit after Ctrl-C with {viewers} MJPEG viewers: {elapsed:.2f} s")
    print(f"  target < {TARGET_S:g} s: {'met' if elapsed < TARGET_S else 'NOT met'}")
    print("  demo's own account: " + next((line for line in lines if "was down" in line), "-"))


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=3)
    parser.add_argument("--config", type=Path, default=Path("/tmp/bambu-demo-bench"))  # noqa: S108
    args = parser.parse_args()
    asyncio.run(run(args.config, args.viewers))


if __name__ == "__main__":
    main()
