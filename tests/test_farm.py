"""A print farm on one Home Assistant: steady load, then a soak with random faults.

Both tests run mixed models (X1C, P1S, A1, H2D) that print and report once a second, each set
up through its own config entry. They assert correctness only (every printer live and fresh, no
error logged, nothing leaked); the performance figures come from `bench/bench_farm.py`.

The soak is marked `soak`. `scripts/test` runs it reduced (10 printers, 60 s of faults); the
full soak is `BAMBU_SOAK_SECONDS=1800 .venv/bin/pytest -m soak tests/test_farm.py` (also
`BAMBU_SOAK_PRINTERS`, and `BAMBU_SOAK_SEED` to replay a fault sequence).
"""

import asyncio
import functools
import gc
import logging
import os
import random
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from _pytest.logging import LogCaptureHandler
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    EVENT_HOMEASSISTANT_FINAL_WRITE,
    EVENT_STATE_CHANGED,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.bambu_printer as integration
from custom_components.bambu_printer import connection
from custom_components.bambu_printer.const import DOMAIN
from custom_components.bambu_printer.printer.mqtt import Backoff, PrinterClient
from simulator.device import SimulatedPrinter
from simulator.farm import PrinterFarm, PrinterSpec
from simulator.testing import LeakSnapshot, child_processes, trusting_ca, wait_until

from .conftest import entry_data

FARM_MODELS = ("X1C", "P1S", "A1", "H2D")
FARM_PRINTERS = 10
SOAK_SECONDS = float(os.environ.get("BAMBU_SOAK_SECONDS", "60"))
SOAK_PRINTERS = int(os.environ.get("BAMBU_SOAK_PRINTERS", str(FARM_PRINTERS)))
FAULTS = ("restart_broker", "drop_clients", "silent", "malformed", "reject_control")
# Faster than production (1 s doubling to 60 s), so a printer hit every few seconds spends its
# time reconnecting and reporting rather than waiting; the schedule itself is tested elsewhere.
SOAK_BACKOFF = Backoff(initial=0.5, maximum=5.0)
SOAK_KEEPALIVE = 2  # a silent printer is given up after 3 keepalives (6 s), not 90 s
TASK_TOLERANCE = 5
FD_TOLERANCE = 5


def farm_specs(count: int) -> list[PrinterSpec]:
    """Return `count` printing printers, the models taking turns."""
    return [PrinterSpec(FARM_MODELS[i % len(FARM_MODELS)], printing=True) for i in range(count)]


def open_fds() -> int:
    """Return how many file descriptors this process has open."""
    return sum(1 for _ in Path("/proc/self/fd").iterdir())


