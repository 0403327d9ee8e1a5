"""What a user types into the setup forms: trimmed, checked, and each mistake tied to its field.

The rules follow what Bambu's own software accepts (docs/protocol.md, "Setup input"): a serial
number is 15 letters and digits, upper case (lower case is upper-cased, as Bambu Studio does);
a LAN access code is 8 characters (kept as typed: the printer compares it exactly); a
host is an IP address or a DNS name (labels of 1-63 letters, digits or hyphens, at most 253
characters). Checking them here keeps malformed input away from the network code, which would
otherwise fail with an unhelpful error. What passes is then tried on the printer
(`async_try`), whose failures become form errors too; every setup form shares that check.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Mapping
from contextlib import suppress
from typing import Any, Final

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant

from .connection import async_connection_settings
from .const import (
    CONF_ACCESS_CODE,
    CONF_CAMERA_PORT,
    CONF_CONNECTION,
    CONF_FTPS_PORT,
    CONF_SERIAL,
    CONNECTION_CLOUD,
    CONNECTION_LOCAL,
    MQTT_PORT,
    SECTION_ADVANCED,
    VALIDATE_TIMEOUT,
)
from .printer.errors import (
    AuthError,
    CommandError,
    ConnectError,
    ConnectTimeout,
    TlsError,
    TlsHandshakeFailed,
    TlsNameMismatch,
    TlsUntrusted,
)
from .printer.models import PrinterModel
from .printer.mqtt import PrinterClient

_LOGGER = logging.getLogger(__name__)

# Form errors, one per field (translations/en.json, config.error).
ERROR_HOST: Final = "invalid_host"
ERROR_SERIAL: Final = "invalid_serial"
ERROR_ACCESS_CODE: Final = "invalid_access_code"
ERROR_ACCOUNT: Final = "invalid_email"

# Form error of a failed connection check, by error type (the first match wins): for a printer
# on the LAN, and for one reached through the Bambu cloud broker.
CONNECT_ERRORS: Final[tuple[tuple[type[Exception], str, str], ...]] = (
    (TlsUntrusted, "tls_untrusted", "tls_untrusted"),
    (TlsNameMismatch, "tls_failed", "tls_untrusted"),
    (TlsHandshakeFailed, "tls_handshake", "tls_handshake"),
    (TlsError, "tls_failed", "tls_failed"),
    (AuthError, "invalid_auth", "cloud_broker_refused"),
    (ConnectTimeout, "timeout", "cloud_timeout"),
    (ConnectError, "cannot_connect", "cloud_cannot_connect"),
)

_SERIAL: Final = re.compile(r"[0-9A-Z]{15}")
# Bambu Studio takes letters and digits only; any 8 visible ASCII characters pass here, since
# the printer is the judge and a stricter rule could lock out a code we have not seen.
_ACCESS_CODE: Final = re.compile(r"[!-~]{8}")
_LABEL: Final = re.compile(r"[0-9A-Za-z](?:[0-9A-Za-z-]{0,61}[0-9A-Za-z])?")
# An account name is one word of printable characters, at most 254 long (the longest email
# address SMTP carries); no stricter, since pybambu also signs in accounts named by a phone.
_ACCOUNT: Final = re.compile(r"[^\s\x00-\x1f\x7f]{1,254}")
_DOTTED_NUMBERS: Final = re.compile(r"[0-9.]+")
_MAX_HOST: Final = 253


def check_host(value: Any) -> str | None:
    """Return the trimmed host when it is an IP address or a valid DNS name, else None."""
    host = str(value or "").strip()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    name = host.removesuffix(".")
    if not name or len(name) > _MAX_HOST or _DOTTED_NUMBERS.fullmatch(name):
        return None  # empty, too long, or an IPv4 address with a number out of range
    if all(_LABEL.fullmatch(label) for label in name.split(".")):
        return host
    return None


def check_serial(value: Any) -> str | None:
    """Return the serial trimmed and upper-cased when it has Bambu's format, else None."""
    serial = str(value or "").strip().upper()
    return serial if _SERIAL.fullmatch(serial) else None


def check_access_code(value: Any) -> str | None:
    """Return the trimmed access code when it has the printer's format, else None."""
    code = str(value or "").strip()
    return code if _ACCESS_CODE.fullmatch(code) else None


def check_account(value: Any) -> str | None:
    """Return the trimmed Bambu account name when it can be one, else None."""
    account = str(value or "").strip()
    return account if _ACCOUNT.fullmatch(account) else None


