"""The simulator showing what real printers do on the wire (issue 13).

Each behaviour here has its source in docs/protocol.md ("Connection, TLS and the report
stream"); a simulated behaviour no real printer has would be a bug.
"""

import asyncio
import contextlib
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from custom_components.bambu_printer.printer.tls import bambu_ca_path, create_ssl_context
from simulator.ca import TestCA
from simulator.device import SimulatedPrinter, encode_report, make_serial
from simulator.engine import MODELS, VirtualPrinter
from simulator.testing import printer_ssl_context, start_printer
from simulator.tls_front import offers_tls13

pytestmark = pytest.mark.usefixtures("socket_enabled")

# ------------------------------------------------------------------------------ odd bytes


@pytest.mark.parametrize("model", sorted(MODELS))
def test_p1_and_a1_send_a_file_name_that_is_not_utf8_while_preparing(model: str) -> None:
    """P1 and A1 printers put bytes that are not UTF-8 in `gcode_file` while they prepare."""
    engine = VirtualPrinter(make_serial(model), model)
    engine.start_job("Würfel")
    payload = encode_report(engine.full_report())
    odd = MODELS[model].family in ("p1", "a1")
    if odd:
        with pytest.raises(UnicodeDecodeError):
            payload.decode("utf-8")
        assert b"W\xfcrfel" in payload  # the name's latin-1 byte, raw
    else:
        payload.decode("utf-8")
    engine.advance(60.0)  # preparation over: the field is plain text again
    encode_report(engine.full_report()).decode("utf-8")


# ------------------------------------------------------------------------------ TLS versions


def _client_hello(maximum: ssl.TLSVersion) -> bytes:
    """Return the ClientHello Python's OpenSSL sends with this highest version."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = maximum
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="printer")
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def test_client_hello_versions_are_recognised() -> None:
    """The front reads which versions a ClientHello offers, whole or in pieces."""
    modern = _client_hello(ssl.TLSVersion.MAXIMUM_SUPPORTED)
    capped = _client_hello(ssl.TLSVersion.TLSv1_2)
    assert offers_tls13(modern) is True
    assert offers_tls13(capped) is False
    assert offers_tls13(modern[:3]) is None
    assert offers_tls13(modern[:40]) is None
    assert offers_tls13(b"GET / HTTP/1.1\r\n\r\n") is False


async def _first_answer(printer: SimulatedPrinter, hello: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(printer.host, printer.port)
    try:
        writer.write(hello)
        await writer.drain()
        async with asyncio.timeout(1.0):
            return await reader.read(5)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def test_p2s_never_answers_a_client_hello_offering_tls13(leak_check: None) -> None:
    """Like P2S firmware 01.02.00.00: silence for TLS 1.3, a ServerHello for TLS 1.2."""
    async with start_printer("P2S") as printer:
        with pytest.raises(TimeoutError):
            await _first_answer(printer, _client_hello(ssl.TLSVersion.MAXIMUM_SUPPORTED))
        answer = await _first_answer(printer, _client_hello(ssl.TLSVersion.TLSv1_2))
        assert answer[:1] == b"\x16"  # a handshake record: the ServerHello


async def test_other_printers_answer_a_client_hello_offering_tls13(leak_check: None) -> None:
    """Only the P2S is silent: the others answer a ClientHello offering TLS 1.3."""
    async with start_printer("X1C") as printer:
        answer = await _first_answer(printer, _client_hello(ssl.TLSVersion.MAXIMUM_SUPPORTED))
        assert answer[:1] == b"\x16"


@pytest.mark.parametrize("model", sorted(MODELS))
async def test_every_printer_accepts_tls12(leak_check: None, model: str) -> None:
    """Every simulated printer (and its JPEG camera) completes a verified TLS 1.2 handshake."""
    async with start_printer(model, camera=True) as printer:
        context = printer_ssl_context(printer)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        ports = [printer.port]
        if printer.camera_port is not None:
            ports.append(printer.camera_port)
        for port in ports:
            _reader, writer = await asyncio.open_connection(
                printer.host, port, ssl=context, server_hostname=printer.serial
            )
            try:
                assert writer.get_extra_info("ssl_object").version() == "TLSv1.2"
            finally:
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await writer.wait_closed()


# ------------------------------------------------------------------------------ push stream


@pytest.mark.parametrize("model", ["P1S", "X1C"])
def test_pushing_stop_and_start(model: str) -> None:
    """`pushing.stop` ends the report stream; `pushing.start` resumes it with a full report."""
    engine = VirtualPrinter(make_serial(model), model)
    engine.start_job()
    assert engine.handle_request({"pushing": {"sequence_id": "7", "command": "stop"}}) == []
    for _ in range(5):
        engine.advance(2.0)
        assert engine.status_report() is None  # nothing is pushed while stopped
    replies = engine.handle_request({"print": {"sequence_id": "8", "command": "pause"}})
    assert [reply["print"]["result"] for reply in replies] == ["success"]  # no report after it
    (full,) = engine.handle_request({"pushing": {"sequence_id": "9", "command": "start"}})
    assert full["print"]["command"] == "push_status"
    assert full["print"]["gcode_state"] == "PAUSE"
    assert "nozzle_temper" in full["print"]  # the whole state, not a delta
    engine.advance(2.0)
    assert engine.status_report() is not None or not MODELS[model].model.full_reports


# ------------------------------------------------------------------------------ certificates


def _bbl_ca() -> x509.Certificate:
    """Return Bambu's "BBL CA", the root that signs X1, P1 and A1 printer certificates."""
    bundle = x509.load_pem_x509_certificates((bambu_ca_path() / "bambu.cert").read_bytes())
    (root,) = [
        cert
        for cert in bundle
        if cert.subject == cert.issuer
        and cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "BBL CA"
    ]
    return root


