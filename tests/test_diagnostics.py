"""Diagnostics with a mocked client: the merged state per capture, every secret redacted."""

import json
from collections.abc import Mapping
from unittest.mock import MagicMock

import pytest
from homeassistant.const import (
    CONF_EMAIL,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_USERNAME,
)
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.bambu_printer.const import CONF_ACCESS_CODE, CONF_UID, DOMAIN
from custom_components.bambu_printer.diagnostics import async_get_config_entry_diagnostics

from .captures import CAPTURE_NAMES
from .mock_client import ACCESS_CODE, HOST, SERIAL, push_report

REDACTED = "**REDACTED**"


@pytest.mark.parametrize("capture", CAPTURE_NAMES)
@pytest.mark.usefixtures("init_integration")
async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Diagnostics show the entry and what the printer reported, without code or address."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)
    assert diagnostics == snapshot
    text = json.dumps(diagnostics)
    assert ACCESS_CODE not in text
    assert HOST not in text


@pytest.mark.parametrize("capture", ["MOCK-X1CMULTIAMS"])  # its modules have serials
@pytest.mark.usefixtures("init_integration")
async def test_diagnostics_redact_every_secret_field(
    hass: HomeAssistant, mock_printer_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """Every field that can carry a secret or an address is redacted, wherever it sits."""
    secret_ip = "10.77.66.55"
    report = {
        "print": {
            "command": "push_status",
            "ipcam": {"rtsp_url": f"rtsps://bblp:{ACCESS_CODE}@{secret_ip}:322/live"},
            "net": {"info": [{"ip": 927616522, "mask": 16777215}]},
            "upgrade_state": {"sn": "UPGRADE-SN-0001"},
            "ams": {"ams": [{"id": "0", "sn": "AMS-SN-0002", "tray": []}]},
            "access_code": "field-access-code",
            "dev_access_code": "field-dev-access-code",
            "password": "field-password",
            "token": "field-token",
            "uid": "field-uid-1700000001",
            "user_id": "field-user-id-42",
            "url": "https://example.invalid/signed?key=field-url",
            "oss_url": "https://oss.example.invalid/field-oss-url",
            "nozzle_temper": 25.5,
        }
    }
    await push_report(hass, mock_printer_client, report)
    module_serials = [
        str(module["sn"])
        for module in mock_printer_client.state.versions.values()
        if isinstance(module, Mapping) and module.get("sn") not in (None, REDACTED)
    ]
    assert module_serials

    account_data = {
        **mock_config_entry.data,
        CONF_TOKEN: "entry-token-abcdefgh",
        CONF_UID: "1700000099",
        CONF_EMAIL: "maker@example.com",
        CONF_USERNAME: "u_1700000099",
        CONF_PASSWORD: "entry-password-never-kept",
    }
    account_entry = MockConfigEntry(
        domain=DOMAIN,
        title=mock_config_entry.title,
        unique_id=mock_config_entry.unique_id,
        data=account_data,
    )
    account_entry.runtime_data = mock_config_entry.runtime_data
    diagnostics = await async_get_config_entry_diagnostics(hass, account_entry)
    text = json.dumps(diagnostics, default=str)

    secrets = [
        ACCESS_CODE,
        HOST,
        secret_ip,
        "927616522",
        "UPGRADE-SN-0001",
        "AMS-SN-0002",
        *(value for value in module_serials if value != SERIAL),
        *(
            str(value)
            for key, value in account_data.items()
            if key in {CONF_TOKEN, CONF_UID, CONF_EMAIL, CONF_USERNAME, CONF_PASSWORD}
        ),
        *(
            value
            for key, value in report["print"].items()
            if isinstance(value, str) and key != "command"
        ),
    ]
    for secret in secrets:
        assert secret not in text, secret
    data = diagnostics["entry"]["data"]
    for key in (CONF_ACCESS_CODE, CONF_HOST, CONF_TOKEN, CONF_UID, CONF_EMAIL, CONF_USERNAME):
        assert data[key] == REDACTED, key
    assert data[CONF_PASSWORD] == REDACTED
    shown = diagnostics["state"]["print"]
    assert shown["ipcam"]["rtsp_url"] == REDACTED
    assert shown["net"]["info"][0]["ip"] == REDACTED
    assert shown["upgrade_state"]["sn"] == REDACTED
    assert shown["ams"]["ams"][0]["sn"] == REDACTED
    for key in ("access_code", "dev_access_code", "password", "token", "uid", "user_id", "url"):
        assert shown[key] == REDACTED, key
    assert shown["oss_url"] == REDACTED
    for module in diagnostics["state"]["versions"].values():
        assert module.get("sn", REDACTED) == REDACTED
    # What the diagnostics are for is still there.
    assert shown["nozzle_temper"] == 25.5
    assert diagnostics["connection"]["model"] == "X1C"
