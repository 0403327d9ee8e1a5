"""What a new user trips over, in a real browser: a printer that refuses commands, a printer away.

Each test runs the demo (``scripts/develop``) and headless Chromium, and changes one simulated
printer through the simulator's control port (``python -m simulator --control``), the way the
printer itself would change: authorization control switched on as firmware from 2025 has it,
its broker stopped as when it is switched off, then started again.
"""

import asyncio
import itertools
import json
import re
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import pytest
from playwright.async_api import Locator, expect

from simulator.control import send_control

from .conftest import OUTPUT, DemoProcess, chromium_page, needs_chromium, save_output
from .test_demo import SPEEDUP, TRANSLATIONS, _section, _tile_value

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("socket_enabled"),
    needs_chromium,
]

type RunDemo = Callable[..., Awaitable[DemoProcess]]

P1S: Final = "01P00A000000001"
X1C: Final = "00M00A000000001"
CONTROLS: Final = ("Pause", "Resume", "Stop")
# What no message meant for a person may show: protocol fields, codes, Python's wording.
TECHNICAL: Final = re.compile(
    r"gcode_state|err_code|84033543|0x[0-9a-f]|traceback|exception|error:|mqtt", re.IGNORECASE
)
WINDOW: Final = (1500, 1360)  # tall enough for a whole printer section
OUTAGE: Final = 15.0  # long enough for the reconnect delay to reach its cap (5 s)
RECOVERY_LIMIT: Final = 10.0  # issue 17: back within 10 s of the printer answering again
# A log record starts with its time; an ERROR record of the integration, or one whose
# traceback passes through it, is what a user would report as a failure.
LOG_RECORD: Final = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ ", re.MULTILINE)


async def _control(demo: DemoProcess, serial: str, action: str, **extra: Any) -> None:
    """Change one of the demo's printers through the simulator's control port."""
    described = json.loads((demo.config / ".demo" / "printers.json").read_text(encoding="utf-8"))
    printer = next(p for p in described["printers"] if p["serial"] == serial)
    request = {"serial": serial, "access_code": printer["access_code"], "action": action}
    await send_control(int(described["control_port"]), {**request, **extra})


def _integration_errors(config: Path) -> list[str]:
    """Return the log's ERROR (and CRITICAL) records from or through the integration."""
    text = (config / "home-assistant.log").read_text(encoding="utf-8")
    starts = [match.start() for match in LOG_RECORD.finditer(text)] + [len(text)]
    records = [text[start:end] for start, end in itertools.pairwise(starts)]
    return [
        record
        for record in records
        if re.match(r"\S+ \S+ (ERROR|CRITICAL) ", record) and "bambu_printer" in record
    ]


async def _stop_demo(demo: DemoProcess) -> None:
    """Stop the demo (SIGTERM) and check that the integration logged no error meanwhile."""
    demo.send(signal.SIGTERM, group=False)
    assert await demo.wait_exit() == 0
    assert _integration_errors(demo.config) == []


def _button_icon(section: Locator, name: str) -> Locator:
    """Return the icon of a button card; its data-state is the button entity's state."""
    return section.locator("hui-button-card").filter(has_text=name).locator("ha-state-icon")


def _repair_text(serial: str) -> tuple[str, str]:
    """Return the repair issue's title and first sentence as en.json words them."""
    issue = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))["issues"]["authorization_control"]
    name = f"P1S {serial}"  # the entry's title, which the issue names the printer by
    first_sentence = issue["description"].split(":")[0]
    return issue["title"].format(name=name), first_sentence.format(name=name)


