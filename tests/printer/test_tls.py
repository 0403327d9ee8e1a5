"""TLS contexts: Bambu CA bundle, serial-number name check, non-strict printer certificates."""

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from custom_components.bambu_printer.printer import tls
from custom_components.bambu_printer.printer.errors import (
    TlsError,
    TlsHandshakeFailed,
    TlsNameMismatch,
    TlsUntrusted,
)
from custom_components.bambu_printer.printer.mqtt_link import open_mqtt_link
from custom_components.bambu_printer.printer.tls import (
    async_get_public_ssl_context,
    async_get_ssl_context,
    bambu_ca_files,
    bambu_ca_path,
    clear_ssl_context_cache,
    create_public_ssl_context,
    create_ssl_context,
)
from simulator.ca import CertPair, TestCA

SERIAL = "01P00A123456789"

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_ssl_context_cache()
    yield
    clear_ssl_context_cache()


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca")


@pytest.fixture
def other_ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "other", name="someone else's CA")


async def _server(pair: CertPair) -> AsyncIterator[int]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pair.cert_path, pair.key_path)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def printer_port(ca: TestCA) -> AsyncIterator[int]:
    """A TLS server presenting a printer-like certificate (CN = serial, no SAN, no AKI)."""
    async for port in _server(ca.issue(SERIAL)):
        yield port


async def _handshake(port: int, context: ssl.SSLContext, name: str = SERIAL) -> None:
    _reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname=name
    )
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()


def test_shipped_bundle() -> None:
    files = bambu_ca_files()
    assert bambu_ca_path().is_dir()
    assert {path.name for path in files} >= {"bambu.cert", "bambu_p2s_250626.cert"}
    context = create_ssl_context()
    names = {
        value
        for cert in context.get_ca_certs()
        for rdn in cast(Any, cert)["subject"]
        for key, value in rdn
        if key == "commonName"
    }
    assert {"BBL CA", "BBL CA2 RSA", "BBL CA2 ECC", "BBL Device CA N7-V2"} <= names


def test_verifying_context_settings(ca: TestCA) -> None:
    context = create_ssl_context(ca.cert_path)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert not context.verify_flags & ssl.VERIFY_X509_STRICT
    assert len(context.get_ca_certs()) == 1


def test_missing_bundle_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tls, "_CERTS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError):
        create_ssl_context()


def test_public_context() -> None:
    context = create_public_ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


async def test_async_contexts_are_cached(ca: TestCA) -> None:
    first = await async_get_ssl_context()
    assert await async_get_ssl_context() is first
    injected = await async_get_ssl_context(ca.cert_path)
    assert injected is not first
    assert await async_get_ssl_context(ca.cert_path) is injected
    public = await async_get_public_ssl_context()
    assert await async_get_public_ssl_context() is public
    clear_ssl_context_cache()
    assert await async_get_ssl_context() is not first


async def test_printer_certificate_verifies_by_serial(ca: TestCA, printer_port: int) -> None:
    await _handshake(printer_port, create_ssl_context(ca.cert_path))


async def test_strict_verification_would_reject_printer_certificates(
    ca: TestCA, printer_port: int
) -> None:
    # Why tls.py clears VERIFY_X509_STRICT: printer leaves lack an Authority Key Identifier.
    strict = ssl.create_default_context(cafile=str(ca.cert_path))
    strict.verify_flags |= ssl.VERIFY_X509_STRICT
    with pytest.raises(ssl.SSLCertVerificationError, match=r"[Aa]uthority [Kk]ey"):
        await _handshake(printer_port, strict)


async def test_wrong_serial_is_rejected(ca: TestCA, printer_port: int) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        await _handshake(printer_port, create_ssl_context(ca.cert_path), "01P00A999999999")


async def test_untrusted_ca_is_rejected(other_ca: TestCA, printer_port: int) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        await _handshake(printer_port, create_ssl_context(other_ca.cert_path))
    # The shipped Bambu bundle does not trust the test CA either.
    with pytest.raises(ssl.SSLCertVerificationError):
        await _handshake(printer_port, create_ssl_context())


