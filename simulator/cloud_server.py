"""A fake Bambu cloud on loopback, so sign-in and printer-list code is tested against real HTTP.

It serves the paths the integration uses (login with password or email code, sending the code,
two-factor sign-in, user id, bind list) with configurable accounts, answers the way the real
service is documented to answer, and produces the failures a real cloud produces on demand:
HTTP 429 with Retry-After, a Cloudflare-style HTML challenge, slow answers, and 401 for expired or
revoked tokens. Tests point the bind list at simulated printers with `add_printer`, and with
`add_token_listener` let a simulated printer's broker accept each new token (the cloud broker's
``u_<uid>`` / token login).

Secrets here are test secrets; the server still keeps them out of its logs (no access log).
"""

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Any, Final, Self

from aiohttp import web

from .issued import remember

# The real service's paths, written out here rather than imported from the client, so a typo in
# the client is caught by the tests instead of mirrored by the fake.
LOGIN_PATH: Final = "/v1/user-service/user/login"
SEND_CODE_PATH: Final = "/v1/user-service/user/sendemail/code"
TFA_PATH: Final = "/api/sign-in/tfa"
PREFERENCE_PATH: Final = "/v1/design-user-service/my/preference"
BIND_PATH: Final = "/v1/iot-service/api/user/bind"
TOKEN_LIFETIME: Final = 7_776_000  # about 90 days, like the real service's expiresIn
CODE_LIFETIME: Final = 300.0

# simulator model name -> (dev_model_name, dev_product_name) as the bind list reports them
MODEL_IDS: Final[Mapping[str, tuple[str, str]]] = {
    "X1C": ("BL-P001", "X1 Carbon"),
    "X1E": ("C13", "X1E"),
    "P1P": ("C11", "P1P"),
    "P1S": ("C12", "P1S"),
    "A1": ("N2S", "A1"),
    "A1MINI": ("N1", "A1 mini"),
    "P2S": ("N7", "P2S"),
    "H2D": ("O1D", "H2D"),
}

_CHALLENGE_PAGE: Final = """<!DOCTYPE html>
<html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head>
<body><div class="main-wrapper"><h1>api.bambulab.com</h1>
<p>Verifying you are human. This may take a few seconds.</p>
<p>Performance &amp; security by Cloudflare</p>{echo}</div></body></html>
"""


class LoginMode(StrEnum):
    """How an account signs in: token straight away, email code, or two-factor."""

    TOKEN = "token"  # noqa: S105 - a sign-in mode, not a password
    CODE = "code"
    TFA = "tfa"


@dataclass
class FakeCloudUser:
    """One account of the fake cloud; tests read `email_code` and `tfa_code` from it."""

    account: str
    password: str
    uid: int
    login: LoginMode
    tfa_code: str
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    email_code: str | None = None  # the last code "emailed" to the account
    code_sent_at: float | None = None
    codes_sent: int = 0


@dataclass
class _TokenRecord:
    account: str
    expires_at: float
    revoked: bool = False


@dataclass
class _Fault:
    path: str | None
    times: int
    delay: float = 0.0
    status: int | None = None
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    echo_request: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake cloud received: its body's keys and headers, never a secret."""

    method: str
    path: str
    authorized: bool
    body_keys: frozenset[str] = frozenset()
    headers: Mapping[str, str] = field(default_factory=dict)


