"""The demo in a real browser: live printer values, a working Pause button, a clean Ctrl-C.

These tests start real processes (``scripts/develop``: Home Assistant, the simulator, one
Mosquitto per printer) and headless Chromium, so they need loopback sockets and take a minute.
"""

import asyncio
import json
import os
import re
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import aiohttp
import pytest
import yaml
from playwright.async_api import Locator, Page, expect

from custom_components.bambu_printer.const import OPTION_READ_ONLY
from scripts.demo import DISCOVERED, PRINTERS, ROOT, USES_HTTP_STORE, wait_for
from scripts.demo_api import HomeAssistantApi

from .conftest import OUTPUT, DemoProcess, chromium_page, needs_chromium

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("socket_enabled")]

type RunDemo = Callable[..., Awaitable[DemoProcess]]

HIDE_SIDEBAR = "localStorage.setItem('dockedSidebar', JSON.stringify('always_hidden'))"
DASHBOARD_FILE = ROOT / "config" / "dashboards" / "printers.yaml"
README_SCREENSHOT = ROOT / "docs" / "dashboard.png"
# Set to refresh the README's screenshot from this run (it is committed, so not on every run).
UPDATE_SCREENSHOT = "BAMBU_UPDATE_SCREENSHOT"
SPEEDUP = "20"  # prints start after ~18 s and then gain 1 % about every second
# Entity ids of the demo printers all contain "_" (unlike service names such as button.press).
ENTITY_ID = re.compile(
    r"\b(?:sensor|binary_sensor|button|camera|light|number|fan|select|update)"
    r"\.[a-z0-9]+_[a-z0-9_]*[a-z0-9]\b"
)
# Resolves once the <img> shows a decoded picture (the MJPEG stream's first frame).
WAIT_FOR_PICTURE = """img => new Promise(resolve => {
  const check = () => (img.naturalWidth > 0 ? resolve(true) : setTimeout(check, 200));
  check();
})"""
TRANSLATIONS = ROOT / "custom_components" / "bambu_printer" / "translations" / "en.json"
PHONE: Final = {"width": 390, "height": 844}  # a common phone's CSS pixels
# Texts the page cuts short with an ellipsis, searched through every shadow root below.
CUT_TEXTS = """root => {
  const cut = [];
  const visit = node => {
    for (const el of node.querySelectorAll('*')) {
      const style = getComputedStyle(el);
      if (style.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1) {
        cut.push(el.textContent.trim());
      }
      if (el.shadowRoot) visit(el.shadowRoot);
    }
  };
  visit(root);
  if (root.shadowRoot) visit(root.shadowRoot);
  return cut;
}"""
# Puts text in place of a shown text (through every shadow root); false when it is not shown.
REPLACE_TEXT = """(root, [shown, text]) => {
  const visit = node => {
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      if (walker.currentNode.data.trim() === shown) {
        walker.currentNode.data = text;
        return true;
      }
    }
    for (const el of node.querySelectorAll('*')) {
      if (el.shadowRoot && visit(el.shadowRoot)) return true;
    }
    return false;
  };
  return visit(root) || (root.shadowRoot !== null && visit(root.shadowRoot));
}"""
AMS_SLOTS = ("ams_a_tray_1", "ams_a_tray_2", "ams_a_tray_3", "ams_a_tray_4", "external_spool")


def _dashboard_entity_ids() -> set[str]:
    """Return every entity the dashboard names, including those its AMS templates build."""
    text = DASHBOARD_FILE.read_text(encoding="utf-8")
    yaml.safe_load(text)  # the file is plain YAML, no Home Assistant tags
    ids = set(ENTITY_ID.findall(text))
    # Every printer's markdown cards use the same sensors after their own prefix.
    keys = set(re.findall(r"p ~ '([a-z0-9_]+)'", text))
    for prefix in re.findall(r"set p = '(sensor\.[a-z0-9_]+_)'", text):
        ids.update(
            f"{prefix}{slot}_{kind}"
            for slot in AMS_SLOTS
            for kind in ("color", "filament", "remaining")
            # An external spool's remaining filament is never measured, so it has no sensor
            # (the template's has_value() leaves its cell empty).
            if (slot, kind) != ("external_spool", "remaining")
        )
        ids.update(f"{prefix}{key}" for key in keys)
    return ids


def _section(page: Page, heading: str) -> Locator:
    """Return the dashboard section of one printer (found by its heading card)."""
    return page.locator("hui-section").filter(
        has=page.locator("hui-heading-card", has_text=heading)
    )


def _tile_value(section: Locator, name: str) -> Locator:
    """Return the state text of the tile card called ``name``."""
    return section.locator("hui-tile-card").filter(has_text=name).locator("[slot=secondary]")