async def test_printer_under_authorization_control_explains_itself(
    run_demo: RunDemo, tmp_path: Path
) -> None:
    demo = await run_demo(tmp_path / "config", "--speedup", SPEEDUP)
    await demo.wait_ready()
    title, first_sentence = _repair_text(P1S)
    async with chromium_page(tmp_path / "chromium", *WINDOW) as page:
        await page.goto(demo.url)
        p1s = _section(page, "P1S")
        status = _tile_value(p1s, "Status")
        await expect(status).to_have_text("Printing", timeout=60_000)
        await expect(_button_icon(p1s, "Pause")).not_to_have_attribute(
            "data-state", "unavailable", timeout=60_000
        )

        # The firmware switches authorization control on: the printer says so in every report.
        await _control(demo, P1S, "authorization_control", on=True)
        for name in CONTROLS:
            await expect(_button_icon(p1s, name)).to_have_attribute(
                "data-state", "unavailable", timeout=10_000
            )
        # The chamber light still takes commands, so it stays.
        await expect(_button_icon(p1s, "Light")).not_to_have_attribute("data-state", "unavailable")
        OUTPUT.mkdir(exist_ok=True)
        await page.screenshot(path=OUTPUT / "authorization-control-dashboard.png")
        # Pressing the greyed-out Pause does nothing: Home Assistant passes no press to an
        # unavailable button, so nothing is sent (checked below: it was never pressed).
        await p1s.locator("hui-button-card").filter(has_text="Pause").click()

        # Settings > Repairs says, in plain words, why and what to change on the printer.
        await page.goto(f"{demo.base_url}/config/repairs")
        issue = page.get_by_text(title)
        await expect(issue).to_be_visible(timeout=30_000)
        await issue.click()
        # Home Assistant's dialog shows the issue's text in a slot, outside the <dialog> tree.
        dialog = page.locator("dialog-repairs-issue")
        await expect(dialog.get_by_text(first_sentence)).to_be_visible()
        await expect(dialog.get_by_text("Developer mode")).to_be_visible()
        await page.screenshot(path=OUTPUT / "authorization-control-repair.png")
        # What the dialog says, as a screen reader reads it (the slotted text included).
        shown = await page.get_by_role("dialog").aria_snapshot()
        assert first_sentence in shown
        assert TECHNICAL.search(shown) is None, shown
        save_output("authorization-control-repair.txt", shown)

        # Developer mode switches it off: the repair goes, the buttons come back and work.
        await page.keyboard.press("Escape")
        await _control(demo, P1S, "authorization_control", on=False)
        await expect(page.get_by_text(title)).to_have_count(0, timeout=30_000)
        await page.goto(demo.url)
        # A button's state is the time of its last press; "unknown": never pressed.
        await expect(_button_icon(p1s, "Pause")).to_have_attribute(
            "data-state", "unknown", timeout=10_000
        )
        await expect(status).to_have_text("Printing")
        await p1s.locator("hui-button-card").filter(has_text="Pause").click()
        await expect(status).to_have_text("Paused", timeout=20_000)
    await _stop_demo(demo)


async def test_printer_back_within_10_s_after_its_broker_restarts(
    run_demo: RunDemo, tmp_path: Path
) -> None:
    demo = await run_demo(tmp_path / "config", "--speedup", SPEEDUP)
    await demo.wait_ready()
    async with chromium_page(tmp_path / "chromium", *WINDOW) as page:
        await page.goto(demo.url)
        x1c = _section(page, "X1 Carbon")
        status = _tile_value(x1c, "Status")
        progress = _tile_value(x1c, "Progress")
        unavailable = x1c.get_by_text("Unavailable", exact=True)
        await expect(progress).to_have_text(re.compile(r"^\s*\d+\s*%\s*$"), timeout=60_000)
        await expect(unavailable).to_have_count(0)

        # The printer is switched off: its broker stops answering.
        stopped = time.monotonic()
        await _control(demo, X1C, "stop_broker")
        await expect(status).to_have_text("Unavailable", timeout=10_000)
        await expect(progress).to_have_text("Unavailable")
        await expect(_tile_value(_section(page, "P1S"), "Status")).not_to_have_text("Unavailable")
        OUTPUT.mkdir(exist_ok=True)
        await page.screenshot(path=OUTPUT / "broker-stopped.png")
        # Off long enough for the reconnect delay to reach its cap (part of the scenario).
        await asyncio.sleep(max(0.0, stopped + OUTAGE - time.monotonic()))

        started = time.monotonic()
        await _control(demo, X1C, "start_broker")  # returns once the broker answers again
        answering = time.monotonic()
        await expect(unavailable).to_have_count(0, timeout=RECOVERY_LIMIT * 1000)
        await expect(status).to_have_text(re.compile(r"\w"))
        back = time.monotonic()
        report = (
            f"X1 Carbon back on the dashboard {back - answering:.1f} s after its broker answered "
            f"again ({back - started:.1f} s after it was started, {started - stopped:.1f} s off)"
        )
        print(report)  # noqa: T201  (the measurement issue 17 asks for)
        save_output("broker-restart.txt", report + "\n")
        assert back - started <= RECOVERY_LIMIT, report
        await expect(progress).to_have_text(re.compile(r"^\s*\d+\s*%\s*$"))
        await page.screenshot(path=OUTPUT / "broker-restarted.png")
    await _stop_demo(demo)
