"""Measure the Home Assistant path of one P1S delta report: message bytes to states written.

Runs a real Home Assistant core (the test harness's instance), sets the integration up against
a simulated P1S over TLS, then hands delta reports to the client exactly as they come off the
socket (the MQTT PUBLISH payload) and times until every entity has written its state. Counts
state writes and the shown values that really changed, per delta.

    .venv/bin/python bench/bench_ha.py [--deltas 2000]
"""

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from homeassistant import loader  # noqa: E402
from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_STATE_CHANGED  # noqa: E402
from homeassistant.core import Event, HomeAssistant, callback  # noqa: E402
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.bambu_printer.const import (  # noqa: E402
    CONF_ACCESS_CODE,
    CONF_SERIAL,
    DOMAIN,
)
from simulator.testing import start_printer, trusting_ca  # noqa: E402

TARGET_US = 300.0


def make_deltas(count: int) -> list[bytes]:
    """Return P1-style 4-field deltas as they arrive on the wire, each changing all four."""
    deltas = []
    for i in range(count):
        body: dict[str, Any] = {
            "command": "push_status",
            "msg": 1,
            "sequence_id": str(1000 + i),
            "mc_percent": i % 100,
            "mc_remaining_time": 600 - i % 600,
            "layer_num": i % 250,
            "nozzle_temper": 200.0 + (i % 50) / 2,
        }
        deltas.append(json.dumps({"print": body}, separators=(",", ":")).encode())
    return deltas


def shown(hass: HomeAssistant) -> dict[str, str]:
    """Return every entity's shown state."""
    return {state.entity_id: state.state for state in hass.states.async_all()}


async def run(deltas: int) -> None:
    """Set up Home Assistant with one simulated P1S and time the delta path."""
    async with (
        start_printer("P1S", report_interval=3600.0) as printer,
        contextlib.AsyncExitStack() as stack,
        async_test_home_assistant() as hass,
    ):
        stack.enter_context(trusting_ca(printer.ca_path))
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"P1S {printer.serial}",
            unique_id=printer.serial,
            data={
                CONF_HOST: printer.host,
                CONF_PORT: printer.port,
                CONF_SERIAL: printer.serial,
                CONF_ACCESS_CODE: printer.access_code,
            },
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        printer.silent = True
        client = entry.runtime_data.coordinator.client
        topic = client.settings.report_topic

        writes = 0

        @callback  # a plain function would run in the executor, inside the timed section
        def count(_event: Event) -> None:
            nonlocal writes
            writes += 1

        hass.bus.async_listen(EVENT_STATE_CHANGED, count)
        payloads = make_deltas(deltas)
        timings: list[int] = []
        changed_values = 0
        for payload in payloads:
            before = shown(hass)
            start = time.perf_counter_ns()
            client._on_message(topic, payload)  # the link calls this for every message
            timings.append(time.perf_counter_ns() - start)
            await asyncio.sleep(0)
            after = shown(hass)
            changed_values += sum(1 for key, value in after.items() if before.get(key) != value)
        await hass.async_block_till_done()

        # A report that changes nothing shown must write nothing.
        writes_before = writes
        quiet = json.dumps({"print": {"command": "push_status", "msg": 1}}).encode()
        for _ in range(100):
            client._on_message(topic, quiet)
        await hass.async_block_till_done()
        quiet_writes = writes - writes_before

        entities = len(hass.states.async_all())
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()

    timings_us = sorted(t / 1000 for t in timings[len(timings) // 10 :])  # skip warm-up
    median = statistics.median(timings_us)
    p95 = timings_us[int(len(timings_us) * 0.95)]
    print(f"P1S delta path (4 fields changed), {deltas} deltas, {entities} entities")
    print(f"  message -> states written: median {median:.0f} us, p95 {p95:.0f} us")
    print(
        f"  target <= {TARGET_US:.0f} us: {'met' if median <= TARGET_US else 'NOT met'}"
        f" (ratio {median / TARGET_US:.2f} of the budget)"
    )
    print(f"  state writes per delta: {writes_before / deltas:.2f}")
    print(f"  shown values changed per delta: {changed_values / deltas:.2f}")
    print(f"  writes per changed value: {writes_before / max(changed_values, 1):.2f} (target <= 1)")
    print(f"  writes for 100 reports that change nothing shown: {quiet_writes}")


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deltas", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(run(args.deltas))


if __name__ == "__main__":
    main()
