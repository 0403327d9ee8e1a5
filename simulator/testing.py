"""Test helpers around the simulator: start a printer, connect a client, wait for conditions.

Plain async context managers and functions (no pytest import), so any test suite, benchmark
or script can use them; ``tests/*/conftest.py`` wrap them in fixtures.
"""

import asyncio
import contextlib
import ipaddress
import os
import random
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

from custom_components.bambu_printer.printer import tls
from custom_components.bambu_printer.printer.mqtt import (
    Backoff,
    ConnectionSettings,
    PrinterClient,
)
from custom_components.bambu_printer.printer.tls import create_ssl_context

from .device import SimulatedPrinter
from .farm import CAMERA_PORT, MQTT_PORT

__all__ = [
    "FAST_BACKOFF",
    "LeakSnapshot",
    "child_processes",
    "client_settings",
    "connected_client",
    "fast_sleep",
    "own_loopback_address",
    "printer_ssl_context",
    "start_printer",
    "trusting_ca",
    "wait_until",
]

FAST_BACKOFF = Backoff(initial=0.05, maximum=0.4, jitter=0.2)
"""Reconnect schedule for tests: 50 ms doubling to 400 ms."""


@contextmanager
def trusting_ca(ca_path: Path) -> Iterator[None]:
    """Make the integration trust the simulator's CA, in place of Bambu's and the public ones.

    Simulated printers (and the simulator's stand-in for the cloud broker) cannot hold
    certificates signed by Bambu Lab or a public CA; the product has no switch for this, so
    tests, benchmarks and the demo replace the library's CA sources for the duration.
    """
    with (
        patch.object(tls, "bambu_ca_files", lambda: [ca_path]),
        patch.object(tls, "create_public_ssl_context", lambda: tls.create_ssl_context(ca_path)),
    ):
        tls.clear_ssl_context_cache()
        try:
            yield
        finally:
            tls.clear_ssl_context_cache()


def own_loopback_address(rng: random.Random | None = None, *, only: str | None = None) -> str:
    """Return a loopback address (127.x.y.z) whose real printer ports are free right now.

    A printer there listens where real ones do, so it can be added from its announcement.
    Chosen at random, so tests and demos running side by side do not meet; with ``only``, that
    address or RuntimeError (ValueError when it is not a loopback address of its own).
    """
    if only is not None:
        address = ipaddress.IPv4Address(only)
        if not address.is_loopback or only == "127.0.0.1":
            raise ValueError(f"not a loopback address of its own: {only}")
        candidates = [only]
    else:
        rng = rng or random.Random()
        candidates = [
            f"127.{rng.randint(1, 254)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            for _ in range(100)
        ]
    for host in candidates:
        with contextlib.ExitStack() as stack:
            try:
                for port in (MQTT_PORT, CAMERA_PORT):
                    sock = stack.enter_context(socket.socket())
                    sock.bind((host, port))
            except OSError:
                continue
            return host
    raise RuntimeError("no free loopback address found")


async def fast_sleep(delay: float) -> None:
    """Sleep for the delay (tests record delays by wrapping this)."""
    await asyncio.sleep(delay)


@asynccontextmanager
async def start_printer(model: str = "P1S", **kwargs: Any) -> AsyncIterator[SimulatedPrinter]:
    """Run a :class:`SimulatedPrinter` for the duration of the block (stopped afterwards).

    Defaults suit tests: reports every 0.2 s at 20x speed; override any keyword.
    """
    kwargs.setdefault("report_interval", 0.2)
    kwargs.setdefault("speedup", 20.0)
    printer = SimulatedPrinter(model, **kwargs)
    async with printer:
        yield printer


def printer_ssl_context(printer: SimulatedPrinter) -> ssl.SSLContext:
    """Return a verifying client context that trusts the printer's test CA."""
    return create_ssl_context(printer.ca_path)


def client_settings(
    printer: SimulatedPrinter,
    *,
    password: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    keepalive: int = 30,
    **kwargs: Any,
) -> ConnectionSettings:
    """Return LAN settings for ``printer`` (its access code unless ``password`` is given)."""
    return ConnectionSettings(
        host=printer.host,
        port=printer.port,
        serial=printer.serial,
        password=printer.access_code if password is None else password,
        ssl_context=ssl_context if ssl_context is not None else printer_ssl_context(printer),
        keepalive=keepalive,
        **kwargs,
    )


@asynccontextmanager
async def connected_client(
    printer: SimulatedPrinter,
    *,
    start: bool = True,
    backoff: Backoff = FAST_BACKOFF,
    sleep: Callable[[float], Awaitable[None]] = fast_sleep,
    settings: ConnectionSettings | None = None,
    connect_timeout: float = 5.0,
    **kwargs: Any,
) -> AsyncIterator[PrinterClient]:
    """Yield a :class:`PrinterClient` connected to ``printer`` (with a fast backoff).

    ``start=True`` keeps a supervisor running (reconnects); otherwise only ``async_connect``.
    The client is stopped when the block ends, whatever happened inside.
    """
    client = PrinterClient(
        settings or client_settings(printer), backoff=backoff, sleep=sleep, **kwargs
    )
    try:
        if start:
            await client.async_start(connect_timeout)
        else:
            await client.async_connect(connect_timeout)
        yield client
    finally:
        await client.async_stop()


async def wait_until(
    predicate: Callable[[], bool], within: float = 5.0, interval: float = 0.01
) -> None:
    """Poll ``predicate`` until it is true; TimeoutError after ``within`` seconds."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110  (polling arbitrary state is the point)
            await asyncio.sleep(interval)


async def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    """Return whether something listens on the port (a TCP connection is taken)."""
    try:
        _reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def child_processes(name: str = "mosquitto", parent: int | None = None) -> list[int]:
    """Return the pids of processes called ``name`` whose parent is ``parent``.

    Zombies count too (a child that exited but was never reaped is a leak). ``parent``
    defaults to this process. Linux only (reads /proc); empty elsewhere.
    """
    parent = os.getpid() if parent is None else parent
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover  (not Linux)
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text(encoding="utf-8")
        except OSError:  # pragma: no cover  (the process exited meanwhile)
            continue
        comm = fields[fields.find("(") + 1 : fields.rfind(")")]
        ppid = int(fields[fields.rfind(")") + 2 :].split()[1])
        if comm == name and ppid == parent:
            found.append(int(entry.name))
    return found


class LeakSnapshot:
    """What was running before a test, to prove afterwards that it left nothing behind."""

    def __init__(self) -> None:
        self.tasks = set(asyncio.all_tasks())
        self.children = set(child_processes())

    async def leftovers(self) -> list[str]:
        """Describe tasks and mosquitto processes started since the snapshot and still alive."""
        for _ in range(3):  # let just-cancelled tasks finish their last step
            await asyncio.sleep(0)
        current = asyncio.current_task()
        tasks = [
            repr(task)
            for task in asyncio.all_tasks()
            if task not in self.tasks and task is not current and not task.done()
        ]
        processes = [
            f"mosquitto pid {pid}" for pid in child_processes() if pid not in self.children
        ]
        return tasks + processes
