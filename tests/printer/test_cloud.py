"""Bambu cloud client against the fake cloud on loopback: every sign-in branch and failure."""

import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from custom_components.bambu_printer.printer.cloud import (
    BIND_PATH,
    LOGIN_PATH,
    PREFERENCE_PATH,
    SEND_CODE_PATH,
    TFA_PATH,
    CloudAccount,
    CloudAuthError,
    CloudClient,
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
    NeedsTfa,
    NeedsVerifyCode,
    Region,
    cloud_mqtt_credentials,
    mqtt_username,
    parse_printer,
)
from custom_components.bambu_printer.printer.errors import (
    AuthError,
    BambuError,
    ConnectError,
    ConnectTimeout,
)
from simulator.cloud_server import FakeBambuCloud, LoginMode

# Home Assistant's test plugin blocks sockets; the fake cloud needs loopback ones.
pytestmark = pytest.mark.usefixtures("socket_enabled")

EMAIL = "maker@example.com"
PASSWORD = "pa55-Secret-word"
NOW = 1_800_000_000.0


class SleepRecorder:
    """Injectable sleep: records the backoff delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
async def cloud() -> AsyncIterator[FakeBambuCloud]:
    async with FakeBambuCloud() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def endpoints_for(cloud: FakeBambuCloud, region: Region = Region.GLOBAL) -> CloudEndpoints:
    return CloudEndpoints.for_region(
        region, api_base=cloud.url, tfa_base=cloud.url + "/", mqtt_host="127.0.0.1", mqtt_port=18883
    )


@pytest.fixture
def client(
    cloud: FakeBambuCloud, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> CloudClient:
    return CloudClient(
        session, endpoints=endpoints_for(cloud), sleep=sleeps, timeout=5, clock=lambda: NOW
    )


# -- sign-in branches ---------------------------------------------------------------------------


async def test_password_login_gives_token_account_and_printers(
    cloud: FakeBambuCloud, client: CloudClient
) -> None:
    user = cloud.add_user(EMAIL, PASSWORD, uid=1234567)
    cloud.add_printer(EMAIL, "01P00A000000001", "12345678", model="P1S", name="Shop P1S")
    cloud.add_printer(EMAIL, "00M00A000000002", "87654321", model="X1C", online=False)

    result = await client.async_login(EMAIL, PASSWORD)

    assert isinstance(result, CloudToken)
    assert result.expires_at == NOW + 7_776_000
    account = await client.async_get_account(result)
    assert account == CloudAccount(str(user.uid), result, client.endpoints)
    assert account.mqtt_username == "u_1234567"
    assert account.mqtt_credentials() == CloudMqttCredentials(
        "127.0.0.1", 18883, "u_1234567", result.access_token
    )
    printers = await client.async_get_printers(result)
    assert printers == [
        CloudPrinter(
            serial="01P00A000000001",
            name="Shop P1S",
            online=True,
            access_code="12345678",
            model_name="C12",
            product_name="P1S",
            print_status="IDLE",
            nozzle_diameter=0.4,
        ),
        CloudPrinter(
            serial="00M00A000000002",
            name="Bambu X1 Carbon",
            online=False,
            access_code="87654321",
            model_name="BL-P001",
            product_name="X1 Carbon",
            print_status="IDLE",
            nozzle_diameter=0.4,
        ),
    ]
    assert all(request.authorized for request in cloud.requests[1:])


async def test_account_from_plain_token_string(cloud: FakeBambuCloud, client: CloudClient) -> None:
    user = cloud.add_user(EMAIL, PASSWORD)
    token = cloud.issue_token(EMAIL)
    account = await client.async_get_account(token)
    assert account.uid == str(user.uid)
    assert account.token == CloudToken(token)


async def test_email_code_login(cloud: FakeBambuCloud, client: CloudClient) -> None:
    user = cloud.add_user(EMAIL, PASSWORD, login=LoginMode.CODE)

    result = await client.async_login(EMAIL, PASSWORD)
    assert result == NeedsVerifyCode()
    assert user.codes_sent == 0  # the client asks for the email explicitly

    await client.async_request_verify_code(EMAIL)
    assert user.codes_sent == 1
    assert user.email_code is not None
    token = await client.async_login_with_code(EMAIL, user.email_code)
    assert token.expires_at == NOW + 7_776_000
    assert await client.async_get_printers(token) == []


async def test_email_code_expired_then_new_code(cloud: FakeBambuCloud, client: CloudClient) -> None:
    user = cloud.add_user(EMAIL, PASSWORD, login="code")
    await client.async_request_verify_code(EMAIL)
    assert user.email_code is not None
    cloud.expire_code(EMAIL)

    with pytest.raises(CloudCodeExpired):
        await client.async_login_with_code(EMAIL, user.email_code)

    await client.async_request_verify_code(EMAIL)
    assert isinstance(await client.async_login_with_code(EMAIL, user.email_code), CloudToken)


async def test_email_code_wrong_is_distinct_from_expired(
    cloud: FakeBambuCloud, client: CloudClient
) -> None:
    user = cloud.add_user(EMAIL, PASSWORD, login=LoginMode.CODE)
    await client.async_request_verify_code(EMAIL)
    assert user.email_code is not None
    wrong = "000000" if user.email_code != "000000" else "111111"

    with pytest.raises(CloudCodeWrong) as caught:
        await client.async_login_with_code(EMAIL, wrong)
    assert not isinstance(caught.value, CloudCodeExpired | CloudAuthError)

    # the right code still works afterwards, and only once
    code = user.email_code
    await client.async_login_with_code(EMAIL, code)
    with pytest.raises(CloudCodeWrong):
        await client.async_login_with_code(EMAIL, code)


async def test_request_code_for_unknown_account(client: CloudClient) -> None:
    with pytest.raises(CloudAuthError):
        await client.async_request_verify_code("nobody@example.com")


async def test_tfa_login(cloud: FakeBambuCloud, client: CloudClient) -> None:
    cloud.tfa_csrf_check = False  # the service before mid-2026, or should it return
    user = cloud.add_user(EMAIL, PASSWORD, login=LoginMode.TFA, tfa_code="424242")

    result = await client.async_login(EMAIL, PASSWORD)
    assert isinstance(result, NeedsTfa)
    assert result.tfa_key

    token = await client.async_login_with_tfa(result.tfa_key, user.tfa_code)
    assert token.expires_at == NOW + 7_776_000  # from the cookie's Max-Age
    assert (await client.async_get_account(token)).uid == str(user.uid)
    # the sign-in key works once
    with pytest.raises(CloudTfaWrong):
        await client.async_login_with_tfa(result.tfa_key, user.tfa_code)


async def test_tfa_token_cookie_stays_out_of_the_shared_jar(cloud: FakeBambuCloud) -> None:
    cloud.tfa_csrf_check = False
    user = cloud.add_user(EMAIL, PASSWORD, login=LoginMode.TFA)
    jar = aiohttp.CookieJar(unsafe=True)  # would store cookies from a loopback IP
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        http.cookie_jar.update_cookies({"unrelated": "keep-me"})
        client = CloudClient(http, endpoints=endpoints_for(cloud))
        result = await client.async_login(EMAIL, PASSWORD)
        assert isinstance(result, NeedsTfa)
        token = await client.async_login_with_tfa(result.tfa_key, user.tfa_code)
        assert token.access_token
        assert [cookie.key for cookie in jar] == ["unrelated"]


async def test_tfa_wrong_code(cloud: FakeBambuCloud, client: CloudClient) -> None:
    cloud.tfa_csrf_check = False
    cloud.add_user(EMAIL, PASSWORD, login=LoginMode.TFA, tfa_code="424242")
    result = await client.async_login(EMAIL, PASSWORD)
    assert isinstance(result, NeedsTfa)

    with pytest.raises(CloudTfaWrong):
        await client.async_login_with_tfa(result.tfa_key, "000000")
    with pytest.raises(CloudTfaWrong):
        await client.async_login_with_tfa("not-a-key", "424242")
    # a wrong code does not burn the sign-in key
    assert isinstance(await client.async_login_with_tfa(result.tfa_key, "424242"), CloudToken)


async def test_tfa_refused_for_a_missing_csrf_cookie(
    cloud: FakeBambuCloud, client: CloudClient
) -> None:
    """bambulab.com refuses the two-factor request before it looks at the code (HTTP 403)."""
    user = cloud.add_user(EMAIL, PASSWORD, login=LoginMode.TFA, tfa_code="424242")
    result = await client.async_login(EMAIL, PASSWORD)
    assert isinstance(result, NeedsTfa)
    with pytest.raises(CloudTfaBlocked) as caught:
        await client.async_login_with_tfa(result.tfa_key, user.tfa_code)
    assert not isinstance(caught.value, CloudTfaWrong)
    assert "424242" not in str(caught.value)
    # The emailed code, which stays on the API host, still signs the account in.
    await client.async_request_verify_code(EMAIL)
    assert user.email_code is not None
    assert isinstance(await client.async_login_with_code(EMAIL, user.email_code), CloudToken)


async def test_tfa_cloudflare_page_is_not_the_csrf_refusal(
    cloud: FakeBambuCloud, client: CloudClient
) -> None:
    """A Cloudflare challenge on the two-factor path keeps its own error."""
    cloud.inject_html(path=TFA_PATH)
    with pytest.raises(CloudUnexpectedResponse, match="Cloudflare"):
        await client.async_login_with_tfa("key", "123456")


async def test_requests_identify_like_the_reference_clients(
    cloud: FakeBambuCloud, client: CloudClient
) -> None:
    """Every request carries the slicer headers; the password login sends apiError too."""
    cloud.add_user(EMAIL, PASSWORD)
    await client.async_login(EMAIL, PASSWORD)
    login = cloud.requests[-1]
    assert login.path == LOGIN_PATH
    assert login.body_keys == frozenset({"account", "password", "apiError"})
    assert {
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
    }.items() <= login.headers.items()
    assert "Authorization" not in login.headers


@pytest.mark.parametrize("status", [400, 401])
async def test_bad_password(
    session: aiohttp.ClientSession, sleeps: SleepRecorder, status: int
) -> None:
    async with FakeBambuCloud(bad_password_status=status) as cloud:
        cloud.add_user(EMAIL, PASSWORD)
        client = CloudClient(session, endpoints=endpoints_for(cloud), sleep=sleeps)
        with pytest.raises(CloudAuthError) as caught:
            await client.async_login(EMAIL, "wrong password")
        assert isinstance(caught.value, AuthError)
        assert isinstance(caught.value, CloudError)
        with pytest.raises(CloudAuthError):
            await client.async_login("nobody@example.com", PASSWORD)
    assert sleeps.delays == []


# -- rate limiting ------------------------------------------------------------------------------


async def test_rate_limited_then_success_backs_off_exponentially(
    cloud: FakeBambuCloud, client: CloudClient, sleeps: SleepRecorder
) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    cloud.inject_rate_limit(times=3, retry_after=None, path=LOGIN_PATH)

    assert isinstance(await client.async_login(EMAIL, PASSWORD), CloudToken)
    assert sleeps.delays == [1.0, 2.0, 4.0]
    assert [r.path for r in cloud.requests] == [LOGIN_PATH] * 4


async def test_rate_limit_honours_retry_after(
    cloud: FakeBambuCloud, client: CloudClient, sleeps: SleepRecorder
) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    token = cloud.issue_token(EMAIL)
    cloud.inject_rate_limit(times=1, retry_after=5)
    cloud.inject_rate_limit(times=1, retry_after="soon")  # unparseable: plain backoff
    http_date = format_datetime(datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=7), True)
    cloud.inject_rate_limit(times=1, retry_after=http_date)

    assert await client.async_get_uid(token)
    assert sleeps.delays == [5.0, 2.0, 7.0]


async def test_rate_limit_exhausted(
    cloud: FakeBambuCloud, client: CloudClient, sleeps: SleepRecorder
) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    cloud.inject_rate_limit(times=10, retry_after=None)

    with pytest.raises(CloudRateLimited) as caught:
        await client.async_login(EMAIL, PASSWORD)
    assert caught.value.retry_after is None
    assert sleeps.delays == [1.0, 2.0, 4.0]
    assert len(cloud.requests) == 4


async def test_rate_limit_longer_than_max_backoff_gives_up_at_once(
    cloud: FakeBambuCloud, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    cloud.inject_rate_limit(times=1, retry_after=3600)
    client = CloudClient(session, endpoints=endpoints_for(cloud), sleep=sleeps, max_backoff=60)

    with pytest.raises(CloudRateLimited) as caught:
        await client.async_login(EMAIL, PASSWORD)
    assert caught.value.retry_after == 3600
    assert "3600 s" in str(caught.value)
    assert sleeps.delays == []


async def test_backoff_is_capped(
    cloud: FakeBambuCloud, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    cloud.inject_rate_limit(times=4, retry_after=None)
    client = CloudClient(
        session,
        endpoints=endpoints_for(cloud),
        sleep=sleeps,
        max_retries=4,
        backoff=2,
        max_backoff=5,
    )
    assert isinstance(await client.async_login(EMAIL, PASSWORD), CloudToken)
    assert sleeps.delays == [2.0, 4.0, 5.0, 5.0]


# -- unexpected answers, timeouts, connection errors --------------------------------------------


async def test_cloudflare_challenge(cloud: FakeBambuCloud, client: CloudClient) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    cloud.inject_html(echo_request=True)

    with pytest.raises(CloudUnexpectedResponse) as caught:
        await client.async_login(EMAIL, PASSWORD)
    assert caught.value.status == 403
    assert "blocked" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert "Just a moment" not in str(caught.value)


@pytest.mark.parametrize(
    "answer",
    [
        (200, "<html><body>maintenance</body></html>", "text/html", {}),
        (503, "<html>challenge</html>", "text/html", {"cf-mitigated": "challenge"}),
        (200, "not json at all", "text/plain", {}),
        (200, "[1, 2, 3]", "application/json", {}),
        (200, "", "application/json", {}),
        (404, '{"code": 404, "error": "Not Found"}', "application/json", {}),
        (200, '{"message": "success"}', "application/json", {}),
        (200, '{"loginType": "tfa", "tfaKey": ""}', "application/json", {}),
        (302, "", "text/plain", {"Location": "https://bambulab.com/"}),
    ],
)
async def test_unexpected_login_answers(
    cloud: FakeBambuCloud, client: CloudClient, answer: tuple[int, str, str, dict[str, str]]
) -> None:
    status, body, content_type, headers = answer
    cloud.inject_answer(status, body, content_type=content_type, headers=headers)
    with pytest.raises(CloudUnexpectedResponse) as caught:
        await client.async_login(EMAIL, PASSWORD)
    assert caught.value.status == status
    assert "the service" in str(caught.value)


async def test_server_error_is_a_connect_error(cloud: FakeBambuCloud, client: CloudClient) -> None:
    cloud.inject_answer(502, "<html>Bad gateway</html>", content_type="text/html")
    with pytest.raises(CloudConnectError, match="HTTP 502"):
        await client.async_login(EMAIL, PASSWORD)


async def test_timeout(cloud: FakeBambuCloud, session: aiohttp.ClientSession) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    cloud.inject_delay(30)
    client = CloudClient(session, endpoints=endpoints_for(cloud), timeout=0.2)

    started = time.monotonic()
    with pytest.raises(CloudConnectError) as caught:
        await client.async_login(EMAIL, PASSWORD)
    assert time.monotonic() - started < 5
    assert isinstance(caught.value, CloudTimeout)
    assert isinstance(caught.value, ConnectTimeout)
    # the next answer is not delayed
    assert isinstance(await client.async_login(EMAIL, PASSWORD), CloudToken)


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    client = CloudClient(session, endpoints=CloudEndpoints.for_region(api_base=base))
    with pytest.raises(CloudConnectError, match="cannot reach") as caught:
        await client.async_login(EMAIL, PASSWORD)
    assert isinstance(caught.value, ConnectError)
    assert isinstance(caught.value, BambuError)
    assert not isinstance(caught.value, CloudTimeout)


# -- tokens -------------------------------------------------------------------------------------


async def test_revoked_and_expired_tokens(cloud: FakeBambuCloud, client: CloudClient) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    revoked = cloud.issue_token(EMAIL)
    expired = cloud.issue_token(EMAIL)
    other = cloud.issue_token(EMAIL)
    assert await client.async_get_printers(revoked) == []

    cloud.revoke_token(revoked)
    cloud.expire_token(expired)
    for token in (revoked, expired, "made-up-token"):
        with pytest.raises(CloudTokenExpired) as caught:
            await client.async_get_printers(token)
        assert isinstance(caught.value, AuthError)
        with pytest.raises(CloudTokenExpired):
            await client.async_get_uid(token)

    cloud.add_user("other@example.com", PASSWORD)
    someone_else = cloud.issue_token("other@example.com")
    assert await client.async_get_uid(other)
    cloud.revoke_all(EMAIL)
    with pytest.raises(CloudTokenExpired):
        await client.async_get_uid(other)
    assert await client.async_get_uid(someone_else)


async def test_short_lived_token(cloud: FakeBambuCloud, client: CloudClient) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    token = cloud.issue_token(EMAIL, lifetime=-1)
    with pytest.raises(CloudTokenExpired):
        await client.async_get_uid(token)


def test_token_value_object() -> None:
    token = CloudToken("tok-secret", expires_at=100.0)
    assert "tok-secret" not in repr(token)
    assert "tok-secret" not in str(token)
    assert not token.is_expired(now=50)
    assert token.is_expired(now=95, margin=10)
    assert token.is_expired(now=100)
    assert not CloudToken("tok-secret").is_expired()
    assert CloudToken("tok-secret", time.time() + 60).is_expired() is False

    stored = json.loads(json.dumps(token.as_dict()))
    assert CloudToken.from_dict(stored) == token
    assert CloudToken.from_dict({"access_token": "t", "expires_at": "12"}) == CloudToken("t", 12.0)
    assert CloudToken.from_dict({"access_token": "t", "expires_at": None}) == CloudToken("t")
    assert CloudToken.from_dict({"access_token": ""}) is None
    assert CloudToken.from_dict({}) is None


# -- parsing ------------------------------------------------------------------------------------


async def test_uid_as_string_and_missing(cloud: FakeBambuCloud, client: CloudClient) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    token = cloud.issue_token(EMAIL)
    cloud.inject_answer(200, '{"uid": " 98765 "}', path=PREFERENCE_PATH)
    assert await client.async_get_uid(token) == "98765"
    cloud.inject_answer(200, '{"uid": 98765.0}', path=PREFERENCE_PATH)
    assert await client.async_get_uid(token) == "98765"
    cloud.inject_answer(200, '{"name": "maker"}', path=PREFERENCE_PATH)
    with pytest.raises(CloudUnexpectedResponse, match="user id"):
        await client.async_get_uid(token)


async def test_printer_list_tolerates_odd_fields(
    cloud: FakeBambuCloud, client: CloudClient
) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    token = cloud.issue_token(EMAIL)
    cloud.add_raw_device(
        EMAIL,
        {
            "dev_id": "01S00C000000003",
            "online": "true",
            "dev_access_code": 12345678,
            "print_status": "running",
            "nozzle_diameter": "0.6",
            "dev_product_name": "A1 mini",
            "unknown_field": {"nested": True},
        },
    )
    cloud.add_raw_device(EMAIL, {"dev_id": 31415, "online": 1, "name": "  ", "nozzle_diameter": []})
    cloud.add_raw_device(EMAIL, {"name": "no serial", "online": True})
    cloud.add_raw_device(EMAIL, {"dev_id": "", "name": "empty serial"})
    cloud.add_raw_device(EMAIL, {"dev_id": True, "online": None})

    printers = await client.async_get_printers(token)

    assert printers == [
        CloudPrinter(
            serial="01S00C000000003",
            name="01S00C000000003",
            online=True,
            access_code="12345678",
            model_name=None,
            product_name="A1 mini",
            print_status="RUNNING",
            nozzle_diameter=0.6,
        ),
        CloudPrinter(serial="31415", name="31415", online=True, access_code=""),
    ]


async def test_printer_list_shapes(cloud: FakeBambuCloud, client: CloudClient) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    token = cloud.issue_token(EMAIL)
    cloud.inject_answer(200, '{"message": "success"}', path=BIND_PATH)
    assert await client.async_get_printers(token) == []
    cloud.inject_answer(200, '{"devices": null}', path=BIND_PATH)
    assert await client.async_get_printers(token) == []
    cloud.inject_answer(200, '{"devices": [null, 7, "x", {"dev_id": "S1"}]}', path=BIND_PATH)
    assert [p.serial for p in await client.async_get_printers(token)] == ["S1"]
    cloud.inject_answer(200, '{"devices": {"dev_id": "S1"}}', path=BIND_PATH)
    with pytest.raises(CloudUnexpectedResponse, match="shape"):
        await client.async_get_printers(token)
    cloud.inject_answer(403, '{"code": 403}', path=BIND_PATH)
    with pytest.raises(CloudUnexpectedResponse, match="HTTP 403"):
        await client.async_get_printers(token)


@pytest.mark.parametrize(
    ("online", "expected"),
    [
        (True, True),
        (False, False),
        ("TRUE", True),
        ("false", False),
        ("1", True),
        ("0", False),
        (0, False),
        (2.0, True),
        (None, False),
        ([], False),
    ],
)
def test_online_strings_or_numbers(online: Any, expected: bool) -> None:
    printer = parse_printer({"dev_id": "S", "online": online})
    assert printer is not None
    assert printer.online is expected


@pytest.mark.parametrize(
    ("nozzle", "expected"), [(0.4, 0.4), ("0.2", 0.2), (True, None), ("wide", None), (None, None)]
)
def test_nozzle_diameter_strings_or_numbers(nozzle: Any, expected: float | None) -> None:
    printer = parse_printer({"dev_id": "S", "nozzle_diameter": nozzle})
    assert printer is not None
    assert printer.nozzle_diameter == expected


async def test_printers_added_and_removed_at_runtime(
    cloud: FakeBambuCloud, client: CloudClient
) -> None:
    cloud.add_user(EMAIL, PASSWORD)
    token = cloud.issue_token(EMAIL)
    cloud.add_printer(EMAIL, "S1", "11111111", model="A1MINI")
    cloud.add_printer(EMAIL, "S2", "22222222", model="H2D", print_status="RUNNING", name="Big")
    assert [p.serial for p in await client.async_get_printers(token)] == ["S1", "S2"]

    cloud.remove_printer(EMAIL, "S1")
    cloud.remove_printer(EMAIL, "not-bound")
    cloud.add_printer(EMAIL, "S3", "33333333", model="Future9", dev_model_name="F9")
    printers = await client.async_get_printers(token)
    assert [(p.serial, p.model_name, p.product_name) for p in printers] == [
        ("S2", "O1D", "H2D"),
        ("S3", "F9", "Future9"),
    ]


# -- regions and MQTT credentials ---------------------------------------------------------------


def test_region_endpoints() -> None:
    world = CloudEndpoints.for_region()
    assert (world.api_base, world.tfa_base, world.mqtt_host, world.mqtt_port) == (
        "https://api.bambulab.com",
        "https://bambulab.com",
        "us.mqtt.bambulab.com",
        8883,
    )
    china = CloudEndpoints.for_region("China")
    assert china.region is Region.CHINA
    assert (china.api_base, china.tfa_base, china.mqtt_host) == (
        "https://api.bambulab.cn",
        "https://bambulab.cn",
        "cn.mqtt.bambulab.com",
    )
    with pytest.raises(ValueError, match="mars"):
        CloudEndpoints.for_region("mars")


def test_mqtt_credentials() -> None:
    creds = cloud_mqtt_credentials(42, CloudToken("tok-secret"), "china")
    assert creds == CloudMqttCredentials("cn.mqtt.bambulab.com", 8883, "u_42", "tok-secret")
    assert "tok-secret" not in repr(creds)
    assert cloud_mqtt_credentials("u_42", "tok").username == "u_42"
    assert cloud_mqtt_credentials("42", "tok").host == "us.mqtt.bambulab.com"
    endpoints = CloudEndpoints.for_region(mqtt_host="127.0.0.1", mqtt_port=1)
    creds = cloud_mqtt_credentials(7, "tok", endpoints)
    assert (creds.host, creds.port, creds.username) == ("127.0.0.1", 1, "u_7")
    assert mqtt_username(" 7 ") == "u_7"


class RecordingResolver(AbstractResolver):
    """Records which host the client asked for, and never lets it reach the network."""

    def __init__(self) -> None:
        self.lookups: list[tuple[str, int]] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append((host, port))
        raise OSError("offline in tests")

    async def close(self) -> None:
        """Nothing to close."""


async def test_china_region_addresses_the_china_service() -> None:
    resolver = RecordingResolver()
    connector = aiohttp.TCPConnector(resolver=resolver)
    async with aiohttp.ClientSession(connector=connector) as http:
        client = CloudClient(http, region="china")
        assert client.region is Region.CHINA
        with pytest.raises(CloudConnectError):
            await client.async_login(EMAIL, PASSWORD)
        with pytest.raises(CloudConnectError):
            await client.async_login_with_tfa("key", "123456")
        with pytest.raises(CloudConnectError):
            await client.async_get_printers("tok")
        default = CloudClient(http)
        with pytest.raises(CloudConnectError):
            await default.async_login_with_tfa("key", "123456")
    assert resolver.lookups == [
        ("api.bambulab.cn", 443),
        ("bambulab.cn", 443),
        ("api.bambulab.cn", 443),
        ("bambulab.com", 443),
    ]


# -- odd answers on the code and two-factor paths -----------------------------------------------


async def test_code_login_odd_answers(cloud: FakeBambuCloud, client: CloudClient) -> None:
    cloud.inject_answer(400, '{"code": "1", "error": "Code expired"}', path=LOGIN_PATH)
    with pytest.raises(CloudCodeExpired):
        await client.async_login_with_code(EMAIL, "123456")
    cloud.inject_answer(400, '{"code": 9, "error": "Account locked"}', path=LOGIN_PATH)
    with pytest.raises(CloudAuthError):
        await client.async_login_with_code(EMAIL, "123456")
    cloud.inject_answer(401, "", path=LOGIN_PATH)
    with pytest.raises(CloudAuthError):
        await client.async_login_with_code(EMAIL, "123456")
    cloud.inject_answer(200, '{"accessToken": "", "loginType": "verifyCode"}', path=LOGIN_PATH)
    with pytest.raises(CloudUnexpectedResponse, match="no token"):
        await client.async_login_with_code(EMAIL, "123456")
    cloud.inject_answer(404, "{}", path=SEND_CODE_PATH)
    with pytest.raises(CloudUnexpectedResponse, match="HTTP 404"):
        await client.async_request_verify_code(EMAIL)


async def test_token_without_lifetime(cloud: FakeBambuCloud, client: CloudClient) -> None:
    cloud.inject_answer(200, '{"accessToken": "tok", "expiresIn": "never"}', path=LOGIN_PATH)
    assert await client.async_login(EMAIL, PASSWORD) == CloudToken("tok")
    cloud.inject_answer(200, '{"accessToken": "tok", "expiresIn": "60"}', path=LOGIN_PATH)
    assert await client.async_login(EMAIL, PASSWORD) == CloudToken("tok", NOW + 60)


async def test_tfa_odd_answers(cloud: FakeBambuCloud, client: CloudClient) -> None:
    expires = "Wed, 21 Oct 2037 07:28:00 GMT"
    cloud.inject_answer(200, "", headers={"Set-Cookie": f"token=tok1; Expires={expires}; Path=/"})
    token = await client.async_login_with_tfa("key", "123456")
    assert token == CloudToken("tok1", datetime(2037, 10, 21, 7, 28, tzinfo=UTC).timestamp())

    cloud.inject_answer(200, "{}", headers={"Set-Cookie": "token=tok2; Expires=someday"})
    assert await client.async_login_with_tfa("key", "123456") == CloudToken("tok2")
    cloud.inject_answer(200, "", headers={"Set-Cookie": "token=tok3; Path=/"})
    assert await client.async_login_with_tfa("key", "123456") == CloudToken("tok3")

    body = '{"accessToken": "tok4", "expiresIn": 100}'
    cloud.inject_answer(200, body, headers={"Set-Cookie": "other=1"})
    assert await client.async_login_with_tfa("key", "123456") == CloudToken("tok4", NOW + 100)

    cloud.inject_answer(200, '{"success": true}')
    with pytest.raises(CloudUnexpectedResponse, match="no token"):
        await client.async_login_with_tfa("key", "123456")
    cloud.inject_answer(418, "{}", path=TFA_PATH)
    with pytest.raises(CloudUnexpectedResponse, match="HTTP 418"):
        await client.async_login_with_tfa("key", "123456")


# -- secrets ------------------------------------------------------------------------------------


async def test_no_secret_in_logs_reprs_or_errors(
    cloud: FakeBambuCloud,
    client: CloudClient,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    code_user = cloud.add_user("code@example.com", PASSWORD, login=LoginMode.CODE)
    tfa_user = cloud.add_user("tfa@example.com", PASSWORD, login=LoginMode.TFA, tfa_code="918273")
    cloud.add_user(EMAIL, PASSWORD)
    cloud.add_printer(EMAIL, "01P00A000000009", "ac-Secret1")
    seen: list[object] = []
    errors: list[BaseException] = []

    async def attempt(coro: Any) -> None:
        try:
            seen.append(await coro)
        except CloudError as err:
            errors.append(err)

    token = await client.async_login(EMAIL, PASSWORD)
    assert isinstance(token, CloudToken)
    seen.append(token)
    await attempt(client.async_get_account(token))
    await attempt(client.async_get_printers(token))
    seen.append((await client.async_get_account(token)).mqtt_credentials())

    await attempt(client.async_login("code@example.com", PASSWORD))
    await client.async_request_verify_code("code@example.com")
    code = code_user.email_code
    assert code is not None
    await attempt(client.async_login_with_code("code@example.com", code + "9"))
    cloud.expire_code("code@example.com")
    await attempt(client.async_login_with_code("code@example.com", code))

    tfa = await client.async_login(tfa_user.account, PASSWORD)
    assert isinstance(tfa, NeedsTfa)
    seen.append(tfa)
    await attempt(client.async_login_with_tfa(tfa.tfa_key, "000000"))
    await attempt(client.async_login_with_tfa(tfa.tfa_key, tfa_user.tfa_code))

    await attempt(client.async_login(EMAIL, PASSWORD + "x"))
    cloud.inject_html(echo_request=True)
    await attempt(client.async_login(EMAIL, PASSWORD))
    cloud.inject_answer(200, f"oops {PASSWORD}", content_type="text/plain", echo_request=True)
    await attempt(client.async_login(EMAIL, PASSWORD))
    cloud.inject_rate_limit(times=5)
    await attempt(client.async_login(EMAIL, PASSWORD))
    cloud.revoke_token(token.access_token)
    await attempt(client.async_get_printers(token))
    cloud.inject_delay(30)
    slow = CloudClient(session, endpoints=client.endpoints, timeout=0.1)
    await attempt(slow.async_login(EMAIL, PASSWORD))

    assert len(errors) >= 9
    tokens = [token.access_token] + [
        item.access_token for item in seen if isinstance(item, CloudToken)
    ]
    secrets = [PASSWORD, code, tfa_user.tfa_code, tfa.tfa_key, "ac-Secret1", *tokens]
    texts = [caplog.text]
    for item in [*seen, *errors]:
        texts += [str(item), repr(item)]
    for err in errors:
        chained = err.__cause__ or err.__context__
        while chained is not None:
            texts += [str(chained), repr(chained)]
            chained = chained.__cause__ or chained.__context__
    for text in texts:
        for secret in secrets:
            assert secret not in text


# -- the fake cloud itself ----------------------------------------------------------------------


async def test_fake_cloud_lifecycle_and_bad_requests(session: aiohttp.ClientSession) -> None:
    cloud = FakeBambuCloud()
    with pytest.raises(RuntimeError):
        _ = cloud.url
    await cloud.start()
    await cloud.start()  # idempotent
    try:
        cloud.add_user(EMAIL, PASSWORD)
        with pytest.raises(KeyError):
            cloud.issue_token("nobody@example.com")
        cloud.revoke_token("unknown")
        cloud.expire_token("unknown")
        cloud.expire_code(EMAIL)  # no code sent yet: nothing to expire
        cloud.add_user(EMAIL, "replaced")
        assert cloud.users[EMAIL].password == "replaced"

        async def post(path: str, data: str) -> tuple[int, dict[str, Any]]:
            async with session.post(cloud.url + path, data=data) as response:
                return response.status, await response.json()

        assert (await post(LOGIN_PATH, "not json"))[0] == 400
        assert (await post(LOGIN_PATH, "[]"))[0] == 400
        status, body = await post(LOGIN_PATH, json.dumps({"account": "nobody", "code": "1"}))
        assert (status, body["code"]) == (400, 2)
        status, body = await post(SEND_CODE_PATH, json.dumps({"email": EMAIL, "type": "other"}))
        assert (status, body["code"]) == (400, 3)
        status, body = await post(TFA_PATH, "nope")
        assert (status, body["reason"]) == (403, "missing_cookie")
        cloud.tfa_csrf_check = False
        status, body = await post(TFA_PATH, "nope")
        assert (status, body["code"]) == (400, 2)
        async with session.get(cloud.url + BIND_PATH, headers={"Authorization": "Basic x"}) as r:
            assert r.status == 401
        cloud.inject_html(path=BIND_PATH, challenge_header=False)
        async with session.get(cloud.url + PREFERENCE_PATH) as r:
            assert r.status == 401  # the fault waits for its own path
        cloud.clear_faults()
        async with session.get(cloud.url + BIND_PATH) as r:
            assert r.status == 401
        clash = FakeBambuCloud(port=cloud.port)
        with pytest.raises(OSError):
            await clash.start()
        with pytest.raises(RuntimeError):
            _ = clash.url
    finally:
        await cloud.stop()
        await cloud.stop()  # idempotent


async def test_fake_cloud_stop_ends_delayed_answers(session: aiohttp.ClientSession) -> None:
    cloud = FakeBambuCloud()
    await cloud.start()
    cloud.add_user(EMAIL, PASSWORD)
    cloud.inject_delay(60)
    client = CloudClient(session, endpoints=endpoints_for(cloud), timeout=0.1)
    with pytest.raises(CloudTimeout):
        await client.async_login(EMAIL, PASSWORD)
    started = time.monotonic()
    await cloud.stop()
    assert time.monotonic() - started < 5