def local_input(
    user_input: Mapping[str, Any], *, code_optional: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return (entry data, errors by field) from the LAN form (advanced section flattened).

    With ``code_optional`` an empty access code is left out (reconfigure keeps the stored one).
    """
    data = {key: value for key, value in user_input.items() if key != SECTION_ADVANCED}
    data.update(user_input.get(SECTION_ADVANCED, {}))
    errors: dict[str, str] = {}
    checks = {CONF_HOST: (check_host, ERROR_HOST), CONF_SERIAL: (check_serial, ERROR_SERIAL)}
    checks[CONF_ACCESS_CODE] = (check_access_code, ERROR_ACCESS_CODE)
    if code_optional and not str(data.get(CONF_ACCESS_CODE) or "").strip():
        del checks[CONF_ACCESS_CODE]
        data.pop(CONF_ACCESS_CODE, None)
    for key, (check, error) in checks.items():
        if key in data:
            checked = check(data[key])
            if checked is None:
                errors[key] = error
            else:
                data[key] = checked
    data[CONF_PORT] = int(data.get(CONF_PORT, MQTT_PORT))
    for optional_port in (CONF_CAMERA_PORT, CONF_FTPS_PORT):
        if data.get(optional_port) is not None:
            data[optional_port] = int(data[optional_port])
        else:
            data.pop(optional_port, None)
    return data, errors


def account_connection(
    data: Mapping[str, Any], user_input: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return an account printer's data reaching it over the LAN (IP given) or the cloud.

    The errors name the host field when the typed host is not a valid one.
    """
    new_data = {key: value for key, value in data.items() if key not in (CONF_HOST, CONF_PORT)}
    if not str(user_input.get(CONF_HOST) or "").strip():
        new_data[CONF_CONNECTION] = CONNECTION_CLOUD
        return new_data, {}
    host = check_host(user_input[CONF_HOST])
    if host is None:
        return new_data, {CONF_HOST: ERROR_HOST}
    port = user_input.get(SECTION_ADVANCED, {}).get(CONF_PORT, MQTT_PORT)
    new_data.update({CONF_CONNECTION: CONNECTION_LOCAL, CONF_HOST: host, CONF_PORT: int(port)})
    return new_data, {}


def connect_problem(
    err: Exception, data: Mapping[str, Any], name_field: str
) -> tuple[str, str, dict[str, str]]:
    """Return (field, error key, placeholders) for a failed connection check.

    ``name_field`` is where a certificate for another name points: the serial in the setup
    form, the host where the serial is fixed, the form as a whole where neither is shown.
    """
    cloud = data.get(CONF_CONNECTION) == CONNECTION_CLOUD
    if isinstance(err, TlsNameMismatch) and err.presented is not None and not cloud:
        key = "tls_wrong_serial" if name_field == CONF_SERIAL else "tls_other_printer"
        return name_field, key, {"cert_name": err.presented, "serial": err.expected}
    _kind, local_key, cloud_key = next(row for row in CONNECT_ERRORS if isinstance(err, row[0]))
    return "base", cloud_key if cloud else local_key, {}


async def async_validate(hass: HomeAssistant, data: Mapping[str, Any]) -> PrinterModel:
    """Connect like the integration will, wait for a report, and tell which model answered.

    Raises the library's typed errors; the caller maps them to form errors.
    """
    client = PrinterClient(await async_connection_settings(hass, data))
    try:
        await client.async_connect(timeout=VALIDATE_TIMEOUT)
        # The module list that names the model may trail the first status report; ask for
        # it and wait, since the entry's title needs the model. Old firmware may not answer.
        with suppress(CommandError):
            await client.async_request(client.commands.get_version(), timeout=5)
        return client.state.model or PrinterModel.UNKNOWN
    finally:
        await client.async_stop()


async def async_try(
    hass: HomeAssistant, data: Mapping[str, Any], name_field: str = "base"
) -> tuple[dict[str, str], dict[str, str], PrinterModel]:
    """Validate and return (errors by field, message placeholders, model)."""
    try:
        model = await async_validate(hass, data)
    except (TlsError, AuthError, ConnectError) as err:  # their messages carry no secrets
        level = logging.WARNING if isinstance(err, TlsError) else logging.DEBUG
        _LOGGER.log(level, "Checking the connection to %s failed: %s", data[CONF_SERIAL], err)
        field, key, placeholders = connect_problem(err, data, name_field)
        return {field: key}, placeholders, PrinterModel.UNKNOWN
    except Exception:
        _LOGGER.exception("Unexpected error while connecting to the printer")
        return {"base": "unknown"}, {}, PrinterModel.UNKNOWN
    return {}, {}, model
