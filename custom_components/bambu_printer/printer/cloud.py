"""Bambu cloud HTTP client: sign in, find the account's printers, build cloud MQTT credentials.

Many people do not know their printer's access code, or run it in cloud mode. Signing in with the
Bambu account gives both: the bind list carries each printer's access code, and the account token
opens the cloud MQTT broker. The client talks to the service with the caller's
``aiohttp.ClientSession`` (in Home Assistant the shared one), keeps no state between calls (a
config flow can resume any step), never stores the password, and never puts a password, email
code, two-factor key or token into logs, reprs or exception messages.

Sign-in is a small state machine driven by the caller::

    result = await client.async_login(email, password)
    if isinstance(result, NeedsVerifyCode):  # the service wants an email code
        await client.async_request_verify_code(email)
        result = await client.async_login_with_code(email, code_from_user)
    elif isinstance(result, NeedsTfa):  # two-factor authentication is on
        result = await client.async_login_with_tfa(result.tfa_key, code_from_app)
    account = await client.async_get_account(result)
    printers = await client.async_get_printers(account.token)
"""

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http.cookies import Morsel, SimpleCookie
from typing import Any, Final

import aiohttp

from .cloud_models import (
    CLOUD_MQTT_PORT,
    CloudAccount,
    CloudAuthError,
    CloudCodeExpired,
    CloudCodeWrong,
    CloudConnectError,
    CloudEndpoints,
    CloudError,
    CloudMqttCredentials,
    CloudPrinter,
    CloudRateLimited,
    CloudTfaBlocked,
    CloudTfaWrong,
    CloudTimeout,
    CloudToken,
    CloudTokenExpired,
    CloudUnexpectedResponse,
    LoginResult,
    NeedsTfa,
    NeedsVerifyCode,
    Region,
    as_code,
    as_float,
    as_str,
    cloud_mqtt_credentials,
    mqtt_username,
    parse_printer,
    parse_printers,
    token_text,
)

__all__ = [
    "BIND_PATH",
    "CLOUD_MQTT_PORT",
    "LOGIN_PATH",
    "PREFERENCE_PATH",
    "SEND_CODE_PATH",
    "TFA_PATH",
    "CloudAccount",
    "CloudAuthError",
    "CloudClient",
    "CloudCodeExpired",
    "CloudCodeWrong",
    "CloudConnectError",
    "CloudEndpoints",
    "CloudError",
    "CloudMqttCredentials",
    "CloudPrinter",
    "CloudRateLimited",
    "CloudTfaBlocked",
    "CloudTfaWrong",
    "CloudTimeout",
    "CloudToken",
    "CloudTokenExpired",
    "CloudUnexpectedResponse",
    "LoginResult",
    "NeedsTfa",
    "NeedsVerifyCode",
    "Region",
    "cloud_mqtt_credentials",
    "mqtt_username",
    "parse_printer",
    "parse_printers",
]

_LOGGER = logging.getLogger(__name__)

LOGIN_PATH: Final = "/v1/user-service/user/login"
SEND_CODE_PATH: Final = "/v1/user-service/user/sendemail/code"
TFA_PATH: Final = "/api/sign-in/tfa"
PREFERENCE_PATH: Final = "/v1/design-user-service/my/preference"
BIND_PATH: Final = "/v1/iot-service/api/user/bind"

DEFAULT_TIMEOUT: Final = 15.0
DEFAULT_MAX_RETRIES: Final = 3
DEFAULT_BACKOFF: Final = 1.0
DEFAULT_MAX_BACKOFF: Final = 30.0

# The service sits behind Cloudflare, which lets the vendor's own network agent through more
# reliably than an anonymous client, so requests identify themselves the way it does: the same
# headers ha-bambulab's pybambu and the Bambu-Lab-Cloud-API library send (docs/protocol.md).
_HEADERS: Final = {
    "User-Agent": "bambu_network_agent/01.09.05.01",
    "X-BBL-Client-Name": "OrcaSlicer",
    "X-BBL-Client-Type": "slicer",
    "X-BBL-Client-Version": "01.09.05.51",
    "X-BBL-Language": "en-US",
    "X-BBL-OS-Type": "linux",
    "X-BBL-OS-Version": "6.2.0",
    "X-BBL-Agent-Version": "01.09.05.01",
    "X-BBL-Executable-info": "{}",
    "X-BBL-Agent-OS-Type": "linux",
    "Accept": "application/json",
}
# bambulab.com's answer (HTTP 403) to a two-factor request without its CSRF cookie.
_MISSING_COOKIE: Final = "missing_cookie"

