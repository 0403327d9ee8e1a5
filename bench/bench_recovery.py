"""Measure how long a printer stays unavailable after its broker answers again.

Runs the integration's PrinterClient with its real reconnect schedule (the default backoff,
real sleeps, jitter) against a simulated P1S whose TLS Mosquitto is stopped for each outage
length and restarted on the same port, like a printer that is power-cycled. Prints, per
outage, how long after the broker was back the client had the full state again, and how many
retries the client had scheduled meanwhile.

    .venv/bin/python bench/bench_recovery.py [--outages 5,20,60] [--repeat 3]
"""

import argparse
import asyncio
import logging
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custom_components.bambu_printer.printer.mqtt import Backoff, PrinterClient  # noqa: E402
from simulator.testing import client_settings, start_printer, wait_until  # noqa: E402

TARGET_S = 10.0
RETRY = re.compile(r"Reconnecting to printer \S+ in ([0-9.]+) s")


class RetryCounter(logging.Handler):
    """Counts the reconnect delays the client schedules (it logs each one at debug)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.delays: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the delay of a scheduled retry."""
        if match := RETRY.search(record.getMessage()):
            self.delays.append(float(match.group(1)))


async def run(outages: list[float], repeat: int) -> None:
    """Stop and restart the printer's broker for each outage; time each recovery."""
    counter = RetryCounter()
    logger = logging.getLogger("custom_components.bambu_printer.printer.mqtt")
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    backoff = Backoff()
    print(
        f"Reconnect schedule: {backoff.initial:g} s doubling to {backoff.maximum:g} s, "
        f"+-{backoff.jitter:.0%} jitter; TCP probe before each TLS/MQTT attempt"
    )
    results: dict[float, list[float]] = {}
    async with start_printer("P1S", printing=True, report_interval=1.0) as printer:
        client = PrinterClient(client_settings(printer))
        await client.async_start()
        try:
            for outage in outages:
                for _ in range(repeat):
                    counter.delays.clear()
                    await printer.stop_broker()
                    await wait_until(lambda: not client.available, 30)
                    await asyncio.sleep(outage)
                    await printer.start_broker()
                    answering = time.monotonic()
                    await wait_until(lambda: client.available, 120, interval=0.005)
                    recovery = time.monotonic() - answering
                    results.setdefault(outage, []).append(recovery)
                    print(
                        f"  outage {outage:5.0f} s: back {recovery:5.2f} s after the broker "
                        f"answered ({len(counter.delays)} retries scheduled, last "
                        f"{counter.delays[-1] if counter.delays else 0:.1f} s)"
                    )
                    await asyncio.sleep(2.0)  # let reports flow again before the next outage
        finally:
            await client.async_stop()
            logger.removeHandler(counter)
    print("Recovery after the broker answered again (seconds):")
    for outage, times in results.items():
        worst = max(times)
        print(
            f"  outage {outage:5.0f} s: median {statistics.median(times):.2f}, max {worst:.2f}"
            f"  target < {TARGET_S:g}: {'met' if worst < TARGET_S else 'NOT met'}"
        )


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--outages", default="5,20,60", help="outage lengths in seconds, comma-separated"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per outage length")
    args = parser.parse_args()
    outages = [float(value) for value in args.outages.split(",") if value]
    asyncio.run(run(outages, args.repeat))


if __name__ == "__main__":
    main()