# Headers that carry secrets; the record leaves them out.
_SECRET_HEADERS: Final = frozenset({"authorization", "cookie"})
# What bambulab.com's two-factor endpoint answers a request without its CSRF cookie, since
# July 2026 (ha-bambulab issue #2056 and pull request #2058; Bambuddy issue #2696).
_CSRF_REFUSAL: Final = {"error": "CSRF error: missing_cookie", "reason": "missing_cookie"}


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TokenListener = Callable[[FakeCloudUser, str], Awaitable[None]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


class FakeBambuCloud:
    """The fake cloud server: accounts, tokens, bound printers and faults on demand."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token_lifetime: float = TOKEN_LIFETIME,
        code_lifetime: float = CODE_LIFETIME,
        bad_password_status: int = 400,
        tfa_csrf_check: bool = True,
    ) -> None:
        """Configure the server; nothing listens until `start`.

        With `tfa_csrf_check` (the real service since July 2026) the two-factor path refuses
        every request with HTTP 403 ``missing_cookie`` before it looks at the code, as the
        website host wants a CSRF cookie that API clients do not have; without it the path
        checks the code, as the service did before.
        """
        self.host = host
        self.port = port
        self.token_lifetime = token_lifetime
        self.code_lifetime = code_lifetime
        self.bad_password_status = bad_password_status
        self.tfa_csrf_check = tfa_csrf_check
        self.users: dict[str, FakeCloudUser] = {}
        self.requests: list[RecordedRequest] = []
        self._tokens: dict[str, _TokenRecord] = {}
        self._tfa_keys: dict[str, str] = {}
        self._faults: list[_Fault] = []
        self._token_listeners: list[TokenListener] = []
        self._uids = itertools.count(1_700_000_001)
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Return the base URL (API and two-factor paths both live here)."""
        if self._runner is None:
            raise RuntimeError("the fake cloud is not running")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen on loopback (a free port unless one was given)."""
        if self._runner is not None:
            return
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post(LOGIN_PATH, self._login)
        app.router.add_post(SEND_CODE_PATH, self._send_code)
        app.router.add_post(TFA_PATH, self._tfa)
        app.router.add_get(PREFERENCE_PATH, self._preference)
        app.router.add_get(BIND_PATH, self._bind)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self.port = runner.addresses[0][1]
        self._stopping.clear()
        self._runner = runner

    async def stop(self) -> None:
        """Stop listening and end any answer still being delayed; idempotent."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stopping.set()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- accounts, tokens, printers -----------------------------------------------------------

    def add_user(
        self,
        account: str,
        password: str,
        *,
        login: LoginMode | str = LoginMode.TOKEN,
        uid: int | None = None,
        tfa_code: str | None = None,
    ) -> FakeCloudUser:
        """Create (or replace) an account that signs in the given way."""
        user = FakeCloudUser(
            account=account,
            password=password,
            uid=uid if uid is not None else next(self._uids),
            login=LoginMode(login),
            tfa_code=tfa_code or f"{secrets.randbelow(1_000_000):06d}",
        )
        self.users[account] = user
        remember(password)
        remember(user.tfa_code)
        return user

    def issue_token(self, account: str, *, lifetime: float | None = None) -> str:
        """Return a fresh valid token for an account, as a successful sign-in would."""
        if account not in self.users:
            raise KeyError(account)
        token = secrets.token_urlsafe(32)
        remember(token)
        life = self.token_lifetime if lifetime is None else lifetime
        self._tokens[token] = _TokenRecord(account, time.time() + life)
        return token

    def add_token_listener(self, listener: TokenListener) -> Callable[[], None]:
        """Await ``listener(user, token)`` for every token a sign-in issues, before answering.

        Tests use it to hand the new token to a simulated broker (``u_<uid>`` / token), so the
        token works there as soon as the client has it. Returns a function that removes it.
        """
        self._token_listeners.append(listener)
        return lambda: self._token_listeners.remove(listener)

    async def _signed_in(self, account: str) -> str:
        token = self.issue_token(account)
        for listener in list(self._token_listeners):
            await listener(self.users[account], token)
        return token

    def revoke_token(self, token: str) -> None:
        """Make a token answer 401 from now on (as after a password change)."""
        if token in self._tokens:
            self._tokens[token].revoked = True

    def revoke_all(self, account: str) -> None:
        """Revoke every token of an account."""
        for record in self._tokens.values():
            if record.account == account:
                record.revoked = True

    def expire_token(self, token: str) -> None:
        """Make a token expired (401) from now on."""
        if token in self._tokens:
            self._tokens[token].expires_at = 0.0

    def expire_code(self, account: str) -> None:
        """Make the account's last emailed code expired."""
        user = self.users[account]
        if user.code_sent_at is not None:
            user.code_sent_at = time.monotonic() - self.code_lifetime - 1

    def add_printer(
        self,
        account: str,
        serial: str,
        access_code: str,
        *,
        model: str = "P1S",
        name: str | None = None,
        online: bool = True,
        print_status: str = "IDLE",
        **extra: Any,
    ) -> dict[str, Any]:
        """Bind a printer (for example a simulated one) to an account; returns its entry.

        `model` is a simulator model name ("X1C", "P1S", "A1MINI", ...); `extra` fields are
        added to (or override) the bind-list entry.
        """
        model_name, product_name = MODEL_IDS.get(model.upper(), (model, model))
        device: dict[str, Any] = {
            "dev_id": serial,
            "name": name or f"Bambu {product_name}",
            "online": online,
            "print_status": print_status,
            "dev_model_name": model_name,
            "dev_product_name": product_name,
            "dev_access_code": access_code,
            "nozzle_diameter": 0.4,
        }
        device.update(extra)
        remember(device["dev_access_code"])
        self.users[account].devices[serial] = device
        return device

    def add_raw_device(
        self, account: str, device: Mapping[str, Any], key: str | None = None
    ) -> str:
        """Put an arbitrary bind-list entry (even a malformed one) in an account's list."""
        devices = self.users[account].devices
        entry_key = key or str(device.get("dev_id") or f"raw-{len(devices)}")
        devices[entry_key] = dict(device)
        return entry_key

    def remove_printer(self, account: str, serial: str) -> None:
        """Unbind a printer from an account (no error when it is not bound)."""
        self.users[account].devices.pop(serial, None)

    # -- faults -------------------------------------------------------------------------------

    def inject_answer(
        self,
        status: int,
        body: str | bytes = b"",
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        path: str | None = None,
        echo_request: bool = False,
    ) -> None:
        """Answer the next `times` requests (to `path`, or any) with this canned answer."""
        self._faults.append(
            _Fault(
                path=path,
                times=times,
                status=status,
                body=body.encode() if isinstance(body, str) else body,
                content_type=content_type,
                headers=dict(headers or {}),
                echo_request=echo_request,
            )
        )

    def inject_rate_limit(
        self, *, times: int = 1, retry_after: float | str | None = 1, path: str | None = None
    ) -> None:
        """Answer HTTP 429 (with Retry-After unless None) to the next `times` requests."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        body = json.dumps({"code": 429, "error": "Too Many Requests"})
        self.inject_answer(429, body, headers=headers, times=times, path=path)

    def inject_html(
        self,
        *,
        times: int = 1,
        status: int = 403,
        challenge_header: bool = True,
        echo_request: bool = False,
        path: str | None = None,
    ) -> None:
        """Answer a Cloudflare-style HTML challenge page to the next `times` requests.

        With `echo_request` the page quotes the request body, so tests can check the client
        never repeats a page's text (and thus the secrets it may echo).
        """
        headers = {"Server": "cloudflare"}
        if challenge_header:
            headers["cf-mitigated"] = "challenge"
        self.inject_answer(
            status,
            _CHALLENGE_PAGE,
            content_type="text/html",
            headers=headers,
            times=times,
            path=path,
            echo_request=echo_request,
        )

    def inject_delay(self, seconds: float, *, times: int = 1, path: str | None = None) -> None:
        """Delay the next `times` answers by `seconds` (stopping the server ends the wait)."""
        self._faults.append(_Fault(path=path, times=times, delay=seconds))

    def clear_faults(self) -> None:
        """Forget every pending fault."""
        self._faults.clear()

    # -- HTTP ---------------------------------------------------------------------------------

    def _take_fault(self, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.path is None or fault.path == path:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        sent = await self._body(request) if request.can_read_body else None
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                "Authorization" in request.headers,
                frozenset(sent or ()),
                {k: v for k, v in request.headers.items() if k.lower() not in _SECRET_HEADERS},
            )
        )
        fault = self._take_fault(request.path)
        if fault is None:
            return await handler(request)
        if fault.delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.delay)
        if fault.status is None:
            return await handler(request)
        body = fault.body
        if fault.echo_request:
            echoed = (await request.text()).replace("<", "&lt;")
            body = body.replace(b"{echo}", f"<pre>{echoed}</pre>".encode())
        else:
            body = body.replace(b"{echo}", b"")
        return web.Response(
            status=fault.status,
            body=body,
            content_type=fault.content_type,
            headers=fault.headers,
        )

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any] | None:
        try:
            data = await request.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    async def _token_answer(self, account: str) -> web.Response:
        token = await self._signed_in(account)
        return _json(
            {
                "accessToken": token,
                "refreshToken": token,
                "expiresIn": int(self.token_lifetime),
                "refreshExpiresIn": int(self.token_lifetime),
                "tfaKey": "",
                "accessMethod": "",
                "loginType": "",
            }
        )

    @staticmethod
    def _next_step_answer(login_type: str, tfa_key: str = "") -> web.Response:
        return _json(
            {
                "accessToken": "",
                "refreshToken": "",
                "expiresIn": 0,
                "refreshExpiresIn": 0,
                "tfaKey": tfa_key,
                "accessMethod": "",
                "loginType": login_type,
            }
        )

    async def _login(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if body is None:
            return _json({"code": 400, "error": "Invalid request"}, 400)
        user = self.users.get(str(body.get("account", "")))
        if "code" in body:
            return await self._login_with_code(user, str(body.get("code", "")))
        if user is None or body.get("password") != user.password:
            return _json({"code": 2, "error": "Incorrect password"}, self.bad_password_status)
        if user.login is LoginMode.CODE:
            return self._next_step_answer("verifyCode")
        if user.login is LoginMode.TFA:
            tfa_key = secrets.token_urlsafe(24)
            remember(tfa_key)
            self._tfa_keys[tfa_key] = user.account
            return self._next_step_answer("tfa", tfa_key)
        return await self._token_answer(user.account)

    async def _login_with_code(self, user: FakeCloudUser | None, code: str) -> web.Response:
        if user is None or user.email_code is None or code != user.email_code:
            return _json({"code": 2, "error": "Incorrect code"}, 400)
        sent_at = user.code_sent_at or 0.0
        if time.monotonic() - sent_at > self.code_lifetime:
            return _json({"code": 1, "error": "Code expired"}, 400)
        user.email_code = None  # a code works once
        return await self._token_answer(user.account)

    async def _send_code(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        user = self.users.get(str((body or {}).get("email", "")))
        if body is None or user is None or body.get("type") != "codeLogin":
            return _json({"code": 3, "error": "Account not found"}, 400)
        user.email_code = f"{secrets.randbelow(1_000_000):06d}"
        remember(user.email_code)
        user.code_sent_at = time.monotonic()
        user.codes_sent += 1
        return _json({})

    async def _tfa(self, request: web.Request) -> web.Response:
        if self.tfa_csrf_check:
            return _json(_CSRF_REFUSAL, 403)
        body = await self._body(request) or {}
        account = self._tfa_keys.get(str(body.get("tfaKey", "")))
        user = self.users.get(account) if account is not None else None
        if user is None or str(body.get("tfaCode", "")) != user.tfa_code:
            return _json({"code": 2, "error": "Incorrect code"}, 400)
        self._tfa_keys.pop(str(body["tfaKey"]), None)  # a sign-in key works once
        token = await self._signed_in(user.account)
        response = _json({"success": True})
        response.set_cookie(
            "token", token, max_age=int(self.token_lifetime), path="/", httponly=True, secure=True
        )
        return response

    def _authorized_user(self, request: web.Request) -> FakeCloudUser | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        record = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if record is None or record.revoked or record.expires_at <= time.time():
            return None
        return self.users.get(record.account)

    @staticmethod
    def _unauthorized() -> web.Response:
        return _json({"message": "Unauthorized", "code": 401, "error": "Invalid token"}, 401)

    async def _preference(self, request: web.Request) -> web.Response:
        user = self._authorized_user(request)
        if user is None:
            return self._unauthorized()
        return _json(
            {
                "uid": user.uid,
                "name": user.account.split("@", 1)[0],
                "handle": f"user_{user.uid}",
                "avatar": "",
                "bio": "",
                "links": [],
                "backgroundUrl": "",
            }
        )

    async def _bind(self, request: web.Request) -> web.Response:
        user = self._authorized_user(request)
        if user is None:
            return self._unauthorized()
        return _json(
            {
                "message": "success",
                "code": None,
                "error": None,
                "devices": list(user.devices.values()),
            }
        )
