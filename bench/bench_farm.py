"""Measure a print farm on one Home Assistant: N printing printers, one config entry each.

The printers (mixed X1C / P1S / A1 / H2D, printing, one report a second each, P1 and A1 as
deltas) run in a child process, ``python -m simulator --printing --json-out ...``, with their
own Mosquitto brokers, so the CPU time measured here is Home Assistant's and the integration's
alone (the simulator's is printed separately). Home Assistant is the test harness's core
instance, set up through config entries exactly as a user's would be (see bench_ha.py).

Over the measuring window it records the process CPU time per printer report; over a second
window of the same length the event-loop lag (a probe task sleeping 25 ms and measuring how
late it wakes: it is the bench's, not Home Assistant's, so it stays out of the CPU window;
the lag window's CPU share is printed as well); and the resident memory added
per printer and the state writes per second, and checks them against the targets: for 50
printers < 4 % of one core, lag p99 < 15 ms; for 200 < 15 %, p99 < 20 ms (in between the
targets are interpolated); always lag max < 50 ms, where the longest garbage collection in
either window counts as a stall too (the probe may sleep through it); < 1.5 MiB per printer,
all online, no reconnects.

Whether Python runs a full (generation 2) collection inside the windows is chance: it does so
once enough objects have survived since the last one (a quarter of those it holds). So outside the
windows the bench forces one, with Home Assistant alone and again with the farm, prints how long
each took over how many objects, and holds the farm's to the lag max target too: a full
collection stops the event loop for that long whenever it comes.

    .venv/bin/python bench/bench_farm.py [--printers 50] [--duration 60] [--warmup 10]
                                         [--tracemalloc] [--freeze-heap]

Exit status 1 when a target is missed.
"""

import argparse
import asyncio
import gc
import itertools
import json
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from homeassistant import loader  # noqa: E402
from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_STATE_CHANGED  # noqa: E402
from homeassistant.core import Event, HomeAssistant, callback  # noqa: E402
from homeassistant.setup import async_setup_component  # noqa: E402
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.bambu_printer.const import (  # noqa: E402
    CONF_ACCESS_CODE,
    CONF_CONNECTION,
    CONF_MODEL,
    CONF_SERIAL,
    CONNECTION_LOCAL,
    DOMAIN,
)
from custom_components.bambu_printer.printer.mqtt import PrinterClient  # noqa: E402
from simulator.testing import trusting_ca  # noqa: E402

MODELS = ("X1C", "P1S", "A1", "H2D")
# (printers, CPU share of one core for the whole farm, event-loop lag p99 in seconds)
TARGET_POINTS = ((50, 0.04, 0.015), (200, 0.15, 0.020))
TARGET_LAG_MAX = 0.050  # seconds
TARGET_MEMORY_PER_PRINTER = 1.5 * 1024 * 1024  # bytes
PROBE_INTERVAL = 0.025
SIMULATOR_START_TIMEOUT = 120.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_bytes() -> int:
    """Return this process's resident set size."""
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def process_tree_cpu(root: int) -> float:
    """Return the CPU seconds (user + system) of ``root`` and its live descendants."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="utf-8")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    tree = {root}
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew = bool(children)
        tree |= children
    return sum(cpu.get(pid, 0.0) for pid in tree)


@dataclass
class Window:
    """What one measuring window saw."""

    seconds: float
    cpu: float
    system_cpu: float  # the part of `cpu` spent in the kernel (socket reads, epoll)
    simulator_cpu: float
    reports: int
    writes: int
    lags: list[float]
    lag_window_share: float  # CPU share of one core in the lag window, probe included
    reconnects: int
    gc_pauses: dict[int, list[float]]


class GcWatch:
    """Records how long each garbage collection ran, per generation (a lag the loop sees)."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self._started)

    def start(self) -> None:
        """Start recording."""
        gc.callbacks.append(self._callback)

    def stop(self) -> dict[int, list[float]]:
        """Stop recording and return the pauses seen."""
        gc.callbacks.remove(self._callback)
        return self.pauses


@dataclass
class FullCollection:
    """One full garbage collection forced outside the windows: what Python walks, how long."""

    seconds: float
    tracked: int  # the objects it walked
    frozen: int  # the objects gc.freeze() took out of its walk


