"""Bambu's own words for HMS and print-error codes, per model and language, and wiki links.

Bambu publishes the texts its apps show at ``https://e.bambulab.com/query.php?lang=<lang>&d=<serial
prefix>``: ``{"result": 0, "data": {"device_hms": {"<lang>": [{"ecode", "intro"}]},
"device_error": {...}}}``. This module builds that request, checks and parses the answer (it
comes from the internet: sizes are capped, anything unexpected is refused), and names the wiki
page of an HMS code for a model's family. Caching is the caller's business.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp

from .errors import BambuError
from .models import PrinterModel

_LOGGER = logging.getLogger(__name__)

ERROR_TEXTS_URL: Final = "https://e.bambulab.com/query.php"
DEFAULT_TIMEOUT: Final = 20.0  # as long as Bambu Studio waits for the same request
MAX_ANSWER_BYTES: Final = 8 * 1024 * 1024  # one model and language is about 1 MB
MAX_ENTRIES: Final = 20_000  # per kind; Bambu lists about 5000 HMS codes and 1000 print errors
MAX_TEXT: Final = 2000  # characters of one text
FALLBACK_LANGUAGE: Final = "en"

WIKI_HOME: Final = "https://wiki.bambulab.com/en/hms/home"
_WIKI_PAGE: Final = "https://wiki.bambulab.com/en/{section}/troubleshooting/hmscode/{code}"
# Home Assistant language tags whose Bambu name differs.
_LANGUAGES: Final[Mapping[str, str]] = {"zh-hans": "zh-cn", "zh": "zh-cn", "zh-hant": "zh-tw"}
_HEX_DIGITS: Final = frozenset("0123456789ABCDEF")


class ErrorTextsUnavailable(BambuError):
    """Bambu's error texts could not be had (offline, refused, or an unexpected answer)."""


def bambu_language(language: str) -> str:
    """Return Bambu's name of a Home Assistant language tag ("pt-BR" -> "pt-br")."""
    tag = language.strip().lower().replace("_", "-")
    return _LANGUAGES.get(tag, tag) or FALLBACK_LANGUAGE


def wiki_url(model: PrinterModel | None, hms_code: str) -> str:
    """Return the wiki page of an HMS code for the model's section; the HMS index if unknown."""
    section = model.wiki_section if model is not None else None
    if section is None:
        return WIKI_HOME
    return _WIKI_PAGE.format(section=section, code=hms_code)


def _key(code: str) -> str:
    """Return a code as Bambu's list names it: upper-case hex without separators."""
    return code.replace("_", "").replace("-", "").strip().upper()


@dataclass(frozen=True, slots=True)
class ErrorTexts:
    """The texts of one model family (serial prefix) in one language."""

    language: str
    hms: Mapping[str, str] = field(default_factory=dict)  # "0300010000010007": text
    print_errors: Mapping[str, str] = field(default_factory=dict)  # "0300400C": text

    def hms_text(self, code: str) -> str | None:
        """Return the text of an HMS code ("0300_0100_0001_0007"), None when Bambu has none."""
        return self.hms.get(_key(code)) or None

    def print_error_text(self, code: str) -> str | None:
        """Return the text of a print error ("0300_400C"), None when Bambu has none."""
        return self.print_errors.get(_key(code)) or None

    def to_json(self) -> dict[str, Any]:
        """Return the texts as plain JSON data, for storage."""
        return {
            "language": self.language,
            "hms": dict(self.hms),
            "print_errors": dict(self.print_errors),
        }

    @classmethod
    def from_json(cls, data: Any) -> ErrorTexts | None:
        """Return texts stored by `to_json`; None for anything else."""
        if not isinstance(data, Mapping) or not isinstance(data.get("language"), str):
            return None
        hms = _clean_map(data.get("hms"), 16)
        errors = _clean_map(data.get("print_errors"), 8)
        return cls(data["language"], hms, errors)


def _clean_map(data: Any, digits: int) -> dict[str, str]:
    if not isinstance(data, Mapping):
        return {}
    return {
        key: value[:MAX_TEXT]
        for key, value in list(data.items())[:MAX_ENTRIES]
        if _is_code(key, digits) and isinstance(value, str)
    }


def _is_code(key: Any, digits: int) -> bool:
    return isinstance(key, str) and len(key) == digits and set(key) <= _HEX_DIGITS


def _entries(section: Any, language: str, digits: int) -> dict[str, str] | None:
    """Return one kind's texts in `language` from the answer; None when it has none."""
    if not isinstance(section, Mapping):
        return None
    names = [name for name in section if isinstance(name, str)]
    exact = [name for name in names if name.lower() == language]
    prefix = [name for name in names if name.lower().startswith(language.split("-", maxsplit=1)[0])]
    chosen = [*exact, *prefix]
    entries = section.get(chosen[0]) if chosen else None
    if not isinstance(entries, list):
        return None
    texts: dict[str, str] = {}
    for entry in entries[:MAX_ENTRIES]:
        if not isinstance(entry, Mapping):
            continue
        code, text = entry.get("ecode"), entry.get("intro")
        if not isinstance(code, str) or not isinstance(text, str):
            continue
        key = _key(code)
        if _is_code(key, digits) and text.strip():
            texts[key] = " ".join(text.split())[:MAX_TEXT]
    return texts


def parse_error_texts(data: Any, language: str) -> ErrorTexts:
    """Check and read Bambu's answer; raise ErrorTextsUnavailable when it has no texts."""
    if not isinstance(data, Mapping) or data.get("result") != 0:
        raise ErrorTextsUnavailable("Bambu's error texts: the answer is not a success")
    body = data.get("data")
    if not isinstance(body, Mapping):
        raise ErrorTextsUnavailable("Bambu's error texts: the answer carries no data")
    hms = _entries(body.get("device_hms"), language, 16)
    errors = _entries(body.get("device_error"), language, 8)
    if not hms and not errors:
        raise ErrorTextsUnavailable(f"Bambu's error texts: none in language {language!r}")
    return ErrorTexts(language, hms or {}, errors or {})


async def async_fetch_error_texts(
    session: aiohttp.ClientSession,
    language: str,
    serial_prefix: str,
    *,
    url: str = ERROR_TEXTS_URL,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109  (one request, one limit)
    max_bytes: int = MAX_ANSWER_BYTES,
) -> ErrorTexts:
    """Ask Bambu for the texts of a model (serial prefix) in a language (Bambu's name)."""
    params = {"lang": language, "d": serial_prefix}
    try:
        async with asyncio.timeout(timeout), session.get(url, params=params) as response:
            if response.status != 200:
                raise ErrorTextsUnavailable(f"Bambu's error texts: HTTP {response.status}")
            if (response.content_length or 0) > max_bytes:
                raise ErrorTextsUnavailable("Bambu's error texts: the answer is too large")
            raw = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                raw.extend(chunk)
                if len(raw) > max_bytes:
                    raise ErrorTextsUnavailable("Bambu's error texts: the answer is too large")
    except TimeoutError:
        raise ErrorTextsUnavailable("Bambu's error texts: no answer in time") from None
    except aiohttp.ClientError as err:
        raise ErrorTextsUnavailable(f"Bambu's error texts: {type(err).__name__}") from None
    try:
        data = json.loads(bytes(raw).decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        raise ErrorTextsUnavailable("Bambu's error texts: the answer is not JSON") from None
    texts = parse_error_texts(data, language)
    _LOGGER.debug(
        "Error texts for %s in %s: %d HMS, %d print errors",
        serial_prefix,
        language,
        len(texts.hms),
        len(texts.print_errors),
    )
    return texts
