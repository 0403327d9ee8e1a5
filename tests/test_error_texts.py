"""Bambu's error texts and wiki links in the HMS and print-error entities, and their cache.

The texts come from a fake Bambu server on loopback (an aiohttp test server); what it answers
badly (404, bad JSON, too large, too slow) must leave the integration working with the code
and the wiki link only.
"""

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir

from custom_components.bambu_printer import error_texts
from custom_components.bambu_printer.const import DOMAIN
from custom_components.bambu_printer.error_texts import STORAGE_KEY, async_get_catalog
from custom_components.bambu_printer.job_events import BUS_EVENT

from .mock_client import SERIAL, push_report

HEATBED = {"attr": 0x03000100, "code": 0x00010007}  # 0300_0100_0001_0007, fatal
FIRST_LAYER = {"attr": 0x0C000300, "code": 0x00030007}  # 0C00_0300_0003_0007, common
HEATBED_TEXT = "The heatbed temperature is abnormal; the sensor may have an open circuit."
HEATBED_TEXT_DE = "Die Temperatur des Heizbetts ist abnormal."
CANCELED_TEXT = "The task was canceled."


def answer(language: str = "en", text: str = HEATBED_TEXT) -> dict[str, Any]:
    """Return an answer shaped like Bambu's query.php (data per kind, then per language)."""
    return {
        "result": 0,
        "data": {
            "device_hms": {language: [{"ecode": "0300010000010007", "intro": text}]},
            "device_error": {language: [{"ecode": "0300400C", "intro": CANCELED_TEXT}]},
        },
    }


class FakeBambu:
    """Bambu's error text server on loopback; `handler` decides each answer."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.handler: Callable[[web.Request], Any] = lambda request: web.json_response(
            answer(request.query["lang"])
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(dict(request.query))
        result = self.handler(request)
        if not isinstance(result, web.StreamResponse):
            result = await result
        return result


@pytest.fixture
async def error_text_server(socket_enabled: None) -> AsyncIterator[FakeBambu]:
    """Run the fake server and point the integration at it."""
    fake = FakeBambu()
    app = web.Application()
    app.router.add_get("/query.php", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url("/query.php"))
    with patch.object(error_texts, "ERROR_TEXTS_URL", url):
        yield fake
    await server.close()


def hms_entity(entity_registry: er.EntityRegistry) -> str:
    """Return the HMS sensor's entity id."""
    found = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{SERIAL}_hms_errors")
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("capture", "family"),
    [("MOCK-H2D", "h2"), ("MOCK-X1CMULTIAMS", "x1"), ("MOCK-A1", "x1"), ("P1P", "x1")],
)
@pytest.mark.usefixtures("init_integration")
async def test_hms_wiki_link_follows_model_family(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    family: str,
) -> None:
    """An H2D's HMS code links to the wiki's H2 pages, not the X1 ones."""
    await push_report(hass, mock_printer_client, {"print": {"hms": [HEATBED]}})
    state = hass.states.get(hms_entity(entity_registry))
    assert state is not None
    [code] = state.attributes["codes"]
    assert code["url"] == (
        f"https://wiki.bambulab.com/en/{family}/troubleshooting/hmscode/0300_0100_0001_0007"
    )