def full_collection() -> FullCollection:
    """Time a full collection of the heap as it stands (after one that clears the garbage)."""
    gc.collect()
    started = time.perf_counter()
    gc.collect()
    seconds = time.perf_counter() - started
    return FullCollection(
        seconds=seconds, tracked=len(gc.get_objects()), frozen=gc.get_freeze_count()
    )


class LagProbe:
    """Sleeps PROBE_INTERVAL again and again and records how late each wake-up is."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start probing."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> list[float]:
        """Stop probing and return the lags seen."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        return self.lags

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(PROBE_INTERVAL)
            self.lags.append(max(0.0, loop.time() - start - PROBE_INTERVAL))


async def start_simulator(models: list[str], directory: Path) -> tuple[Any, list[dict[str, Any]]]:
    """Start the simulator's farm in a child process; return it and its printers' endpoints."""
    endpoints = directory / "printers.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--printers",
        ",".join(models),
        "--printing",
        "--report-interval",
        "1",
        "--json-out",
        str(endpoints),
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,  # it prints the access codes
        stderr=asyncio.subprocess.PIPE,
    )
    deadline = time.monotonic() + SIMULATOR_START_TIMEOUT
    while not endpoints.exists():
        if process.returncode is not None or time.monotonic() > deadline:
            error = await process.stderr.read() if process.stderr else b""
            raise RuntimeError(f"the simulator did not start:\n{error.decode(errors='replace')}")
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.2)  # the file is written in one go; give it a moment anyway
    return process, json.loads(endpoints.read_text(encoding="utf-8"))["printers"]


async def stop_simulator(process: Any) -> None:
    """Stop the simulator (SIGINT, as Ctrl-C) and reap it."""
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            async with asyncio.timeout(30):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


