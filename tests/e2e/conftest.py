"""Run ``scripts/develop`` as a real process tree and prove afterwards that it left nothing.

The demo runs in its own session, like a program started from a terminal: "Ctrl-C" is SIGINT
to its whole process group, "kill" is SIGTERM to the demo alone. Every process the demo
starts (Home Assistant, the simulator, each printer's Mosquitto, which the simulator puts in
a session of its own) is recorded by walking /proc while the demo runs, with its start time,
so a later process that reuses a pid is not mistaken for a leftover.
"""

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, async_playwright

from scripts.demo import ROOT

OUTPUT = Path(__file__).parent / "output"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Chromium is not installed (/usr/bin/chromium); `scripts/setup --e2e` installs it",
)
DEVELOP = ROOT / "scripts" / "develop"
READY = re.compile(r"ready after ([0-9.]+) s: open (\S+)")
# The demo runs on the Home Assistant release under test: the one of this test's venv.
HA_ENVIRONMENT = "newest" if Path(sys.prefix).name == ".venv-newest" else "oldest"


@dataclass(frozen=True)
class ProcessInfo:
    """One process as /proc shows it."""

    pid: int
    ppid: int
    state: str
    start_time: int
    command: str


def read_process(pid: int) -> ProcessInfo | None:
    """Return the process's details, or None when it does not exist (any more)."""
    base = Path("/proc") / str(pid)
    try:
        stat = (base / "stat").read_text(encoding="utf-8")
        command = (base / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    name = stat[stat.find("(") + 1 : stat.rfind(")")]
    return ProcessInfo(pid, int(fields[1]), fields[0], int(fields[19]), command.strip() or name)


def descendants(root: int) -> list[ProcessInfo]:
    """Return every live process below ``root`` in the process tree."""
    processes = [
        info
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and (info := read_process(int(entry.name))) is not None
    ]
    children: dict[int, list[ProcessInfo]] = {}
    for info in processes:
        children.setdefault(info.ppid, []).append(info)
    found: list[ProcessInfo] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child.pid)
    return found


