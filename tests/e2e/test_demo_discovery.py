"""The demo's fourth printer shows up under "Discovered" and is added with its access code.

It is a simulated P1P on a loopback address of its own with a real printer's ports, which
announces itself like a real printer (to 127.0.0.1, where the demo's Home Assistant listens).
When it comes back on another address, its announcements move the entry there.
"""

import re
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import expect

from scripts.demo import DISCOVERED, wait_for
from scripts.demo_api import HomeAssistantApi
from simulator.testing import own_loopback_address

from .conftest import OUTPUT, DemoProcess, chromium_page, needs_chromium
from .test_demo import SPEEDUP, RunDemo, _form_field

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("socket_enabled"),
    needs_chromium,
]

DEFAULT_NAME = f"3DP-{DISCOVERED.serial[:3]}-{DISCOVERED.serial[-3:]}"


async def _entries(demo: DemoProcess) -> list[dict[str, object]]:
    async with aiohttp.ClientSession() as session:
        api = HomeAssistantApi(session, demo.base_url)
        await api.login()
        return await api.entries()


def loaded_in(demo: DemoProcess) -> Callable[[], Awaitable[bool]]:
    """Return a check: the discovered printer has exactly one entry, and it is loaded."""

    async def loaded() -> bool:
        added = [e for e in await _entries(demo) if str(e["title"]).endswith(DISCOVERED.serial)]
        return [e["state"] for e in added] == ["loaded"]

    return loaded


async def test_discovered_printer_is_added_with_the_access_code_only(
    run_demo: RunDemo, tmp_path: Path
) -> None:
    demo = await run_demo(tmp_path / "config", "--speedup", SPEEDUP)
    await demo.wait_ready()
    assert any("Discovered: add it with the access code" in line for line in demo.lines)
    access_code = (demo.config / ".demo" / "access_code").read_text(encoding="utf-8").strip()
    host = (demo.config / ".demo" / "discovered_host").read_text(encoding="utf-8").strip()
    assert not [e for e in await _entries(demo) if str(e["title"]).endswith(DISCOVERED.serial)]

    async with chromium_page(tmp_path / "chromium", 1280, 900) as page:
        try:
            await page.goto(f"{demo.base_url}/config/integrations/dashboard")
            await expect(page.get_by_text("Discovered", exact=True)).to_be_visible(timeout=60_000)
            card = page.locator("ha-config-flow-card").filter(has_text=DEFAULT_NAME)
            await expect(card).to_be_visible()
            await expect(card).to_contain_text("Bambu Lab Printer")
            OUTPUT.mkdir(exist_ok=True)
            await page.screenshot(path=OUTPUT / "discovered.png")

            await card.get_by_role("button", name=re.compile("^add$", re.IGNORECASE)).click()
            dialog = page.locator("dialog-data-entry-flow")
            await expect(dialog).to_contain_text(f"serial {DISCOVERED.serial}")
            await expect(dialog).to_contain_text(host)
            # The access code is all there is to type.
            fields = dialog.locator("ha-input, ha-textfield")
            await expect(fields).to_have_count(1)
            await (await _form_field(dialog, "Access code")).fill(access_code)
            await page.screenshot(path=OUTPUT / "discovered-access-code.png")
            await dialog.get_by_role("button", name="Submit").click()
            finish = dialog.get_by_role("button", name="Skip and finish")
            await expect(finish).to_be_visible(timeout=30_000)
            await expect(dialog.get_by_role("textbox", name="Device name")).to_have_value(
                f"{DISCOVERED.model} {DISCOVERED.serial}"
            )
            await finish.click()
            await expect(finish).to_be_hidden()
            await expect(card).to_be_hidden(timeout=30_000)
        finally:
            OUTPUT.mkdir(exist_ok=True)
            await page.screenshot(path=OUTPUT / "discovered-added.png")

    await wait_for(loaded_in(demo), within=30, what="the discovered printer to load")
    demo.send(signal.SIGTERM, group=False)
    assert await demo.wait_exit() == 0

    # The printer gets another address (a new DHCP lease): its announcements move the entry.
    moved = own_loopback_address()
    (demo.config / ".demo" / "discovered_host").write_text(moved + "\n", encoding="utf-8")
    again = await run_demo(tmp_path / "config", "--speedup", SPEEDUP)
    await again.wait_ready()
    assert (again.config / ".demo" / "discovered_host").read_text().strip() == moved
    await wait_for(loaded_in(again), within=60, what="the moved printer to load")
    again.send(signal.SIGTERM, group=False)
    assert await again.wait_exit() == 0