async def _percent(locator: Locator) -> int:
    text = (await locator.inner_text()).strip()
    match = re.fullmatch(r"(\d+)\s*%", text)
    assert match, f"progress shows {text!r}, not a percentage"
    return int(match.group(1))


async def _wait_for_progress_change(progress: Locator) -> tuple[int, int]:
    """Wait until the shown progress changes (the print starts after calibration)."""
    first = await _percent(progress)
    await expect(progress).not_to_have_text(re.compile(rf"^\s*{first}\s*%\s*$"), timeout=90_000)
    return first, await _percent(progress)


async def _api(session: aiohttp.ClientSession, demo: DemoProcess) -> HomeAssistantApi:
    api = HomeAssistantApi(session, demo.base_url)
    await api.login()
    return api


async def _translated_stage(demo: DemoProcess, entity_id: str) -> str:
    """Return the stage as the user reads it (the state's name in translations/en.json)."""
    async with aiohttp.ClientSession() as session:
        state = (await (await _api(session, demo)).state(entity_id))["state"]
    names = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))["entity"]["sensor"]
    return str(names["current_stage"]["state"][state])


async def _check_read_only_printer(page: Page, demo: DemoProcess) -> None:
    """A printer in read-only mode has no controls: its section shows none and no warnings."""
    async with aiohttp.ClientSession() as session:
        api = await _api(session, demo)
        entry = next(e for e in await api.entries() if e["title"].endswith("03900A000000001"))
        await api.set_options(entry["entry_id"], {OPTION_READ_ONLY: True})

        async def controls_gone() -> bool:
            return "button.a1_03900a000000001_pause_print" not in await api.states()

        await wait_for(controls_gone, within=30, what="the A1's controls to go")
    await page.reload()
    a1 = _section(page, "A1")
    await expect(_tile_value(a1, "Status")).to_have_text(re.compile(r"\w"), timeout=30_000)
    await page.screenshot(path=OUTPUT / "dashboard-read-only.png")
    await expect(page.locator("hui-warning")).to_have_count(0)
    await expect(page.get_by_text("Entity not found")).to_have_count(0)
    await expect(a1.locator("hui-button-card")).to_have_count(0)
    await expect(_section(page, "P1S").locator("hui-button-card")).to_have_count(4)


async def _check_phone_layout(page: Page, stage: str) -> None:
    """On a phone-sized screen every card of a printer fits the width and no text is cut."""
    await page.set_viewport_size(PHONE)
    await page.reload()
    p1s = _section(page, "P1S")
    await expect(_tile_value(p1s, "Progress")).to_have_text(re.compile(r"\d+\s*%"), timeout=30_000)
    await page.wait_for_timeout(1_000)  # the sections settle into one column
    OUTPUT.mkdir(exist_ok=True)
    await page.screenshot(path=OUTPUT / "dashboard-phone.png", full_page=True)
    cards = p1s.locator(
        "hui-heading-card, hui-picture-entity-card, hui-tile-card, hui-markdown-card, "
        "hui-glance-card, hui-button-card"
    )
    assert await cards.count() >= 10
    for index in range(await cards.count()):
        box = await cards.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"], f"card {index} is wider than the screen"
    assert await p1s.evaluate(CUT_TEXTS) == []
    # Even the longest stage name is shown whole.
    stages = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))["entity"]["sensor"]
    longest = max(stages["current_stage"]["state"].values(), key=len)
    summary = p1s.locator("hui-markdown-card").filter(has_text="Layer")
    assert await summary.evaluate(REPLACE_TEXT, [stage, longest])
    await expect(summary).to_contain_text(longest)
    assert await summary.evaluate(CUT_TEXTS) == []
    box = await summary.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]


