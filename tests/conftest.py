"""Fixtures shared by the Home Assistant level tests."""

import asyncio
import contextlib
import ipaddress
import logging
import re
import socket
import traceback
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any
from unittest.mock import MagicMock, PropertyMock, patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_EMAIL, CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.util.read_only_dict import ReadOnlyDict
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
    HomeAssistantSnapshotSerializer,
)
from syrupy.assertion import SnapshotAssertion

# Import our package before Home Assistant starts, so the test plugin's own
# `custom_components` package cannot shadow it.
import custom_components.bambu_printer  # noqa: F401
from custom_components.bambu_printer import account, discovery, files
from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_CONNECTION,
    CONF_FTPS_PORT,
    CONF_MODEL,
    CONF_REGION,
    CONF_SERIAL,
    CONF_TOKEN_EXPIRES_AT,
    CONF_UID,
    CONNECTION_CLOUD,
    CONNECTION_LOCAL,
    DOMAIN,
    PLATFORMS,
)
from custom_components.bambu_printer.printer.cloud import CloudEndpoints, Region, mqtt_username
from custom_components.bambu_printer.printer.error_texts import ErrorTextsUnavailable
from simulator import issued
from simulator.cloud_server import FakeBambuCloud, FakeCloudUser
from simulator.device import SimulatedPrinter
from simulator.testing import start_printer, trusting_ca

