"""Bambu's error texts in the user's language: fetched when first needed, kept a week.

One catalog per Home Assistant instance, shared by every printer. Texts come from Bambu's
server through Home Assistant's HTTP session and are kept in Home Assistant's storage, so a
restart does not ask again; they are asked for again at most once a week. Without an answer
(a LAN-only home) the code and the wiki link are all there is, and nothing else suffers.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .printer.error_texts import (
    ERROR_TEXTS_URL,
    FALLBACK_LANGUAGE,
    ErrorTexts,
    ErrorTextsUnavailable,
    async_fetch_error_texts,
    bambu_language,
)

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = f"{DOMAIN}.error_texts"
STORAGE_VERSION: Final = 1
REFRESH_AFTER: Final = timedelta(days=7)  # Bambu adds codes with new firmware, not daily
RETRY_AFTER: Final = timedelta(hours=6)  # after a failed attempt (offline): ask again later
DATA_CATALOG: HassKey[ErrorTextCatalog] = HassKey(f"{DOMAIN}_error_texts")


def async_get_catalog(hass: HomeAssistant) -> ErrorTextCatalog:
    """Return the instance's catalog, created on first use."""
    catalog = hass.data.get(DATA_CATALOG)
    if catalog is None:
        catalog = hass.data[DATA_CATALOG] = ErrorTextCatalog(hass)
    return catalog


class ErrorTextCatalog:
    """Texts per (language, serial prefix), from storage or Bambu, at most weekly."""

    def __init__(self, hass: HomeAssistant) -> None:
        self._hass = hass
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self._entries: dict[str, tuple[datetime, ErrorTexts]] = {}
        self._failed: dict[str, datetime] = {}
        self._loading: dict[str, asyncio.Future[ErrorTexts | None]] = {}
        self._loaded = False

    @property
    def language(self) -> str:
        """Return Bambu's name of the user's language."""
        return bambu_language(self._hass.config.language)

    def _key(self, serial_prefix: str) -> str:
        return f"{self.language}/{serial_prefix}"

    @callback
    def texts(self, serial_prefix: str) -> ErrorTexts | None:
        """Return the texts known now for a model (serial prefix), in the user's language."""
        entry = self._entries.get(self._key(serial_prefix))
        return entry[1] if entry is not None else None

    @callback
    def needs_fetch(self, serial_prefix: str) -> bool:
        """Return whether to ask Bambu: nothing known or a week old, and no recent failure."""
        key = self._key(serial_prefix)
        now = dt_util.utcnow()
        failed = self._failed.get(key)
        if failed is not None and now - failed < RETRY_AFTER:
            return False
        entry = self._entries.get(key)
        return not self._loaded or entry is None or now - entry[0] >= REFRESH_AFTER

    async def async_ensure(self, serial_prefix: str) -> ErrorTexts | None:
        """Return the texts for a model, asking Bambu first when that is due."""
        await self._async_load()
        if not self.needs_fetch(serial_prefix):
            return self.texts(serial_prefix)
        key = self._key(serial_prefix)
        pending = self._loading.get(key)
        if pending is None:
            pending = self._hass.loop.create_future()
            self._loading[key] = pending
            try:
                pending.set_result(await self._async_fetch(key, serial_prefix))
            finally:
                del self._loading[key]
                if not pending.done():  # the fetch was cancelled (entry unloaded): so are waiters
                    pending.cancel()
        return await asyncio.shield(pending)

    async def _async_load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        stored = await self._store.async_load() or {}
        for key, entry in stored.get("entries", {}).items():
            fetched = dt_util.parse_datetime(str(entry.get("fetched_at")))
            texts = ErrorTexts.from_json(entry.get("texts"))
            if fetched is not None and texts is not None:
                self._entries[key] = (fetched, texts)

    async def _async_fetch(self, key: str, serial_prefix: str) -> ErrorTexts | None:
        session = async_get_clientsession(self._hass)
        language = self.language
        try:
            try:
                texts = await async_fetch_error_texts(
                    session, language, serial_prefix, url=ERROR_TEXTS_URL
                )
            except ErrorTextsUnavailable:
                if language == FALLBACK_LANGUAGE:
                    raise
                texts = await async_fetch_error_texts(
                    session, FALLBACK_LANGUAGE, serial_prefix, url=ERROR_TEXTS_URL
                )
        except ErrorTextsUnavailable as err:
            _LOGGER.debug("No error texts for %s: %s", serial_prefix, err)
            self._failed[key] = dt_util.utcnow()
            return self.texts(serial_prefix)
        self._failed.pop(key, None)
        self._entries[key] = (dt_util.utcnow(), texts)
        await self._store.async_save(self._data_to_save())
        return texts

    @callback
    def _data_to_save(self) -> dict[str, Any]:
        return {
            "entries": {
                key: {"fetched_at": fetched.isoformat(), "texts": texts.to_json()}
                for key, (fetched, texts) in self._entries.items()
            }
        }