_LOGIN_REJECTED = frozenset({400, 401, 403})
_CODE_EXPIRED = 1
_CODE_WRONG = 2


def _parse_retry_after(value: str | None, now: float) -> float | None:
    """Return the delay a Retry-After header asks for (seconds or an HTTP date), else None."""
    if not value:
        return None
    seconds = as_float(value)
    if seconds is None:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError):
            return None
    return max(0.0, seconds)


def _cookie_expiry(morsel: Morsel[str], now: float) -> float | None:
    """Return when a cookie expires (Max-Age or Expires), else None."""
    max_age = as_float(morsel["max-age"])
    if max_age is not None:
        return now + max_age
    if morsel["expires"]:
        try:
            return parsedate_to_datetime(morsel["expires"]).timestamp()
        except (TypeError, ValueError, IndexError):
            return None
    return None


# --------------------------------------------------------------------------------------------
# the client


@dataclass(frozen=True, slots=True)
class _Answer:
    """One HTTP answer, read completely and decoded; `data` is None for an empty body."""

    status: int
    data: dict[str, Any] | None
    cookies: SimpleCookie


class CloudClient:
    """Talks to the Bambu cloud for one region, through the caller's aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        region: Region | str = Region.GLOBAL,
        endpoints: CloudEndpoints | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Set up the client; `endpoints` (else the region's real ones) says where to go.

        HTTP 429 answers are retried up to `max_retries` times after `backoff * 2**n` seconds
        (at least what Retry-After asks, capped at `max_backoff`), slept with `sleep`.
        """
        self._session = session
        self.endpoints = endpoints or CloudEndpoints.for_region(region)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_retries = max(0, max_retries)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._clock = clock

    @property
    def region(self) -> Region:
        """Return the region this client talks to."""
        return self.endpoints.region

    # -- sign-in ------------------------------------------------------------------------------

    async def async_login(self, account: str, password: str) -> LoginResult:
        """Sign in with email and password: a token, or the next step the service asks for.

        Raises CloudAuthError for a wrong account or password.
        """
        answer = await self._request(
            "POST",
            self.endpoints.api_base,
            LOGIN_PATH,
            body={"account": account, "password": password, "apiError": ""},
        )
        if answer.status in _LOGIN_REJECTED:
            raise CloudAuthError("the Bambu cloud refused the account or password")
        data = self._expect_ok(answer, LOGIN_PATH)
        token = self._token_from(data)
        if token is not None:
            return token
        login_type = as_str(data.get("loginType"))
        if login_type == "verifyCode":
            return NeedsVerifyCode()
        if login_type == "tfa":
            tfa_key = as_str(data.get("tfaKey"))
            if tfa_key is not None:
                return NeedsTfa(tfa_key)
        raise CloudUnexpectedResponse(
            "the Bambu cloud login answer has neither a token nor a known next step; "
            "the service may have changed",
            answer.status,
        )

    async def async_request_verify_code(self, account: str) -> None:
        """Ask the service to email a sign-in code to the account.

        Raises CloudAuthError when the service refuses (for example an unknown account).
        """
        answer = await self._request(
            "POST",
            self.endpoints.api_base,
            SEND_CODE_PATH,
            body={"email": account, "type": "codeLogin"},
        )
        if answer.status in _LOGIN_REJECTED:
            raise CloudAuthError("the Bambu cloud refused to send a code to this account")
        if answer.status != 200:
            raise self._unexpected_status(answer.status, SEND_CODE_PATH)

    async def async_login_with_code(self, account: str, code: str) -> CloudToken:
        """Sign in with the emailed code.

        Raises CloudCodeExpired (request a new code) or CloudCodeWrong (let the user retype it).
        """
        answer = await self._request(
            "POST", self.endpoints.api_base, LOGIN_PATH, body={"account": account, "code": code}
        )
        if answer.status in _LOGIN_REJECTED:
            error_code = as_code((answer.data or {}).get("code"))
            if error_code == _CODE_EXPIRED:
                raise CloudCodeExpired("the email code has expired; request a new one")
            if error_code == _CODE_WRONG:
                raise CloudCodeWrong("the email code is not correct")
            raise CloudAuthError("the Bambu cloud refused the sign-in with an email code")
        data = self._expect_ok(answer, LOGIN_PATH)
        token = self._token_from(data)
        if token is None:
            raise CloudUnexpectedResponse(
                "the Bambu cloud accepted the email code but sent no token; "
                "the service may have changed",
                answer.status,
            )
        return token

    async def async_login_with_tfa(self, tfa_key: str, code: str) -> CloudToken:
        """Finish a two-factor sign-in; the token comes back as the ``token`` cookie.

        Raises CloudTfaWrong when the code (or the sign-in key) is refused, and CloudTfaBlocked
        when the website host refuses the request before looking at the code (no CSRF cookie);
        the emailed code then signs in instead.
        """
        answer = await self._request(
            "POST",
            self.endpoints.tfa_base,
            TFA_PATH,
            body={"tfaKey": tfa_key, "tfaCode": code},
        )
        data = answer.data or {}
        said = (str(data.get(key, "")) for key in ("reason", "error"))
        if answer.status == 403 and any(_MISSING_COOKIE in text for text in said):
            _LOGGER.debug("POST %s: refused for a missing CSRF cookie", TFA_PATH)
            raise CloudTfaBlocked(
                "the Bambu two-factor sign-in refused the request before checking the code "
                "(CSRF cookie missing); sign in with an emailed code instead"
            )
        if answer.status in _LOGIN_REJECTED:
            raise CloudTfaWrong("the two-factor code is not correct or has expired")
        if answer.status != 200:
            raise self._unexpected_status(answer.status, TFA_PATH)
        morsel = answer.cookies.get("token")
        if morsel is not None and morsel.value:
            value = morsel.value
            # The caller's session may be shared (Home Assistant's is): keep the token out of
            # its cookie jar; this client sends it explicitly where needed.
            self._session.cookie_jar.clear(lambda stored: stored.value == value)
            return CloudToken(value, _cookie_expiry(morsel, self._clock()))
        token = self._token_from(answer.data or {})
        if token is None:
            raise CloudUnexpectedResponse(
                "the Bambu cloud accepted the two-factor code but sent no token; "
                "the service may have changed",
                answer.status,
            )
        return token

    # -- authenticated calls ------------------------------------------------------------------

    async def async_get_uid(self, token: CloudToken | str) -> str:
        """Return the account's numeric user id (the cloud MQTT user is ``u_<uid>``).

        Raises CloudTokenExpired when the token expired or was revoked.
        """
        data = await self._authorized_get(PREFERENCE_PATH, token)
        uid = as_str(data.get("uid"))
        if uid is None:
            raise CloudUnexpectedResponse(
                "the Bambu cloud sent no user id; the service may have changed", 200
            )
        return uid

    async def async_get_account(self, token: CloudToken | str) -> CloudAccount:
        """Return the signed-in account (user id, token, endpoints) for a token."""
        if not isinstance(token, CloudToken):
            token = CloudToken(token)
        return CloudAccount(await self.async_get_uid(token), token, self.endpoints)

    async def async_get_printers(self, token: CloudToken | str) -> list[CloudPrinter]:
        """Return the printers bound to the account, with their access codes.

        Raises CloudTokenExpired when the token expired or was revoked.
        """
        return parse_printers(await self._authorized_get(BIND_PATH, token))

    # -- plumbing -----------------------------------------------------------------------------

    def _token_from(self, data: Mapping[str, Any]) -> CloudToken | None:
        access_token = as_str(data.get("accessToken"))
        if access_token is None:
            return None
        lifetime = as_float(data.get("expiresIn"))
        expires_at = self._clock() + lifetime if lifetime is not None and lifetime > 0 else None
        return CloudToken(access_token, expires_at)

    @staticmethod
    def _unexpected_status(status: int, path: str) -> CloudUnexpectedResponse:
        return CloudUnexpectedResponse(
            f"the Bambu cloud answered HTTP {status} to {path}; the service may have changed",
            status,
        )

    def _expect_ok(self, answer: _Answer, path: str) -> dict[str, Any]:
        if answer.status != 200:
            raise self._unexpected_status(answer.status, path)
        if answer.data is None:
            raise CloudUnexpectedResponse(
                f"the Bambu cloud sent an empty answer to {path}; the service may have changed",
                answer.status,
            )
        return answer.data

    async def _authorized_get(self, path: str, token: CloudToken | str) -> dict[str, Any]:
        answer = await self._request(
            "GET",
            self.endpoints.api_base,
            path,
            headers={"Authorization": f"Bearer {token_text(token)}"},
        )
        if answer.status == 401:
            raise CloudTokenExpired("the Bambu cloud token has expired or was revoked")
        return self._expect_ok(answer, path)

    async def _request(
        self,
        method: str,
        base: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Answer:
        """Send one request, retrying HTTP 429 with backoff; raise on transport and 5xx."""
        attempt = 0
        while True:
            status, retry_after_header, answer = await self._send(
                method, base, path, body=body, headers=headers
            )
            if answer is not None:
                return answer
            retry_after = _parse_retry_after(retry_after_header, self._clock())
            if attempt >= self._max_retries or (
                retry_after is not None and retry_after > self._max_backoff
            ):
                _LOGGER.debug("%s %s: still rate limited, giving up", method, path)
                raise CloudRateLimited(retry_after)
            delay = min(self._max_backoff, self._backoff * 2**attempt)
            if retry_after is not None:
                delay = max(delay, retry_after)
            attempt += 1
            _LOGGER.debug(
                "%s %s: HTTP %s, retry %d in %.1f s", method, path, status, attempt, delay
            )
            await self._sleep(delay)

    async def _send(
        self,
        method: str,
        base: str,
        path: str,
        *,
        body: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> tuple[int, str | None, _Answer | None]:
        """Send once: (status, Retry-After, answer), the answer None when rate limited."""
        all_headers = dict(_HEADERS)
        if headers:
            all_headers.update(headers)
        try:
            async with self._session.request(
                method,
                f"{base}{path}",
                json=dict(body) if body is not None else None,
                headers=all_headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                raw = await response.read()
                status = response.status
                content_type = response.content_type
                challenged = "cf-mitigated" in response.headers
                retry_after = response.headers.get("Retry-After")
                cookies = response.cookies
        except TimeoutError:
            _LOGGER.debug("%s %s: timed out", method, path)
            raise CloudTimeout("the Bambu cloud did not answer in time") from None
        except aiohttp.ClientError as err:
            _LOGGER.debug("%s %s: %s", method, path, type(err).__name__)
            raise CloudConnectError(
                f"cannot reach the Bambu cloud ({type(err).__name__})"
            ) from None
        _LOGGER.debug("%s %s: HTTP %s (%s, %d bytes)", method, path, status, content_type, len(raw))
        if status == 429:
            return status, retry_after, None
        if status >= 500 and not challenged:
            raise CloudConnectError(f"the Bambu cloud is unavailable (HTTP {status})")
        data = self._decode(raw, content_type, status, challenged)
        return status, retry_after, _Answer(status, data, cookies)

    @staticmethod
    def _decode(
        raw: bytes, content_type: str, status: int, challenged: bool
    ) -> dict[str, Any] | None:
        """Return the JSON object in a body (None when empty); raise for anything else."""
        if not raw.strip() and not challenged:
            return None
        data: Any = None
        if "html" not in content_type and not challenged:
            try:
                data = json.loads(raw.decode("utf-8", errors="replace"))
            except ValueError:
                data = None
        if isinstance(data, dict):
            return data
        # Never quote the body: it may echo what was sent.
        if challenged or "html" in content_type:
            raise CloudUnexpectedResponse(
                f"the Bambu cloud answered with a web page instead of data (HTTP {status}): "
                "the service blocked the request (for example a Cloudflare challenge) "
                "or has changed",
                status,
            )
        raise CloudUnexpectedResponse(
            f"the Bambu cloud answered with unexpected data (HTTP {status}): "
            "the service blocked the request or has changed",
            status,
        )