@needs_chromium
async def test_dashboard_in_chromium_then_ctrl_c(run_demo: RunDemo, tmp_path: Path) -> None:
    demo = await run_demo(tmp_path / "config", "--speedup", SPEEDUP)
    await demo.wait_ready()
    assert demo.url == f"{demo.base_url}/bambu-printers"
    assert len(demo.started("-m scripts.demo_hass")) == 1
    assert len(demo.started("-m simulator")) == 1
    assert len(demo.started("mosquitto")) == len([*PRINTERS, DISCOVERED])

    # Tall enough for the whole dashboard: Home Assistant scrolls an inner element, which a
    # full-page screenshot would cut under the sticky toolbar. Docked sidebar hidden: the
    # screenshot is about the printers.
    async with chromium_page(tmp_path / "chromium", 1500, 1360, HIDE_SIDEBAR) as page:
        # The trusted-networks provider logs 127.0.0.1 in without a password.
        await page.goto(demo.url)
        p1s = _section(page, "P1S")
        await expect(p1s).to_have_count(1, timeout=60_000)
        status = _tile_value(p1s, "Status")
        progress = _tile_value(p1s, "Progress")
        await expect(status).to_have_text("Printing", timeout=30_000)
        await expect(progress).to_have_text(re.compile(r"^\s*\d+\s*%\s*$"))
        first, last = await _wait_for_progress_change(progress)
        assert last > first
        # At a glance: a progress bar, the layer, the end time and time left, the stage.
        bar = p1s.locator("hui-tile-card").filter(has_text="Progress")
        await expect(bar.locator("hui-bar-gauge-card-feature")).to_be_visible()
        summary = p1s.locator("hui-markdown-card").filter(has_text="Layer")
        await expect(summary).to_contain_text(re.compile(r"Layer \d+ of \d+"))
        await expect(summary).to_contain_text(re.compile(r"Ends at \d\d:\d\d, .*\d+ min left"))
        # The HMS count carries its name; the camera picture's text reads well.
        badges = p1s.locator("hui-heading-card")
        await expect(badges).to_contain_text(re.compile(r"HMS errors\W*0\b"))

        await p1s.locator("hui-button-card").filter(has_text="Pause").click()
        await expect(status).to_have_text("Paused", timeout=20_000)

        # Every printer shows live values, the P1S its camera picture.
        camera = p1s.locator("hui-picture-entity-card img").first
        await expect(camera).to_have_attribute(
            "alt", "Preview of the P1S 01P00A000000001 Chamber camera."
        )
        async with asyncio.timeout(30):
            await camera.evaluate(WAIT_FOR_PICTURE)
        # The plate's picture of the job, read from its 3mf on the printer over FTPS.
        cover = p1s.locator("hui-picture-entity-card").filter(has_text="Plate").locator("img")
        await expect(cover).to_have_count(1, timeout=60_000)
        async with asyncio.timeout(60):
            await cover.evaluate(WAIT_FOR_PICTURE)
        for heading in ("X1 Carbon", "P1S", "A1"):
            shown = _tile_value(_section(page, heading), "Progress")
            await expect(shown).to_have_text(re.compile(r"^\s*\d+\s*%\s*$"))
            await expect(shown).not_to_have_text(re.compile(r"^\s*0\s*%"), timeout=60_000)
        await expect(page.get_by_text("Unavailable", exact=True)).to_have_count(0)
        await page.mouse.move(0, 0)  # no hover highlight on the Pause button
        # Pressing Pause scrolled the page: back to the printers' headings.
        await _section(page, "X1 Carbon").locator("hui-heading-card").scroll_into_view_if_needed()
        # The camera sends a frame a second and browsers show the one before the newest.
        await page.wait_for_timeout(3_000)
        OUTPUT.mkdir(exist_ok=True)
        screenshot = OUTPUT / "dashboard.png"
        await page.screenshot(path=screenshot)
        # The stage text is shown whole, in the user's words (a tile cut it short).
        stage = await _translated_stage(demo, "sensor.p1s_01p00a000000001_current_stage")
        await expect(summary).to_contain_text(stage)
        await _check_read_only_printer(page, demo)
        await _check_phone_layout(page, stage)
    if os.environ.get(UPDATE_SCREENSHOT):
        README_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(screenshot, README_SCREENSHOT)

    # Ctrl-C in a terminal: SIGINT to the whole foreground process group.
    demo.send(signal.SIGINT, group=True)
    assert await demo.wait_exit() == 0
    assert demo.lines[-1] == "[demo] stopped"
    assert demo.leftovers() == []