async def settle(hass: HomeAssistant) -> None:
    """Let the background fetch and what follows it finish."""
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.usefixtures("init_integration")
async def test_texts_in_attributes_events_and_repair_issue(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    error_text_server: FakeBambu,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The first error fetches the texts once; the sensor, the event and the issue show them."""
    seen: list[dict[str, Any]] = []
    hass.bus.async_listen(BUS_EVENT, lambda event: seen.append(dict(event.data)))
    await push_report(hass, mock_printer_client, {"print": {"hms": [HEATBED]}})
    await settle(hass)
    assert error_text_server.requests == [{"lang": "en", "d": SERIAL[:3]}]
    state = hass.states.get(hms_entity(entity_registry))
    assert state is not None
    assert state.attributes["codes"][0]["text"] == HEATBED_TEXT
    assert seen[0]["error_text"] == HEATBED_TEXT
    issue = issue_registry.async_get_issue(DOMAIN, f"hms_{SERIAL}_0300_0100_0001_0007")
    assert issue is not None
    assert issue.translation_key == "hms_error"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["text"] == HEATBED_TEXT

    await push_report(hass, mock_printer_client, {"print": {"print_error": 0x0300400C}})
    await push_report(hass, mock_printer_client, {"print": {"hms": [HEATBED, FIRST_LAYER]}})
    await settle(hass)
    assert len(error_text_server.requests) == 1  # kept, not asked again
    print_error = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{SERIAL}_print_error")
    assert print_error is not None
    error_state = hass.states.get(print_error)
    assert error_state is not None
    assert error_state.attributes["text"] == CANCELED_TEXT


@pytest.mark.usefixtures("init_integration")
async def test_texts_in_the_users_language_with_english_fallback(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    error_text_server: FakeBambu,
) -> None:
    """German asks for German; a language Bambu does not have falls back to English."""
    hass.config.language = "de"
    error_text_server.handler = lambda request: web.json_response(
        answer(request.query["lang"], HEATBED_TEXT_DE)
    )
    await push_report(hass, mock_printer_client, {"print": {"hms": [HEATBED]}})
    await settle(hass)
    state = hass.states.get(hms_entity(entity_registry))
    assert state is not None
    assert state.attributes["codes"][0]["text"] == HEATBED_TEXT_DE

    hass.config.language = "eo"  # Bambu answers with no texts for it
    error_text_server.handler = lambda request: web.json_response(
        answer("en") if request.query["lang"] == "en" else {"result": 0, "data": {}}
    )
    catalog = async_get_catalog(hass)
    texts = await catalog.async_ensure(SERIAL[:3])
    assert texts is not None
    assert texts.language == "en"
    assert [r["lang"] for r in error_text_server.requests] == ["de", "eo", "en"]


def _huge(_request: web.Request) -> web.Response:
    filler = "x" * (9 * 1024 * 1024)
    return web.Response(text=f'{{"result": 0, "filler": "{filler}"}}')


@pytest.mark.parametrize(
    "handler",
    [
        lambda _request: web.Response(status=404, text="not here"),
        lambda _request: web.Response(text="{not json", content_type="application/json"),
        lambda _request: web.json_response({"result": 1, "data": None}),
        lambda _request: web.json_response([1, 2, 3]),
        _huge,
    ],
    ids=["404", "bad-json", "refused", "not-an-object", "huge"],
)
@pytest.mark.usefixtures("init_integration")
async def test_bad_answers_leave_code_and_link(  # noqa: PLR0917  (fixtures)
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_printer_client: MagicMock,
    error_text_server: FakeBambu,
    issue_registry: ir.IssueRegistry,
    handler: Callable[[web.Request], Any],
) -> None:
    """Whatever Bambu answers badly, the entities keep the code and the wiki link."""
    error_text_server.handler = handler
    await push_report(hass, mock_printer_client, {"print": {"hms": [HEATBED]}})
    await settle(hass)
    state = hass.states.get(hms_entity(entity_registry))
    assert state is not None
    [code] = state.attributes["codes"]
    assert "text" not in code
    assert code["url"].endswith("/x1/troubleshooting/hmscode/0300_0100_0001_0007")
    issue = issue_registry.async_get_issue(DOMAIN, f"hms_{SERIAL}_0300_0100_0001_0007")
    assert issue is not None
    assert issue.translation_key == "hms_error_no_text"
    # A failed attempt is not repeated at every report.
    await push_report(hass, mock_printer_client, {"print": {"hms": [FIRST_LAYER]}})
    await settle(hass)
    assert len(error_text_server.requests) == 1


async def test_cache_survives_restart_and_refreshes_weekly(
    hass: HomeAssistant,
    error_text_server: FakeBambu,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Texts are stored; a new start reads them from storage and asks again after a week."""
    catalog = async_get_catalog(hass)
    assert await catalog.async_ensure("01P") is not None
    assert hass_storage[STORAGE_KEY]["data"]["entries"]["en/01P"]["texts"]["hms"]
    assert len(error_text_server.requests) == 1

    hass.data.pop(error_texts.DATA_CATALOG)  # as after a restart
    restarted = async_get_catalog(hass)
    texts = await restarted.async_ensure("01P")
    assert texts is not None
    assert texts.hms_text("0300_0100_0001_0007") == HEATBED_TEXT
    assert len(error_text_server.requests) == 1

    freezer.tick(timedelta(days=6))
    await restarted.async_ensure("01P")
    assert len(error_text_server.requests) == 1
    freezer.tick(timedelta(days=1, seconds=1))
    error_text_server.handler = lambda _request: web.Response(status=503)
    texts = await restarted.async_ensure("01P")
    assert len(error_text_server.requests) == 2
    assert texts is not None  # the week-old texts stay while Bambu is away
    assert texts.hms_text("0300010000010007") == HEATBED_TEXT
    freezer.tick(timedelta(hours=7))
    error_text_server.handler = lambda request: web.json_response(answer(request.query["lang"]))
    await restarted.async_ensure("01P")
    assert len(error_text_server.requests) == 3


async def test_stored_junk_is_ignored(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    """Storage that is not what the catalog wrote reads as nothing known."""
    hass_storage[STORAGE_KEY] = {
        "version": 1,
        "key": STORAGE_KEY,
        "data": {"entries": {"en/01P": {"fetched_at": "yesterday", "texts": {}}, "en/01S": {}}},
    }
    catalog = async_get_catalog(hass)
    assert await catalog.async_ensure("01P") is None  # offline in tests, nothing stored
    assert catalog.texts("01S") is None
