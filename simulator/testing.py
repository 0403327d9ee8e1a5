"""Test helpers around the simulator: start a printer, connect a client, wait for conditions.

Plain async context managers and functions (no pytest import), so any test suite, benchmark
or script can use them; ``tests/*/conftest.py`` wrap them in fixtures.
"""

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from custom_components.bambu_printer.printer.mqtt import (
    Backoff,
    ConnectionSettings,
    PrinterClient,
)
from custom_components.bambu_printer.printer.tls import create_ssl_context

from .device import SimulatedPrinter

__all__ = [
    "FAST_BACKOFF",
    "client_settings",
    "connected_client",
    "fast_sleep",
    "printer_ssl_context",
    "start_printer",
    "wait_until",
]

FAST_BACKOFF = Backoff(initial=0.05, maximum=0.4, jitter=0.2)
"""Reconnect schedule for tests: 50 ms doubling to 400 ms."""


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


def printer_ssl_context(printer: SimulatedPrinter, *, verify: bool = True) -> ssl.SSLContext:
    """Return a verifying client context that trusts the printer's test CA."""
    return create_ssl_context(printer.ca_path, verify=verify)


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