@contextlib.asynccontextmanager
async def chromium_page(
    profile: Path, width: int, height: int, init_script: str | None = None
) -> AsyncIterator[Page]:
    """Open headless Chromium with a fresh profile; it is closed however the test ends."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        try:
            if init_script is not None:
                await browser.add_init_script(init_script)
            yield browser.pages[0] if browser.pages else await browser.new_page()
        finally:
            await browser.close()


def save_output(name: str, text: str) -> Path:
    """Keep a log next to the screenshot for whoever debugs a failure."""
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / name
    path.write_text(text, encoding="utf-8")
    return path


def copy_output(source: Path, name: str) -> None:
    """Copy a file into the output folder if it exists."""
    if source.exists():
        OUTPUT.mkdir(exist_ok=True)
        shutil.copy(source, OUTPUT / name)


@dataclass
class DemoProcess:
    """``scripts/develop`` running in its own session, its output read line by line."""

    process: asyncio.subprocess.Process
    config: Path
    port: int = 0  # known once ready: the demo asks the system for a free port
    lines: list[str] = field(default_factory=list)
    seen: dict[int, ProcessInfo] = field(default_factory=dict)
    url: str = ""
    ready_after: float = 0.0
    _reader: asyncio.Task[None] | None = None
    _line_added: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pid(self) -> int:
        """Return the demo's pid (also its process group and session id)."""
        return self.process.pid

    @property
    def base_url(self) -> str:
        """Return Home Assistant's address."""
        return f"http://127.0.0.1:{self.port}"

    def start_reading(self) -> None:
        """Collect the demo's output in the background."""
        self._reader = asyncio.create_task(self._read(), name="e2e demo output")

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while line := await stdout.readline():
            self.lines.append(line.decode(errors="replace").rstrip())
            self._line_added.set()

    async def wait_for_line(self, pattern: re.Pattern[str], within: float) -> re.Match[str]:
        """Wait until the demo prints a line matching ``pattern``; fail if it exits first."""
        checked = 0
        async with asyncio.timeout(within):
            while True:
                for line in self.lines[checked:]:
                    if match := pattern.search(line):
                        return match
                checked = len(self.lines)
                if self._reader is not None and self._reader.done():
                    pytest.fail("the demo exited:\n" + "\n".join(self.lines))
                self._line_added.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await self._line_added.wait()

    async def wait_ready(self, within: float = 180.0) -> None:
        """Wait for "ready after N s: open URL"; record the processes it started."""
        match = await self.wait_for_line(READY, within)
        self.ready_after = float(match.group(1))
        self.url = match.group(2)
        self.port = urlsplit(self.url).port or 0
        self.snapshot()

    def snapshot(self) -> list[ProcessInfo]:
        """Record every process below the demo (call again before stopping it)."""
        current = descendants(self.pid)
        for info in current:
            self.seen.setdefault(info.pid, info)
        return current

    def started(self, marker: str) -> list[ProcessInfo]:
        """Return the recorded processes whose command line contains ``marker``."""
        return [info for info in self.seen.values() if marker in info.command]

    def send(self, signum: signal.Signals, *, group: bool) -> None:
        """Signal the demo alone, or its whole process group like Ctrl-C in a terminal."""
        self.snapshot()
        if group:
            os.killpg(self.pid, signum)
        else:
            self.process.send_signal(signum)

    async def wait_exit(self, within: float = 60.0) -> int:
        """Wait for the demo to exit and its output to end; return its exit code."""
        async with asyncio.timeout(within):
            code = await self.process.wait()
            if self._reader is not None:
                await self._reader
        return code

    def leftovers(self) -> list[ProcessInfo]:
        """Return recorded processes that still exist (zombies included) and anything still
        in the demo's session."""
        left = [
            info
            for pid, info in self.seen.items()
            if (now := read_process(pid)) is not None and now.start_time == info.start_time
        ]
        in_session = [
            info
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit()
            and (info := read_process(int(entry.name))) is not None
            and _session(info.pid) == self.pid
            and info.pid not in self.seen
            and info.pid != self.pid
        ]
        return left + in_session

    async def kill_everything(self) -> None:
        """Last resort after a failed test: SIGKILL whatever the demo left, then reap it."""
        for info in self.leftovers():
            with contextlib.suppress(ProcessLookupError):
                os.kill(info.pid, signal.SIGKILL)
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
        await self.process.wait()
        if self._reader is not None:
            await self._reader


def _session(pid: int) -> int | None:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text(encoding="utf-8")
    except OSError:
        return None
    return int(stat[stat.rfind(")") + 2 :].split()[3])


async def start_demo(config: Path, *args: str) -> DemoProcess:
    """Run ``scripts/develop --ha <this release> --config CONFIG --port 0`` in a session of its
    own (the demo holds the free port the system gives it until Home Assistant listens).

    The simulator's kept CA goes next to the config folder unless the test names one.
    """
    if "--ca-dir" not in args:
        args = (*args, "--ca-dir", str(config.parent / "ca"))
    process = await asyncio.create_subprocess_exec(
        str(DEVELOP),
        "--ha",
        HA_ENVIRONMENT,
        "--config",
        str(config),
        "--port",
        "0",
        *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    demo = DemoProcess(process, config)
    demo.start_reading()
    return demo


@pytest.fixture
async def run_demo(
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[..., Awaitable[DemoProcess]]]:
    """Start demos for the test; whatever they leave running is killed afterwards."""
    demos: list[DemoProcess] = []

    async def run(config: Path, *args: str) -> DemoProcess:
        demo = await start_demo(config, *args)
        demos.append(demo)
        return demo

    yield run
    name = request.node.name
    for index, demo in enumerate(demos):
        await demo.kill_everything()
        save_output(f"{name}-{index}.log", "\n".join(demo.lines) + "\n")
    # Home Assistant keeps the previous run's log as home-assistant.log.1.
    for config in {demo.config for demo in demos}:
        for log in ("home-assistant.log", "home-assistant.log.1"):
            copy_output(config / log, f"{name}-{log}")