def make_entry(printer: dict[str, Any]) -> MockConfigEntry:
    """Return the config entry a user would have made for this printer."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"{printer['model']} {printer['serial']}",
        unique_id=printer["serial"],
        data={
            CONF_HOST: printer["host"],
            CONF_PORT: printer["port"],
            CONF_SERIAL: printer["serial"],
            CONF_ACCESS_CODE: printer["access_code"],
            CONF_CONNECTION: CONNECTION_LOCAL,
            CONF_MODEL: printer["model"],
        },
    )


def clients(entries: list[MockConfigEntry]) -> list[PrinterClient]:
    """Return the MQTT clients of loaded entries."""
    return [entry.runtime_data.coordinator.client for entry in entries]


async def measure(
    hass: HomeAssistant, entries: list[MockConfigEntry], simulator: Any, seconds: float
) -> Window:
    """Measure CPU in one window of ``seconds``, then the event-loop lag in a second one.

    The lag probe wakes the loop 40 times a second: CPU is measured without it, and the lag
    window's CPU is printed too.
    """
    writes = 0

    @callback
    def count(_event: Event) -> None:
        nonlocal writes
        writes += 1

    unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, count)
    farm = clients(entries)
    connects = sum(client.connects for client in farm)
    reports = sum(client.reports_received for client in farm)
    simulator_cpu = process_tree_cpu(simulator.pid)
    wall, cpu, times = time.monotonic(), time.process_time(), os.times()
    collections = GcWatch()
    collections.start()
    await asyncio.sleep(seconds)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    system = os.times().system - times.system
    simulator_cpu = process_tree_cpu(simulator.pid) - simulator_cpu
    reports = sum(client.reports_received for client in farm) - reports
    unsubscribe()

    probe = LagProbe()
    probe_wall, probe_cpu = time.monotonic(), time.process_time()
    probe.start()
    await asyncio.sleep(seconds)
    lags = await probe.stop()
    gc_pauses = collections.stop()
    probe_cpu = (time.process_time() - probe_cpu) / (time.monotonic() - probe_wall)
    return Window(
        seconds=wall,
        cpu=cpu,
        system_cpu=system,
        simulator_cpu=simulator_cpu,
        reports=reports,
        writes=writes,
        lags=lags,
        lag_window_share=probe_cpu,
        gc_pauses=gc_pauses,
        reconnects=sum(client.connects for client in farm) - connects,
    )


def targets(count: int) -> tuple[float, float]:
    """Return the CPU share and lag p99 targets for a farm of ``count`` printers."""
    (low, cpu_low, lag_low), (high, cpu_high, lag_high) = TARGET_POINTS
    share = min(max((count - low) / (high - low), 0.0), 1.0)
    return cpu_low + share * (cpu_high - cpu_low), lag_low + share * (lag_high - lag_low)


def verdict(ok: bool) -> str:
    """Return PASS or FAIL."""
    return "PASS" if ok else "FAIL"


async def run(args: argparse.Namespace) -> bool:
    """Run the farm against Home Assistant, print the figures, return whether all targets held."""
    count: int = args.printers
    models = [model for model, _ in zip(itertools.cycle(MODELS), range(count), strict=False)]
    with tempfile.TemporaryDirectory(prefix="bench-farm-") as folder:
        started = time.monotonic()
        simulator, printers = await start_simulator(models, Path(folder))
        print(f"simulator: {count} printers up in {time.monotonic() - started:.1f} s", flush=True)
        try:
            with trusting_ca(Path(printers[0]["ca_path"])):
                async with async_test_home_assistant() as hass:
                    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
                    alone = full_collection()
                    entries = [make_entry(printer) for printer in printers]
                    if args.tracemalloc:
                        tracemalloc.start()
                    # The first printer loads the integration and its platforms (fixed costs);
                    # memory per printer is measured from there.
                    entries[0].add_to_hass(hass)
                    assert await async_setup_component(hass, DOMAIN, {})
                    await hass.async_block_till_done()
                    rss_first = rss_bytes()
                    first = full_collection()
                    traced_first = tracemalloc.get_traced_memory()[0] if args.tracemalloc else 0
                    started = time.monotonic()
                    for entry in entries[1:]:
                        entry.add_to_hass(hass)
                    results = await asyncio.gather(
                        *(hass.config_entries.async_setup(entry.entry_id) for entry in entries[1:])
                    )
                    await hass.async_block_till_done()
                    assert all(results), "some printers did not set up"
                    print(
                        f"home assistant: {count} entries set up in "
                        f"{time.monotonic() - started:.1f} s, "
                        f"{len(hass.states.async_all())} entities",
                        flush=True,
                    )
                    await asyncio.sleep(args.warmup)
                    if args.freeze_heap:
                        gc.collect()
                        gc.freeze()
                    window = await measure(hass, entries, simulator, args.duration)
                    farm = full_collection()
                    if args.freeze_heap:
                        gc.unfreeze()
                    rss_end = rss_bytes()
                    traced_end = tracemalloc.get_traced_memory()[0] if args.tracemalloc else 0
                    available = sum(client.available for client in clients(entries))
                    for entry in entries:
                        await hass.config_entries.async_unload(entry.entry_id)
                    await hass.async_block_till_done()
        finally:
            await stop_simulator(simulator)
    return report(
        args,
        models,
        window,
        collections=(alone, first, farm),
        available=available,
        rss_first=rss_first,
        rss_end=rss_end,
        traced=traced_end - traced_first,
    )


def report(
    args: argparse.Namespace,
    models: list[str],
    window: Window,
    *,
    collections: tuple[FullCollection, FullCollection, FullCollection],
    available: int,
    rss_first: int,
    rss_end: int,
    traced: int,
) -> bool:
    """Print the figures and the verdicts; return whether every target held."""
    count = len(models)
    mix = ", ".join(f"{n} {model}" for model, n in Counter(models).items())
    share = window.cpu / window.seconds
    per_report = window.cpu / max(window.reports, 1)
    lags = sorted(window.lags)
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else 0.0
    per_printer = (rss_end - rss_first) / max(count - 1, 1)
    target_cpu, target_p99 = targets(count)
    cpu_ok = share < target_cpu
    longest_gc = max((max(p, default=0.0) for p in window.gc_pauses.values()), default=0.0)
    stall = max(lags[-1] if lags else 0.0, longest_gc)  # a collection stalls the loop too
    lag_ok = p99 < target_p99 and stall < TARGET_LAG_MAX
    alone, first, farm = collections
    full_ok = farm.seconds < TARGET_LAG_MAX
    memory_ok = per_printer < TARGET_MEMORY_PER_PRINTER
    all_live = available == count and window.reconnects == 0
    print(f"\nFarm: {count} printers ({mix}), printing, 1 report/s each; {window.seconds:.0f} s")
    print(
        f"  reports handled: {window.reports} ({window.reports / window.seconds:.1f}/s); "
        f"state writes: {window.writes} ({window.writes / window.seconds:.1f}/s, "
        f"{window.writes / max(window.reports, 1):.2f} per report)"
    )
    print(
        f"  Home Assistant process CPU: {window.cpu:.2f} s = {share * 100:.2f}% of one core, "
        f"{per_report * 1e6:.0f} us per printer report"
        f"   [target < {target_cpu * 100:.1f}%: {verdict(cpu_ok)}]"
    )
    print(
        f"    of which in the kernel (sockets, epoll): {window.system_cpu:.2f} s; "
        f"in Python and OpenSSL: {window.cpu - window.system_cpu:.2f} s"
    )
    print(
        f"  simulator CPU (its Python process + {count} Mosquitto brokers, not counted above): "
        f"{window.simulator_cpu / window.seconds * 100:.1f}% of one core"
    )
    print(
        f"  event-loop lag ({len(lags)} probes every {PROBE_INTERVAL * 1000:.0f} ms): "
        f"median {statistics.median(lags) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
        f"max {lags[-1] * 1000:.1f} ms; longest garbage collection {longest_gc * 1000:.1f} ms"
        f"   [target p99 < {target_p99 * 1000:.1f} ms, "
        f"max < {TARGET_LAG_MAX * 1000:.0f} ms: {verdict(lag_ok)}]"
    )
    print(
        f"    measured in a second {window.seconds:.0f} s window; CPU there, probe included: "
        f"{window.lag_window_share * 100:.2f}% of one core"
    )
    print(
        f"  memory: RSS +{(rss_end - rss_first) / 2**20:.1f} MiB for {count - 1} printers after "
        f"the first = {per_printer / 2**20:.2f} MiB per printer"
        f"   [target < {TARGET_MEMORY_PER_PRINTER / 2**20:.1f} MiB: {verdict(memory_ok)}]"
    )
    print(
        "  garbage collections over both windows (count, longest): "
        + ", ".join(
            f"gen {generation} {len(pauses)}x {max(pauses, default=0.0) * 1000:.1f} ms"
            for generation, pauses in window.gc_pauses.items()
        )
    )
    walked_per_printer = (farm.tracked + farm.frozen - first.tracked) / max(count - 1, 1)
    print(
        f"  a full garbage collection, forced outside the windows: {alone.seconds * 1000:.0f} ms "
        f"over {alone.tracked:,} tracked objects with Home Assistant alone, "
        f"{farm.seconds * 1000:.0f} ms over {farm.tracked:,} with the farm "
        f"({walked_per_printer:,.0f} per printer after the first)"
        + (f" and {farm.frozen:,} frozen after the warm-up" if args.freeze_heap else "")
        + f"   [a stall: max < {TARGET_LAG_MAX * 1000:.0f} ms: {verdict(full_ok)}]"
    )
    if args.tracemalloc:
        print(
            f"  traced Python memory: {traced / max(count - 1, 1) / 1024:.0f} KiB per printer "
            "(tracemalloc on: the CPU and lag figures above are inflated)"
        )
    print(
        f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
        f"printers online at the end: {available}/{count}; reconnects: {window.reconnects}"
        f"   [{verdict(all_live)}]"
    )
    ok = cpu_ok and lag_ok and full_ok and memory_ok and all_live
    print(f"  overall: {verdict(ok)}")
    return ok


def main() -> None:
    """Parse arguments, run the benchmark, exit 1 when a target was missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--printers", type=int, default=50, help="how many printers (50)")
    parser.add_argument("--duration", type=float, default=60.0, help="window in seconds (60)")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before it (10)")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace Python memory (slows everything)"
    )
    parser.add_argument(
        "--freeze-heap",
        action="store_true",
        help="freeze the heap after the warm-up (gc.freeze), as Home Assistant could: it does "
        "not, and an integration must not do it for the whole process",
    )
    args = parser.parse_args()
    if args.printers < 2:
        parser.error("--printers must be at least 2")
    sys.exit(0 if asyncio.run(run(args)) else 1)


if __name__ == "__main__":
    main()