class ErrorRecorder(logging.Handler):
    """Keeps every record at ERROR or above (any logger)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)

    def describe(self) -> str:
        """Return the records (with their exceptions) as text for an assertion message."""
        formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
        return "\n".join(formatter.format(record) for record in self.records)


@dataclass
class Farm:
    """A running farm and the Home Assistant entries watching it."""

    hass: HomeAssistant
    printers: PrinterFarm
    entries: dict[str, MockConfigEntry]
    state_writes: int = 0
    errors: ErrorRecorder = field(default_factory=ErrorRecorder)

    def entity_id(self, printer: SimulatedPrinter, domain: str, key: str) -> str:
        """Return the entity id of `<serial>_<key>`."""
        found = er.async_get(self.hass).async_get_entity_id(
            domain, DOMAIN, f"{printer.serial}_{key}"
        )
        assert found is not None, (printer, key)
        return found

    def shown(self, printer: SimulatedPrinter, domain: str, key: str) -> str | None:
        """Return what `<serial>_<key>` shows (None while it has no state)."""
        state = self.hass.states.get(self.entity_id(printer, domain, key))
        return None if state is None else state.state

    def live(self, printer: SimulatedPrinter) -> bool:
        """Tell whether Home Assistant shows the printer online with live values."""
        client = self.entries[printer.serial].runtime_data.coordinator.client
        return (
            client.available
            and self.shown(printer, "binary_sensor", "online") == STATE_ON
            and self.shown(printer, "sensor", "nozzle_temperature") not in (None, STATE_UNAVAILABLE)
        )

    async def wait_all_live(self, within: float) -> None:
        """Wait until every printer is live; fail naming the ones that are not."""
        try:
            await wait_until(lambda: all(self.live(p) for p in self.printers), within, 0.1)
        except TimeoutError:
            down = [p.serial for p in self.printers if not self.live(p)]
            pytest.fail(f"printers not back within {within:g} s: {down}")

    async def wait_all_fresh(self, label: str, within: float = 20.0) -> None:
        """Start a new job on every printer and wait until Home Assistant shows its name."""
        names = {p.serial: f"{label}-{p.serial}" for p in self.printers}
        for printer in self.printers:
            printer.engine.start_job(name=names[printer.serial], minutes=60.0)

        def fresh(printer: SimulatedPrinter) -> bool:
            return self.shown(printer, "sensor", "job_name") == names[printer.serial]

        try:
            await wait_until(lambda: all(fresh(p) for p in self.printers), within, 0.05)
        except TimeoutError:
            stale = [p.serial for p in self.printers if not fresh(p)]
            pytest.fail(f"printers whose new job did not show within {within:g} s: {stale}")

    async def settle(self, label: str) -> None:
        """Restart every broker at once, wait until all are live and fresh, then collect.

        Delayed registry saves are flushed too (the test harness keeps the written data in
        memory, one copy per store).
        """
        await asyncio.gather(*(printer.restart_broker() for printer in self.printers))
        await self.wait_all_live(within=60)
        await self.wait_all_fresh(f"settle-{label}")
        await asyncio.sleep(3)
        self.hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)  # flush delayed saves
        await self.hass.async_block_till_done()
        gc.collect()


@asynccontextmanager
async def run_farm(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, count: int
) -> AsyncIterator[Farm]:
    """Start `count` printers, set up one entry each, and tear everything down afterwards."""
    async with PrinterFarm(farm_specs(count), report_interval=1.0) as printers:
        with trusting_ca(printers.ca_path):
            entries = {
                printer.serial: MockConfigEntry(
                    domain=DOMAIN,
                    title=f"{printer.model} {printer.serial}",
                    unique_id=printer.serial,
                    data=entry_data(printer),
                )
                for printer in printers
            }
            for entry in entries.values():
                entry.add_to_hass(hass)
            farm = Farm(hass, printers, entries)
            root = logging.getLogger()
            root.addHandler(farm.errors)

            @callback
            def count_write(_event: Event) -> None:
                farm.state_writes += 1

            unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, count_write)
            try:
                assert await async_setup_component(hass, DOMAIN, {})
                await hass.async_block_till_done()
                assert all(e.state is ConfigEntryState.LOADED for e in entries.values())
                yield farm
            finally:
                unsubscribe()
                for entry in entries.values():
                    if entry.state is ConfigEntryState.LOADED:
                        await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_block_till_done()
                root.removeHandler(farm.errors)


@pytest.mark.usefixtures("socket_enabled")
async def test_farm_steady_load(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten printers report for a while: all live and fresh, no error, nothing left behind."""
    leaks = LeakSnapshot()
    fds = open_fds()
    async with run_farm(hass, monkeypatch, FARM_PRINTERS) as farm:
        await farm.wait_all_live(within=20)
        clients = {
            serial: entry.runtime_data.coordinator.client for serial, entry in farm.entries.items()
        }
        received = {serial: client.reports_received for serial, client in clients.items()}
        writes = farm.state_writes
        await asyncio.sleep(10)
        for serial, client in clients.items():
            assert client.reports_received - received[serial] >= 7, serial
            assert client.connects == 1, serial  # steady load: no reconnects
        assert farm.state_writes > writes
        await farm.wait_all_fresh("steady")
        assert farm.errors.records == [], farm.errors.describe()
    await hass.async_block_till_done()
    assert await leaks.leftovers() == []
    assert child_processes() == []
    assert open_fds() <= fds + FD_TOLERANCE