async def test_subject_alt_name_wins_over_common_name(ca: TestCA) -> None:
    async for port in _server(ca.issue(SERIAL, dns_names=("broker.example",))):
        context = create_ssl_context(ca.cert_path)
        await _handshake(port, context, "broker.example")
        with pytest.raises(ssl.SSLCertVerificationError):
            await _handshake(port, context, SERIAL)


# --- why a printer connection's TLS failed, as the connect path reports it ---------------------


async def _open(port: int, context: ssl.SSLContext, name: str = SERIAL) -> None:
    """Open an MQTT link the way the client does; the TLS step is what these tests watch."""
    link = await open_mqtt_link(
        host="127.0.0.1",
        port=port,
        client_id="tls-test",
        username="bblp",
        password="12345678",
        ssl_context=context,
        on_message=lambda _topic, _payload: None,
        server_hostname=name,
    )
    link.abort()  # pragma: no cover  (every server here fails the handshake)


async def test_name_mismatch_names_the_certificate(ca: TestCA, printer_port: int) -> None:
    """A certificate of another printer says which serial it carries."""
    with pytest.raises(TlsNameMismatch) as caught:
        await _open(printer_port, create_ssl_context(ca.cert_path), "01P00A999999999")
    assert caught.value.expected == "01P00A999999999"
    assert caught.value.presented == SERIAL
    assert SERIAL in str(caught.value)


async def test_name_mismatch_prefers_subject_alt_names(ca: TestCA) -> None:
    """A certificate with DNS names reports those (what the name check used)."""
    async for port in _server(ca.issue(SERIAL, dns_names=("broker.example",))):
        with pytest.raises(TlsNameMismatch) as caught:
            await _open(port, create_ssl_context(ca.cert_path), "01P00A999999999")
        assert caught.value.presented == "broker.example"


async def test_untrusted_certificate(other_ca: TestCA, printer_port: int) -> None:
    """A certificate from a CA we do not trust (or a TLS-intercepting device) is untrusted."""
    with pytest.raises(TlsUntrusted) as caught:
        await _open(printer_port, create_ssl_context(other_ca.cert_path))
    assert not isinstance(caught.value, TlsNameMismatch)
    with pytest.raises(TlsUntrusted):
        await _open(printer_port, create_ssl_context())


async def test_not_tls_at_all_is_a_handshake_failure() -> None:
    """Something that does not speak TLS (or refuses our versions) fails the handshake."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(TlsHandshakeFailed) as caught:
            await _open(port, create_ssl_context())
    finally:
        server.close()
        await server.wait_closed()
    assert isinstance(caught.value, TlsError)


async def test_look_alike_ca_is_untrusted_not_another_name(tmp_path: Path, ca: TestCA) -> None:
    """A CA with the trusted one's name but another key fails the signatures, not the name.

    OpenSSL reports the name check before the signatures; the probe sets that straight.
    """
    look_alike = TestCA(tmp_path / "look-alike", name=ca.name)
    async for port in _server(look_alike.issue(SERIAL)):
        with pytest.raises(TlsUntrusted, match="signature"):
            await _open(port, create_ssl_context(ca.cert_path), "01P00A999999999")


async def test_name_mismatch_stays_when_the_probe_cannot_tell(ca: TestCA) -> None:
    """Without a second look (nothing listening, no CA list) the error is kept as it was."""
    async for served in _server(ca.issue(SERIAL)):
        port = served
    err = TlsNameMismatch("mismatch", expected=SERIAL, presented=None)
    context = create_ssl_context(ca.cert_path)
    assert tls.explain_name_mismatch(err, context, "127.0.0.1", port, timeout=1.0) is err
    bare = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    assert tls.explain_name_mismatch(err, bare, "127.0.0.1", port, timeout=1.0) is err
