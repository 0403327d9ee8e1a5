"""What the Bambu cloud hands out: regions and endpoints, tokens, accounts, printers, errors.

Plain typed data and the parsers that build it from the service's JSON, defensively (every
field optional, strings or numbers accepted); :mod:`.cloud` is the HTTP client that uses them.
"""

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Self

from .errors import AuthError, BambuError, ConnectError, ConnectTimeout

_LOGGER = logging.getLogger(__name__)

CLOUD_MQTT_PORT: Final = 8883

# --------------------------------------------------------------------------------------------
# errors


class CloudError(BambuError):
    """Base of every Bambu cloud failure, so callers can catch the cloud as a whole."""


class CloudAuthError(CloudError, AuthError):
    """The service refused the account or password."""


class CloudCodeExpired(CloudError):
    """The email verification code has expired; the user needs a new one."""


class CloudCodeWrong(CloudError):
    """The email verification code is not the one the service sent."""


class CloudTfaWrong(CloudError):
    """The two-factor code (or its sign-in key) was refused."""


class CloudTfaBlocked(CloudError):
    """The two-factor endpoint refused the request before checking the code (no CSRF cookie).

    The emailed code still works: request one and sign in with it instead.
    """


class CloudTokenExpired(CloudError, AuthError):
    """The access token expired or was revoked; a new sign-in (reauth) is needed."""


class CloudRateLimited(CloudError):
    """The service kept answering HTTP 429 after the retries; try again later."""

    def __init__(self, retry_after: float | None) -> None:
        message = "the Bambu cloud is rate limiting requests; try again later"
        if retry_after is not None:
            message += f" (it asked to wait {retry_after:.0f} s)"
        super().__init__(message)
        self.retry_after = retry_after


class CloudUnexpectedResponse(CloudError):
    """The service answered something this client does not understand (HTML, changed API)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CloudConnectError(CloudError, ConnectError):
    """The service cannot be reached (DNS, refused, TLS, dropped connection, 5xx)."""


class CloudTimeout(CloudConnectError, ConnectTimeout):
    """The service did not answer in time."""


# --------------------------------------------------------------------------------------------
# regions and results


class Region(StrEnum):
    """Bambu runs two separate clouds; accounts exist in only one of them."""

    GLOBAL = "global"
    CHINA = "china"


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudEndpoints:
    """Where one region's services live; injectable so tests can use a local fake cloud."""

    region: Region
    api_base: str
    tfa_base: str
    mqtt_host: str
    mqtt_port: int = CLOUD_MQTT_PORT

    @classmethod
    def for_region(
        cls,
        region: Region | str = Region.GLOBAL,
        *,
        api_base: str | None = None,
        tfa_base: str | None = None,
        mqtt_host: str | None = None,
        mqtt_port: int | None = None,
    ) -> Self:
        """Return the region's real endpoints, with any of them replaced by the given ones."""
        real = _REGION_ENDPOINTS[Region(str(region).lower())]
        return cls(
            region=real.region,
            api_base=(api_base or real.api_base).rstrip("/"),
            tfa_base=(tfa_base or real.tfa_base).rstrip("/"),
            mqtt_host=mqtt_host or real.mqtt_host,
            mqtt_port=mqtt_port or real.mqtt_port,
        )


_REGION_ENDPOINTS: Final = {
    Region.GLOBAL: CloudEndpoints(
        region=Region.GLOBAL,
        api_base="https://api.bambulab.com",
        tfa_base="https://bambulab.com",
        mqtt_host="us.mqtt.bambulab.com",
    ),
    Region.CHINA: CloudEndpoints(
        region=Region.CHINA,
        api_base="https://api.bambulab.cn",
        tfa_base="https://bambulab.cn",
        mqtt_host="cn.mqtt.bambulab.com",
    ),
}


@dataclass(frozen=True, slots=True)
class CloudToken:
    """An access token (about 90 days) and when it expires; the only secret worth storing."""

    access_token: str = field(repr=False)
    expires_at: float | None = None  # seconds since the epoch; None when the service did not say

    def is_expired(self, now: float | None = None, margin: float = 0.0) -> bool:
        """Tell whether the token is past (or within `margin` seconds of) its expiry."""
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) + margin >= self.expires_at

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable form for storage (it contains the token)."""
        return {"access_token": self.access_token, "expires_at": self.expires_at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self | None:
        """Rebuild a token stored with `as_dict`; None when the data holds no usable token."""
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            return None
        return cls(token, as_float(data.get("expires_at")))


@dataclass(frozen=True, slots=True)
class NeedsVerifyCode:
    """The service wants an email code: request one, then log in with it."""


@dataclass(frozen=True, slots=True)
class NeedsTfa:
    """Two-factor authentication is on: log in with this key and the authenticator's code."""

    tfa_key: str = field(repr=False)