from .mock_client import ACCESS_CODE as MOCK_ACCESS_CODE
from .mock_client import capture_entry, new_mock_client
from .mock_storage import FakeStorage


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Make sure a current event loop exists before the test's fixtures run.

    The Home Assistant plugin's autouse fixtures ask for the current loop in every test;
    code that ends with `asyncio.run()` (the simulator's command line) leaves none behind.
    """
    with warnings.catch_warnings():
        # Creating the first loop implicitly is deprecated; that is what we replace here.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            asyncio.set_event_loop(asyncio.new_event_loop())


@pytest.fixture(autouse=True)
def _enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant load this custom integration in every test that starts `hass`."""
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")


BRAND_ICON = f"https://brands.home-assistant.io/_/{DOMAIN}/icon.png"
LOCAL_BRAND_ICON = f"/api/brands/integration/{DOMAIN}/icon.png"


class ReleaseStableSerializer(HomeAssistantSnapshotSerializer):
    """Home Assistant's serializer, writing what differs between supported releases one way.

    Newer releases key state attributes and entity capabilities with string enums (written as
    their reprs) and give new entities a computed-name alias; those names are compared as
    strings here, and the aliases as the list of names users gave (none in these tests).
    The update entity's default picture, the integration's brand icon, moved from the brands
    site to Home Assistant's own brands API (2026.3): it is written as the older address.
    """

    @classmethod
    def _serializable_state(cls, data: State) -> Any:
        serialized = super()._serializable_state(data)
        attributes = _str_keys(serialized["attributes"])
        if attributes.get("entity_picture") == LOCAL_BRAND_ICON:
            attributes["entity_picture"] = BRAND_ICON
        serialized["attributes"] = ReadOnlyDict(attributes)
        return serialized

    @classmethod
    def _serializable_entity_registry_entry(cls, data: er.RegistryEntry) -> Any:
        serialized = super()._serializable_entity_registry_entry(data)
        if serialized["capabilities"] is not None:
            serialized["capabilities"] = _str_keys(serialized["capabilities"])
        serialized["aliases"] = sorted(
            alias for alias in serialized["aliases"] if isinstance(alias, str)
        )
        return serialized


def _str_keys(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Return the mapping with plain string keys (string enums become their values)."""
    return {str(key): value for key, value in mapping.items()}


class ReleaseStableSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshot extension with the release-stable serializer."""

    serializer_class = ReleaseStableSerializer


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's snapshot format and folder (tests/snapshots) on every supported release.

    The newest test plugin's own `snapshot` fixture loses to syrupy's default one, which keeps
    enum reprs and another folder; naming the extension here, with the release-stable
    serializer, gives one snapshot set for both.
    """
    return snapshot.use_extension(ReleaseStableSnapshotExtension)


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answer name lookups like a resolver that knows no names, without sending a query.

    Newer test harnesses refuse every lookup, and tests send nothing beyond loopback. Like the
    system resolver, this encodes the name first (an over-long label fails there).
    """
    lookup = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if isinstance(host, str):
                host.encode("idna")
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# Loggers switched to DEBUG during every test, so the secret check sees their debug records too.
SECRET_CHECKED_LOGGERS = ("custom_components.bambu_printer", "simulator")


class SecretScanner(logging.Handler):
    """Notes every log record that shows a secret the simulator or fake cloud handed out.

    Secrets of 8 characters or more are searched anywhere in the record (message, arguments,
    exception text); shorter ones (6-digit email and two-factor codes) only as whole words, so
    ordinary numbers do not look like leaks. Only the where, never the secret, is kept.
    """

    def __init__(self, since: int) -> None:
        super().__init__(logging.NOTSET)
        self._since = since
        self._seen = -1
        self._long: tuple[str, ...] = ()
        self._short: re.Pattern[str] | None = None
        self.leaks: list[str] = []

    def _refresh(self) -> None:
        latest = issued.latest()
        if latest == self._seen:
            return
        self._seen = latest
        found = issued.issued_since(self._since)
        self._long = tuple(secret for secret in found if len(secret) >= 8)
        short = sorted(re.escape(secret) for secret in found if 4 <= len(secret) < 8)
        self._short = (
            re.compile(rf"(?<![0-9A-Za-z])(?:{'|'.join(short)})(?![0-9A-Za-z])") if short else None
        )

    @staticmethod
    def _texts(record: logging.LogRecord) -> list[str]:
        texts = [str(record.msg)]
        try:
            texts.append(record.getMessage())
        except Exception as err:  # noqa: BLE001  (a broken record is not this check's business)
            texts.append(repr(err))
        args = record.args
        values = args.values() if isinstance(args, dict) else (args or ())
        for value in values:
            if isinstance(value, str):
                texts.append(value)
            elif not isinstance(value, (int, float)):
                try:
                    texts.append(repr(value))
                except Exception:  # noqa: BLE001, S112
                    continue
        if record.exc_info and record.exc_info[1] is not None:
            texts.extend(traceback.format_exception(record.exc_info[1]))
        if record.exc_text:
            texts.append(record.exc_text)
        if record.stack_info:
            texts.append(record.stack_info)
        return texts

    def emit(self, record: logging.LogRecord) -> None:
        """Check one record against the secrets handed out so far."""
        self._refresh()
        if not self._long and self._short is None:
            return
        text = "\n".join(self._texts(record))
        if any(secret in text for secret in self._long) or (
            self._short is not None and self._short.search(text)
        ):
            self.leaks.append(
                f"{record.levelname} {record.name} ({record.pathname}:{record.lineno})"
            )


@contextlib.contextmanager
def on_root_logger(handler: logging.Handler) -> Iterator[None]:
    """Let `handler` see every log record while the block runs."""
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


@pytest.fixture(autouse=True)
def _no_secret_in_logs() -> Iterator[None]:
    """Fail any test whose log (any level, any logger) shows a secret handed out meanwhile."""
    scanner = SecretScanner(issued.mark())
    loggers = [logging.getLogger(name) for name in SECRET_CHECKED_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        with on_root_logger(scanner):
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    if scanner.leaks:
        pytest.fail("a secret appeared in these log records:\n" + "\n".join(scanner.leaks))


# How Home Assistant's deprecation helpers (helpers.frame.report_usage) word what they report.
DEPRECATION_REPORT = re.compile(r"Detected (?:code that|that (?:custom )?integration)")


class DeprecationScanner(logging.Handler):
    """Notes every record in which Home Assistant reports a deprecated use."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message of a deprecation report."""
        message = record.getMessage()
        if DEPRECATION_REPORT.search(message):
            self.reports.append(f"{record.name}: {message[:300]}")


@pytest.fixture(autouse=True)
def _no_deprecated_usage() -> Iterator[None]:
    """Fail any test during which Home Assistant reports a deprecated use (any release)."""
    scanner = DeprecationScanner()
    with on_root_logger(scanner):
        yield
    if scanner.reports:
        pytest.fail("Home Assistant reported deprecated use:\n" + "\n".join(scanner.reports))


@pytest.fixture(autouse=True)
def _error_texts_offline(request: pytest.FixtureRequest) -> Iterator[None]:
    """Bambu's error text server is out of reach unless a test brings its fake one."""
    if "error_text_server" in request.fixturenames:
        yield
        return

    async def offline(*_args: Any, **_kwargs: Any) -> Any:
        raise ErrorTextsUnavailable("offline in tests")

    with patch("custom_components.bambu_printer.error_texts.async_fetch_error_texts", offline):
        yield


@pytest.fixture(autouse=True)
def _discovery_on_loopback(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the LAN discovery listener on loopback, on a free port (the network rule).

    Tests without sockets (the mocked client's) get no listener: nothing could reach it.
    Tests that enable sockets get them before any entry sets up, whichever fixture asks.
    """
    monkeypatch.setattr(discovery, "LISTEN_HOST", "127.0.0.1")
    monkeypatch.setattr(discovery, "LISTEN_PORT", 0)
    if "socket_enabled" in request.fixturenames:
        request.getfixturevalue("socket_enabled")
    else:

        async def no_socket(_self: discovery.PrinterDiscovery) -> None:
            return None

        monkeypatch.setattr(discovery.PrinterDiscovery, "async_start", no_socket)


@pytest.fixture
async def printer(socket_enabled: None) -> AsyncIterator[SimulatedPrinter]:
    """Run a simulated P1S (its own TLS Mosquitto on loopback) for the test."""
    async with start_printer("P1S") as simulated:
        yield simulated


@pytest.fixture
def trust_simulator(printer: SimulatedPrinter) -> Iterator[None]:
    """Trust the simulator's test CA instead of Bambu's (its printers cannot hold Bambu certs)."""
    with trusting_ca(printer.ca_path):
        yield


def entry_data(printer: SimulatedPrinter, **overrides: Any) -> dict[str, Any]:
    """Return config entry data pointing at a simulated printer."""
    return {
        CONF_HOST: printer.host,
        CONF_PORT: printer.port,
        CONF_SERIAL: printer.serial,
        CONF_ACCESS_CODE: printer.access_code,
        CONF_CONNECTION: CONNECTION_LOCAL,
        CONF_MODEL: printer.model,
        **overrides,
    }


def state_of(hass: HomeAssistant, entity_id: str) -> State:
    """Return an entity's state, which must exist."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


def make_entry(printer: SimulatedPrinter, **options: Any) -> MockConfigEntry:
    """Return a config entry (not yet added) for a simulated printer."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"{printer.model} {printer.serial}",
        unique_id=printer.serial,
        data=entry_data(printer),
        options=options,
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add the entry to Home Assistant, set it up and wait until its entities exist."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@contextlib.asynccontextmanager
async def card_entry(
    hass: HomeAssistant, printer: SimulatedPrinter, **options: Any
) -> AsyncIterator[MockConfigEntry]:
    """Set up a P1S entry whose file server is reachable (the simulator's port is not 990).

    Titled "P1S" so its entity ids are short; timelapses are looked for at once.
    """
    entry = make_entry(printer, **options)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, title="P1S", data={**entry.data, CONF_FTPS_PORT: printer.ftps_port}
    )
    with trusting_ca(printer.ca_path), patch.object(files, "TIMELAPSE_DELAY", 0):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        yield entry
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, printer: SimulatedPrinter, trust_simulator: None
) -> AsyncIterator[MockConfigEntry]:
    """A printer entry set up against the simulator; unloaded after the test."""
    entry = await setup_entry(hass, make_entry(printer))
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


# --- Bambu account (fake cloud) ---------------------------------------------------------------

CLOUD_EMAIL = "maker@example.com"
CLOUD_PASSWORD = "Pa55-word-never-stored"
# The cloud broker's host name in tests: the simulated printer's broker stands in for Bambu's.
CLOUD_BROKER_HOST = "127.0.0.1"


@pytest.fixture
async def fake_cloud(socket_enabled: None) -> AsyncIterator[FakeBambuCloud]:
    """Run the simulator's fake Bambu cloud on loopback."""
    async with FakeBambuCloud() as cloud:
        yield cloud


@pytest.fixture
async def cloud_printer(socket_enabled: None) -> AsyncIterator[SimulatedPrinter]:
    """A simulated P1S whose broker also serves as the cloud broker (its certificate names it)."""
    async with start_printer("P1S", server_names=(CLOUD_BROKER_HOST,)) as simulated:
        yield simulated


@pytest.fixture
def use_fake_cloud(
    fake_cloud: FakeBambuCloud,
    cloud_printer: SimulatedPrinter,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FakeBambuCloud]:
    """Send the integration to the fake cloud, with `cloud_printer`'s broker as cloud broker.

    Patches where the library says each region's cloud lives, trusts the printer's test CA,
    keeps rate-limit retries short, and makes the broker accept each new token the fake
    cloud issues as `u_<uid>` (only the newest, as a revoked token would be).
    """
    real = CloudEndpoints.for_region

    def endpoints(_cls: type[CloudEndpoints], region: Region | str = Region.GLOBAL) -> Any:
        return real(
            region,
            api_base=fake_cloud.url,
            tfa_base=fake_cloud.url,
            mqtt_host=CLOUD_BROKER_HOST,
            mqtt_port=cloud_printer.port,
        )

    async def accept_token(user: FakeCloudUser, token: str) -> None:
        await cloud_printer.broker.set_password(mqtt_username(user.uid), token)

    monkeypatch.setattr(CloudEndpoints, "for_region", classmethod(endpoints))
    monkeypatch.setattr(account, "CLOUD_BACKOFF", 0.01)
    fake_cloud.add_token_listener(accept_token)
    with trusting_ca(cloud_printer.ca_path):
        yield fake_cloud


def bind_printer(cloud: FakeBambuCloud, printer: SimulatedPrinter, **extra: Any) -> None:
    """Bind a simulated printer to the test account, named "Workshop <model>"."""
    cloud.add_printer(
        CLOUD_EMAIL,
        printer.serial,
        printer.access_code,
        model=printer.model,
        name=f"Workshop {printer.model}",
        **extra,
    )


async def signed_in_data(
    cloud: FakeBambuCloud, printer: SimulatedPrinter, *, host: str | None = None
) -> dict[str, Any]:
    """Return account entry data for `printer` with a fresh token its broker accepts.

    Through the cloud broker unless `host` is given (then over the LAN, port of the printer).
    """
    user = cloud.users[CLOUD_EMAIL]
    token = cloud.issue_token(CLOUD_EMAIL)
    await printer.broker.set_password(mqtt_username(user.uid), token)
    data: dict[str, Any] = {
        CONF_SERIAL: printer.serial,
        CONF_ACCESS_CODE: printer.access_code,
        CONF_MODEL: printer.model,
        CONF_TOKEN: token,
        CONF_TOKEN_EXPIRES_AT: None,
        CONF_UID: str(user.uid),
        CONF_REGION: str(Region.GLOBAL),
        CONF_EMAIL: CLOUD_EMAIL,
        CONF_CONNECTION: CONNECTION_CLOUD,
    }
    if host is not None:
        data.update({CONF_CONNECTION: CONNECTION_LOCAL, CONF_HOST: host, CONF_PORT: printer.port})
    return data


def make_account_entry(printer: SimulatedPrinter, data: dict[str, Any]) -> MockConfigEntry:
    """Return an account entry (not yet added) for a simulated printer."""
    return MockConfigEntry(
        domain=DOMAIN, title=f"Workshop {printer.model}", unique_id=printer.serial, data=data
    )


# --- Mocked printer client (Home Assistant core style) -----------------------------------------
# For tests where the mapping to Home Assistant is the point: the client the integration creates
# is a mock (tests/mock_client.py) whose state merged a real capture; no broker, socket or TLS.


@pytest.fixture
def capture() -> str:
    """The capture the mocked printer reports; tests parametrize it over `CAPTURE_NAMES`."""
    return "P1P"


@pytest.fixture
def mock_config_entry(capture: str) -> MockConfigEntry:
    """A LAN entry for the capture's printer (title: its product name)."""
    return capture_entry(capture)


@pytest.fixture
def mock_printer_client(capture: str, mock_storage: FakeStorage) -> Iterator[MagicMock]:
    """Replace the PrinterClient the integration creates with a mock fed from the capture.

    Its access code counts as a secret for the log check, like the simulator's codes. The
    printer's files are ``mock_storage``'s in-memory card.
    """
    client = new_mock_client(capture)
    issued.remember(MOCK_ACCESS_CODE)
    with (
        patch("custom_components.bambu_printer.PrinterClient", return_value=client),
        patch("custom_components.bambu_printer.files.PrinterStorage", return_value=mock_storage),
    ):
        yield client


@pytest.fixture
def mock_storage() -> FakeStorage:
    """The mocked printer's storage card: empty unless a test puts files on it."""
    return FakeStorage()


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_printer_client: MagicMock,
    request: pytest.FixtureRequest,
) -> AsyncIterator[MockConfigEntry]:
    """Set the mocked printer's entry up; indirect parametrization limits it to one platform."""
    platforms = [request.param] if hasattr(request, "param") else PLATFORMS
    with patch("custom_components.bambu_printer.PLATFORMS", platforms):
        yield await setup_entry(hass, mock_config_entry)


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Create every entity enabled, also those a new printer gets disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


def device_of(hass: HomeAssistant, serial: str) -> dr.DeviceEntry:
    """Return a printer's device, found through its entry (no deprecated registry lookup)."""
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, serial)
    assert entry is not None
    return next(
        device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if (DOMAIN, serial) in device.identifiers
    )
