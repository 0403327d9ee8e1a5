"""Bambu's error texts: the request, the checks on the answer, and wiki links per family."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from custom_components.bambu_printer.printer.error_texts import (
    WIKI_HOME,
    ErrorTexts,
    ErrorTextsUnavailable,
    async_fetch_error_texts,
    bambu_language,
    parse_error_texts,
    wiki_url,
)
from custom_components.bambu_printer.printer.models import PrinterModel

HMS = "0300010000010007"


def answer(**sections: Any) -> dict[str, Any]:
    """Return a success answer with the given sections."""
    return {"result": 0, "data": sections}


@pytest.mark.parametrize(
    ("model", "page"),
    [
        (PrinterModel.X1C, "x1"),
        (PrinterModel.P1S, "x1"),
        (PrinterModel.A1_MINI, "x1"),
        (PrinterModel.H2D, "h2"),
        (PrinterModel.H2C, "h2"),
        (PrinterModel.P2S, "p2s"),
        (PrinterModel.X2D, "x2d"),
    ],
)
def test_wiki_page_per_family(model: PrinterModel, page: str) -> None:
    """Each family's HMS pages live under its own wiki section."""
    assert wiki_url(model, "0300_0100_0001_0007") == (
        f"https://wiki.bambulab.com/en/{page}/troubleshooting/hmscode/0300_0100_0001_0007"
    )


@pytest.mark.parametrize("model", [PrinterModel.A2L, PrinterModel.UNKNOWN, None])
def test_wiki_index_without_a_known_family(model: PrinterModel | None) -> None:
    """Without a known section, the wiki's HMS index (never another family's page)."""
    assert wiki_url(model, "0300_0100_0001_0007") == WIKI_HOME


@pytest.mark.parametrize(
    ("tag", "bambu"),
    [("en", "en"), ("de", "de"), ("pt-BR", "pt-br"), ("zh-Hans", "zh-cn"), ("", "en")],
)
def test_language_names(tag: str, bambu: str) -> None:
    """Home Assistant's language tags become Bambu's names."""
    assert bambu_language(tag) == bambu


def test_parse_picks_the_language_and_skips_junk() -> None:
    """Exact or prefix language match; entries that are not codes with text are left out."""
    data = answer(
        device_hms={
            "fr": [{"ecode": HMS, "intro": "Français"}],
            "en-US": [
                {"ecode": HMS.lower(), "intro": "  Heatbed\n  abnormal. "},
                {"ecode": "XYZ", "intro": "not a code"},
                {"ecode": "0300010000010008", "intro": " "},
                {"ecode": 7, "intro": "number"},
                "junk",
            ],
        },
        device_error={"en": [{"ecode": "0300400C", "intro": "The task was canceled."}]},
    )
    texts = parse_error_texts(data, "en")
    assert texts.hms == {HMS: "Heatbed abnormal."}
    assert texts.hms_text("0300_0100_0001_0007") == "Heatbed abnormal."
    assert texts.print_error_text("0300_400C") == "The task was canceled."
    assert texts.print_error_text("0300_4000") is None
    assert ErrorTexts.from_json(texts.to_json()) == texts


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"result": 1},
        {"result": 0},
        {"result": 0, "data": []},
        answer(device_hms={"fr": [{"ecode": HMS, "intro": "x"}]}),
        answer(device_hms={"en": "x"}, device_error=[]),
    ],
)
def test_parse_refuses_answers_without_texts(data: Any) -> None:
    """Anything but a success with texts in the language is refused."""
    with pytest.raises(ErrorTextsUnavailable):
        parse_error_texts(data, "en")


def test_stored_data_is_checked() -> None:
    """Stored texts are checked like an answer: wrong keys and values are dropped."""
    assert ErrorTexts.from_json(None) is None
    assert ErrorTexts.from_json({"language": 1}) is None
    texts = ErrorTexts.from_json(
        {
            "language": "en",
            "hms": {HMS: "ok", "bad": "x", "0300010000010008": 3},
            "print_errors": [],
        }
    )
    assert texts == ErrorTexts("en", {HMS: "ok"}, {})


@pytest.fixture
async def server(socket_enabled: None) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A loopback server whose answer a test sets in `behaviour`."""
    behaviour: dict[str, Any] = {"body": b"{}", "status": 200, "delay": 0.0, "length": True}

    async def handle(request: web.Request) -> web.StreamResponse:
        behaviour["query"] = dict(request.query)
        await asyncio.sleep(behaviour["delay"])
        if behaviour["length"]:
            return web.Response(body=behaviour["body"], status=behaviour["status"])
        response = web.StreamResponse(status=behaviour["status"])
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(4):
            await response.write(behaviour["body"])
        return response

    app = web.Application()
    app.router.add_get("/query.php", handle)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield str(test_server.make_url("/query.php")), behaviour
    await test_server.close()


async def test_fetch_sends_language_and_prefix(server: tuple[str, dict[str, Any]]) -> None:
    """The request names Bambu's language and the serial prefix; the answer is parsed."""
    url, behaviour = server
    behaviour["body"] = (
        b'{"result": 0, "data": {"device_hms": {"de": [{"ecode": "' + HMS.encode() + b'", '
        b'"intro": "Heizbett"}]}}}'
    )
    async with aiohttp.ClientSession() as session:
        texts = await async_fetch_error_texts(session, "de", "094", url=url)
    assert behaviour["query"] == {"lang": "de", "d": "094"}
    assert texts.hms_text(HMS) == "Heizbett"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": 404}, "HTTP 404"),
        ({"body": b"<html>", "status": 200}, "not JSON"),
        ({"body": b"x" * 2048}, "too large"),
        ({"body": b"x" * 512, "length": False}, "too large"),
        ({"delay": 1.0}, "no answer in time"),
    ],
)
async def test_fetch_refuses_bad_answers(
    server: tuple[str, dict[str, Any]], changes: dict[str, Any], message: str
) -> None:
    """Errors, junk, oversized answers (announced or streamed) and slow servers are refused."""
    url, behaviour = server
    behaviour.update(changes)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ErrorTextsUnavailable, match=message):
            await async_fetch_error_texts(
                session, "en", "01P", url=url, timeout=0.3, max_bytes=1024
            )


async def test_fetch_without_a_server(socket_enabled: None) -> None:
    """Nobody listening (a LAN-only home): unavailable, not a crash."""
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ErrorTextsUnavailable):
            await async_fetch_error_texts(session, "en", "01P", url="http://127.0.0.1:9/query.php")