LoginResult = CloudToken | NeedsVerifyCode | NeedsTfa


@dataclass(frozen=True, slots=True)
class CloudMqttCredentials:
    """What the cloud MQTT broker wants: TLS to `host` (public CAs), user `u_<uid>`, the token."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class CloudAccount:
    """A signed-in account: its numeric user id, token and region endpoints."""

    uid: str
    token: CloudToken
    endpoints: CloudEndpoints

    @property
    def mqtt_username(self) -> str:
        """Return the cloud broker user name, ``u_<uid>``."""
        return mqtt_username(self.uid)

    def mqtt_credentials(self) -> CloudMqttCredentials:
        """Return the credentials for this account's cloud MQTT broker."""
        return cloud_mqtt_credentials(self.uid, self.token, self.endpoints)


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudPrinter:
    """One printer bound to the account, as the bind list describes it."""

    serial: str
    name: str
    online: bool
    access_code: str = field(repr=False)
    model_name: str | None = None  # dev_model_name, e.g. "C12", "BL-P001"
    product_name: str | None = None  # dev_product_name, e.g. "P1S", "X1 Carbon"
    print_status: str | None = None  # e.g. "RUNNING", "SUCCESS", "IDLE"
    nozzle_diameter: float | None = None


def mqtt_username(uid: str | int) -> str:
    """Return the cloud broker user name for a user id (``u_<uid>``; an existing prefix kept)."""
    text = str(uid).strip()
    return text if text.startswith("u_") else f"u_{text}"


def cloud_mqtt_credentials(
    uid: str | int,
    token: CloudToken | str,
    endpoints: CloudEndpoints | Region | str = Region.GLOBAL,
) -> CloudMqttCredentials:
    """Return the cloud MQTT broker login for an account: ``u_<uid>`` / the access token."""
    if not isinstance(endpoints, CloudEndpoints):
        endpoints = CloudEndpoints.for_region(endpoints)
    return CloudMqttCredentials(
        host=endpoints.mqtt_host,
        port=endpoints.mqtt_port,
        username=mqtt_username(uid),
        password=token_text(token),
    )


# --------------------------------------------------------------------------------------------
# defensive field parsing


def as_str(value: Any) -> str | None:
    """Return a non-empty string for strings and numbers, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def as_float(value: Any) -> float | None:
    """Return a float for numbers and numeric strings, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def as_bool(value: Any) -> bool:
    """Return a boolean for booleans, numbers and the usual strings; False otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on", "online"}
    return False


def as_code(value: Any) -> int | None:
    """Return the service's numeric error code (number or numeric string), else None."""
    number = as_float(value)
    return int(number) if number is not None and number.is_integer() else None


def token_text(token: CloudToken | str) -> str:
    """Return the bearer text of a token object or of the plain string."""
    return token.access_token if isinstance(token, CloudToken) else token


def parse_printer(device: Any) -> CloudPrinter | None:
    """Turn one bind-list entry into a `CloudPrinter`; None when it names no serial."""
    if not isinstance(device, Mapping):
        return None
    serial = as_str(device.get("dev_id"))
    if serial is None:
        return None
    status = as_str(device.get("print_status"))
    return CloudPrinter(
        serial=serial,
        name=as_str(device.get("name")) or serial,
        online=as_bool(device.get("online")),
        access_code=as_str(device.get("dev_access_code")) or "",
        model_name=as_str(device.get("dev_model_name")),
        product_name=as_str(device.get("dev_product_name")),
        print_status=status.upper() if status else None,
        nozzle_diameter=as_float(device.get("nozzle_diameter")),
    )


def parse_printers(data: Mapping[str, Any]) -> list[CloudPrinter]:
    """Turn a bind-list answer into printers, skipping entries without a serial."""
    devices = data.get("devices")
    if devices is None:
        return []
    if not isinstance(devices, list):
        raise CloudUnexpectedResponse(
            "the Bambu cloud printer list has an unexpected shape; the service may have changed"
        )
    printers: list[CloudPrinter] = []
    for device in devices:
        printer = parse_printer(device)
        if printer is None:
            _LOGGER.debug("Skipping a bind-list entry without a serial")
            continue
        printers.append(printer)
    return printers