async def test_second_run_reuses_config_and_sigterm_stops_everything(
    run_demo: RunDemo, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    first = await run_demo(config, "--speedup", SPEEDUP)
    await first.wait_ready()
    assert sum("] added " in line for line in first.lines) == len(PRINTERS)
    first.send(signal.SIGTERM, group=False)
    assert await first.wait_exit() == 0
    assert first.leftovers() == []

    second = await run_demo(config, "--speedup", SPEEDUP)
    await second.wait_ready()
    assert not any("] added " in line for line in second.lines)
    assert sum("] updated " in line for line in second.lines) == len(PRINTERS)
    assert second.ready_after < 60

    async with aiohttp.ClientSession() as session:
        api = await _api(session, second)
        entries = await api.entries()
        assert sorted(entry["title"].split()[-1] for entry in entries) == sorted(
            printer.serial for printer in PRINTERS
        )
        assert {entry["state"] for entry in entries} == {"loaded"}
        states = await api.states()
    if USES_HTTP_STORE:
        # The new port took effect as confirmed settings, not as a trial that would stop
        # Home Assistant after five minutes; configuration.yaml no longer names an `http:`.
        stored = json.loads((config / ".storage" / "http").read_text(encoding="utf-8"))["data"]
        assert stored["pending"] is None
        assert stored["stable"]["server_port"] == second.port
        assert stored["stable"]["server_host"] == ["127.0.0.1"]
        assert "\nhttp:" not in (config / "configuration.yaml").read_text(encoding="utf-8")
    missing = sorted(_dashboard_entity_ids() - states.keys())
    assert missing == [], "the dashboard names entities Home Assistant does not have"
    # Control buttons may be unavailable by design (e.g. Resume while a print runs, once the
    # buttons follow the job); every other card shows a live value.
    unavailable = sorted(
        entity_id
        for entity_id in _dashboard_entity_ids()
        if states[entity_id]["state"] == "unavailable" and not entity_id.startswith("button.")
    )
    assert unavailable == []

    # `kill <pid>`: SIGTERM to the demo alone; it stops what it started.
    second.send(signal.SIGTERM, group=False)
    assert await second.wait_exit() == 0
    assert second.leftovers() == []
    assert len(second.seen) >= 2 + len(PRINTERS)  # HA, simulator, brokers were tracked


@needs_chromium
async def test_add_a_printer_started_by_hand_through_the_ui(
    run_demo: RunDemo, tmp_path: Path
) -> None:
    # The demo and `python -m simulator` share one kept CA (here a folder of the test's own).
    ca_dir = tmp_path / "ca"
    demo = await run_demo(tmp_path / "config", "--speedup", SPEEDUP, "--ca-dir", str(ca_dir))
    await demo.wait_ready()
    # The demo says how to start such a printer.
    assert any(f"`python -m simulator --ca-dir {ca_dir.resolve()}`" in line for line in demo.lines)
    json_out = tmp_path / "by-hand.json"
    simulator = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--printers",
        "P1P",
        "--ca-dir",
        str(ca_dir),
        "--json-out",
        str(json_out),
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert simulator.stdout is not None
        async with asyncio.timeout(30):
            while not (await simulator.stdout.readline()).startswith(b"simulator: running"):
                pass
        printer = json.loads(json_out.read_text(encoding="utf-8"))["printers"][0]
        async with chromium_page(tmp_path / "chromium", 1280, 1000) as page:
            await _add_printer_in_the_ui(page, demo, printer)
        async with aiohttp.ClientSession() as session:
            api = await _api(session, demo)
            entries = await api.entries()
        added = [entry for entry in entries if entry["title"].endswith(printer["serial"])]
        assert [entry["state"] for entry in added] == ["loaded"]
    finally:
        if simulator.returncode is None:
            simulator.terminate()
        async with asyncio.timeout(20):
            await simulator.communicate()
    demo.send(signal.SIGTERM, group=False)
    assert await demo.wait_exit() == 0


async def _form_field(dialog: Locator, label: str) -> Locator:
    """Return the input of the form field labelled ``label``.

    Found by the field element's own label: newer frontends (``ha-input``) do not tie the
    label to the input in a way Playwright's ``get_by_label`` sees across shadow roots.
    """
    fields = dialog.locator("ha-input, ha-textfield")
    await expect(fields.first).to_be_visible()
    for field in await fields.all():
        if await field.evaluate("element => element.label") == label:
            return field.locator("input")
    raise AssertionError(f"no form field labelled {label!r}")


async def _add_printer_in_the_ui(page: Page, demo: DemoProcess, printer: dict[str, Any]) -> None:
    """Add the printer as a person would: integrations page, "Add integration", the form."""
    try:
        await page.goto(f"{demo.base_url}/config/integrations/dashboard")
        await page.get_by_text("Add integration").click()
        picker = page.locator("dialog-add-integration")
        await picker.locator("input").first.fill("Bambu")
        await picker.get_by_text("Bambu Lab Printer").click()
        dialog = page.locator("dialog-data-entry-flow")
        local = dialog.get_by_text("Local network (access code)")
        # The demo's discovered P1P waits to be added: Home Assistant offers it first.
        another = page.get_by_text("Set up another instance of Bambu Lab Printer")
        await expect(local.or_(another)).to_be_visible()
        if await another.is_visible():
            await another.click()
        await local.click()
        await (await _form_field(dialog, "Host")).fill(str(printer["host"]))
        await (await _form_field(dialog, "Serial number")).fill(str(printer["serial"]))
        await (await _form_field(dialog, "Access code")).fill(str(printer["access_code"]))
        await dialog.get_by_text("Advanced").click()
        await (await _form_field(dialog, "MQTT port")).fill(str(printer["port"]))
        await dialog.get_by_role("button", name="Submit").click()
        # The last step ("Device created"; "Name and assign" on newer frontends) names it.
        finish = dialog.get_by_role("button", name="Skip and finish")
        await expect(finish).to_be_visible(timeout=30_000)
        await expect(dialog.get_by_role("textbox", name="Device name")).to_have_value(
            f"{printer['model']} {printer['serial']}"
        )
        await finish.click()
        await expect(finish).to_be_hidden()
    finally:
        OUTPUT.mkdir(exist_ok=True)
        await page.screenshot(path=OUTPUT / "add_printer.png")