@dataclass
class Chaos:
    """Injects faults into random printers, a few seconds apart, never two at once on one."""

    farm: Farm
    rng: random.Random
    done: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    _busy: set[str] = field(default_factory=set)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _round: list[str] = field(default_factory=list)

    def _next_fault(self) -> str:
        if not self._round:  # every kind once per round, in a random order
            self._round = list(FAULTS)
            self.rng.shuffle(self._round)
        return self._round.pop()

    async def run(self, seconds: float, on_tick: Callable[[], None]) -> None:
        """Inject faults for `seconds`, then wait for the last ones to end."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            await asyncio.sleep(self.rng.uniform(1.0, 4.0))
            on_tick()
            idle = [p for p in self.farm.printers if p.serial not in self._busy]
            if not idle:
                continue
            printer = self.rng.choice(idle)
            kind = self._next_fault()
            self._busy.add(printer.serial)
            task = loop.create_task(self._inject(printer, kind), name=f"soak {kind}")
            self._tasks.append(task)
        await asyncio.gather(*self._tasks)  # raises the first fault's failure, if any

    async def _inject(self, printer: SimulatedPrinter, kind: str) -> None:
        try:
            match kind:
                case "restart_broker":
                    await printer.restart_broker(downtime=self.rng.uniform(0.0, 3.0))
                case "drop_clients":
                    await printer.drop_clients()
                case "silent":
                    printer.silent = True
                    try:
                        await asyncio.sleep(self.rng.uniform(3.0, 12.0))
                    finally:
                        printer.silent = False
                case "malformed":
                    assert printer.send_malformed() in (0, 4)
                case "reject_control":
                    await self._press_rejected(printer)
            self.done[kind] += 1
        finally:
            self._busy.discard(printer.serial)

    async def _press_rejected(self, printer: SimulatedPrinter) -> None:
        """Press pause on a printer whose firmware refuses control: a translated error.

        Once the printer reported authorization control on, the button is unavailable.
        """
        farm = self.farm
        try:  # an earlier fault may still be wearing off
            await wait_until(lambda: farm.live(printer), within=20, interval=0.1)
        except TimeoutError:
            self.outcomes["still offline"] += 1
            return
        button = farm.entity_id(printer, "button", "pause")
        printer.reject_control = True
        try:
            await farm.hass.services.async_call(
                BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: button}, blocking=True
            )
        except HomeAssistantError as err:
            self.outcomes[str(err.translation_key)] += 1
        else:
            # Home Assistant skips entities that are unavailable; nothing else may succeed.
            assert farm.shown(printer, "button", "pause") == STATE_UNAVAILABLE
            self.outcomes["went offline"] += 1
        finally:
            printer.reject_control = False


@pytest.mark.soak
@pytest.mark.usefixtures("socket_enabled")
async def test_farm_soak_with_faults(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Random faults for a while; then every printer recovers, nothing grew, nothing erred."""
    seed = int(os.environ.get("BAMBU_SOAK_SEED", str(random.randrange(2**32))))  # noqa: S311
    monkeypatch.setattr(connection, "KEEPALIVE", SOAK_KEEPALIVE)
    monkeypatch.setattr(
        integration, "PrinterClient", functools.partial(PrinterClient, backoff=SOAK_BACKOFF)
    )
    # Log records stay at DEBUG for the secret check, but pytest's own capture keeps only
    # warnings and errors meanwhile; otherwise it would hold every record of the soak.
    captures = [h for h in logging.getLogger().handlers if isinstance(h, LogCaptureHandler)]
    levels = [handler.level for handler in captures]
    for handler in captures:
        handler.setLevel(logging.WARNING)
    try:
        async with run_farm(hass, monkeypatch, SOAK_PRINTERS) as farm:
            await farm.wait_all_live(within=30)
            tracemalloc.start()
            try:
                # Memory is measured after a "settling round" (every broker restarted, a new
                # job everywhere) before and after the faults: every object a reconnect or a
                # report replaces is then a traced one in both measurements.
                await farm.settle("before")
                tasks = len(asyncio.all_tasks())
                fds = open_fds()
                mosquittos = len(child_processes())
                memory = [tracemalloc.get_traced_memory()[0]]
                loop = asyncio.get_running_loop()
                sampled = loop.time()

                def sample() -> None:
                    nonlocal sampled
                    if loop.time() - sampled >= 15:
                        sampled = loop.time()
                        memory.append(tracemalloc.get_traced_memory()[0])

                chaos = Chaos(farm, random.Random(seed))  # noqa: S311  (replayable on purpose)
                await chaos.run(SOAK_SECONDS, sample)
                await farm.wait_all_live(within=60)
                await farm.settle("after")
                memory.append(tracemalloc.get_traced_memory()[0])
            finally:
                tracemalloc.stop()
            end_tasks, end_fds = len(asyncio.all_tasks()), open_fds()
            growth = memory[-1] - memory[0]
            report = (
                f"seed {seed}, {SOAK_PRINTERS} printers, {SOAK_SECONDS:g} s: "
                f"faults {dict(chaos.done)}, presses {dict(chaos.outcomes)}; "
                f"tasks {tasks} -> {end_tasks}, fds {fds} -> {end_fds}, "
                f"traced memory samples (KiB) {[m // 1024 for m in memory]}"
            )
            print(report)  # noqa: T201  (shown with -s; the soak's own record)
            assert set(chaos.done) == set(FAULTS), report
            assert chaos.outcomes["authorization_required"] >= 1, report
            # Refused by the printer, or offline at that moment: nothing else is honest.
            assert set(chaos.outcomes) <= {
                "authorization_required",
                "not_connected",
                "went offline",
                "still offline",
            }, report
            assert farm.errors.records == [], farm.errors.describe()
            assert end_tasks <= tasks + TASK_TOLERANCE, report
            assert end_fds <= fds + FD_TOLERANCE, report
            assert len(child_processes()) == mosquittos == SOAK_PRINTERS, report
            # Bounded: what is held after recovery is within 1 MB (+1 MB per 10 minutes for
            # caches that fill slowly) of what was held before the faults.
            assert growth < (1 + SOAK_SECONDS / 600) * 1024 * 1024, report
    finally:
        for handler, level in zip(captures, levels, strict=True):
            handler.setLevel(level)
    assert "Traceback" not in caplog.text