def _profile(cert: x509.Certificate) -> dict[str, object]:
    """What chain verification looks at in a CA: its extensions, their criticality, limits."""
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    return {
        "extensions": sorted((ext.oid.dotted_string, ext.critical) for ext in cert.extensions),
        "ca": constraints.ca,
        "path_length": constraints.path_length,
        "self_signed": cert.subject == cert.issuer,
    }


def test_simulator_ca_looks_like_bambus_ca(tmp_path: Path) -> None:
    """Same extensions as BBL CA: no keyUsage (strict X.509 checks reject it), no path limit."""
    ca = TestCA(tmp_path)
    assert _profile(ca.certificate) == _profile(_bbl_ca())
    with pytest.raises(x509.ExtensionNotFound):
        ca.certificate.extensions.get_extension_for_class(x509.KeyUsage)


def test_printer_context_verifies_a_chain_strict_checks_refuse(tmp_path: Path) -> None:
    """The simulator's chain needs what real printers need: no VERIFY_X509_STRICT."""
    ca = TestCA(tmp_path)
    pair = ca.issue("01P00A123456789")
    strict = ssl.create_default_context(cafile=str(ca.cert_path))
    strict.verify_flags |= ssl.VERIFY_X509_STRICT
    relaxed = create_ssl_context(ca.cert_path)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pair.cert_path, pair.key_path)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(strict, server, "01P00A123456789")
    _handshake(relaxed, server, "01P00A123456789")


def _handshake(client: ssl.SSLContext, server: ssl.SSLContext, name: str) -> None:
    """Run a TLS handshake in memory (no socket), raising what the client refuses."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    tls_client = client.wrap_bio(c_in, c_out, server_hostname=name)
    tls_server = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for side, out, peer_in in ((tls_client, c_out, s_in), (tls_server, s_out, c_in)):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
            peer_in.write(out.read())
        if tls_client.version() and tls_server.version():
            return
    raise AssertionError("the handshake did not finish")
