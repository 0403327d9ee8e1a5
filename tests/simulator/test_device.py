"""The simulator's network side: test CA, private Mosquitto, SimulatedPrinter and farm."""

import asyncio
import contextlib
import json
import socket
import ssl
import struct
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from custom_components.bambu_printer.printer.errors import AuthError
from custom_components.bambu_printer.printer.models import identify_from_serial
from custom_components.bambu_printer.printer.mqtt_link import open_mqtt_link
from simulator import broker as broker_module
from simulator.broker import (
    Broker,
    BrokerError,
    MosquittoNotFoundError,
    find_mosquitto,
    free_port,
    hash_password,
)
from simulator.ca import TestCA
from simulator.device import (
    MALFORMED_PAYLOADS,
    SimulatedPrinter,
    make_access_code,
    make_serial,
)
from simulator.engine import MODELS
from simulator.farm import PrinterFarm, PrinterSpec
from simulator.testing import (
    LeakSnapshot,
    child_processes,
    connected_client,
    port_answers,
    printer_ssl_context,
    start_printer,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")


# ------------------------------------------------------------------------------ CA


def test_ca_issues_printer_like_certificates(tmp_path: Path) -> None:
    ca = TestCA(tmp_path)
    pair = ca.issue("01P00A123456789")
    cert = x509.load_pem_x509_certificate(pair.cert_path.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "01P00A123456789"
    assert cert.issuer == ca.certificate.subject
    extensions = {ext.oid for ext in cert.extensions}
    assert ExtensionOID.SUBJECT_ALTERNATIVE_NAME not in extensions
    assert ExtensionOID.AUTHORITY_KEY_IDENTIFIER not in extensions
    assert pair.key_path.stat().st_mode & 0o077 == 0
    second = ca.issue("other", dns_names=("a.example",))
    assert second.cert_path != pair.cert_path
    cert2 = x509.load_pem_x509_certificate(second.cert_path.read_bytes())
    san = cert2.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.DNSName) == ["a.example"]
    assert "TestCA" in repr(ca)


# ------------------------------------------------------------------------------ broker


def test_hash_password_matches_mosquitto_format() -> None:
    # Known vector produced by `mosquitto_passwd -b` (salt and password from its output).
    import base64  # noqa: PLC0415

    salt = base64.b64decode("jY7oUHtera8nQqYv")
    assert hash_password("12345678", salt=salt) == (
        "$7$101$jY7oUHtera8nQqYv$Dyk0GYkure0BVO/QXJsuA2Q7Uy9Y1xkPe5bwjl3VWljYmEHKVwV2KodMdy/"
        "MXpELu1kb4mQYw2RuAFd6K+I+aw=="
    )
    assert hash_password("x") != hash_password("x")  # random salt


def test_find_mosquitto(monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_mosquitto().name == "mosquitto"
    monkeypatch.setattr("shutil.which", lambda _name: None)
    assert find_mosquitto() == Path("/usr/sbin/mosquitto")
    monkeypatch.setattr("pathlib.Path.is_file", lambda _self: False)
    with pytest.raises(MosquittoNotFoundError, match="scripts/setup"):
        find_mosquitto()


@pytest.fixture
async def broker(leak_check: None, tmp_path: Path) -> Broker:
    ca = TestCA(tmp_path / "ca")
    pair = ca.issue("SERIAL1")
    return Broker(
        directory=tmp_path / "broker",
        certfile=pair.cert_path,
        keyfile=pair.key_path,
        cafile=ca.cert_path,
        users={"bblp": "12345678"},
    )


async def _login(broker: Broker, password: str) -> None:
    connection = await open_mqtt_link(
        host=broker.host,
        port=broker.internal_port,
        client_id="t",
        username="bblp",
        password=password,
        ssl_context=None,
        on_message=lambda _topic, _payload: None,
    )
    await connection.close()


async def test_broker_lifecycle(broker: Broker) -> None:
    assert [broker.running, broker.pid] == [False, None]
    async with broker:
        assert broker.running
        assert broker.pid in child_processes()
        port = broker.port
        assert port > 0
        assert "running=True" in repr(broker)
        await _login(broker, "12345678")
        with pytest.raises(AuthError):
            await _login(broker, "wrong")
        await broker.start()  # already running: no second process
        assert len(child_processes()) == 1
        await broker.restart(downtime=0.05)
        assert broker.port == port
        assert broker.starts == 2
        await _login(broker, "12345678")
        config = broker.config_path.read_text()
        assert "allow_anonymous false" in config
        assert "persistence false" in config
        assert "12345678" not in broker.password_path.read_text()
        assert "running" in broker.log_tail()
    assert [broker.running] == [False]
    await broker.stop()  # idempotent


async def test_broker_password_change(broker: Broker) -> None:
    await broker.set_password("bblp", "first111")  # not running: just rewrites the file
    async with broker:
        await _login(broker, "first111")
        await broker.set_password("bblp", "second22")
        await _login(broker, "second22")
        with pytest.raises(AuthError):
            await _login(broker, "first111")
        assert broker.running


async def test_broker_port_in_use(leak_check: None, tmp_path: Path) -> None:
    ca = TestCA(tmp_path / "ca")
    pair = ca.issue("S")
    blocker = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = blocker.sockets[0].getsockname()[1]
    try:
        broker = Broker(
            directory=tmp_path / "b",
            certfile=pair.cert_path,
            keyfile=pair.key_path,
            cafile=ca.cert_path,
            users={"bblp": "x"},
            port=port,
        )
        with pytest.raises(BrokerError, match="exited during start-up"):
            await broker.start()
        assert not broker.running
    finally:
        blocker.close()
        await blocker.wait_closed()


def test_free_port() -> None:
    assert 0 < free_port() < 65536


# ------------------------------------------------------------------------------ printer


def test_identities() -> None:
    serial = make_serial("P1S")
    assert serial.startswith("01P")
    assert len(serial) == 15
    assert make_serial("x1 carbon").startswith("00M")
    for model in MODELS:  # the library's serial prefix table names each simulated model
        assert identify_from_serial(make_serial(model)).key == model
    code = make_access_code()
    assert len(code) == 8
    assert code.isdigit()
    with pytest.raises(ValueError, match="report_interval"):
        SimulatedPrinter("P1S", report_interval=0)
    with pytest.raises(ValueError, match="unknown printer model"):
        SimulatedPrinter("Ender 3")


async def test_printer_clock_is_the_real_time() -> None:
    """A simulated printer's clock reads now, like a real printer's: jobs start today."""
    before = time.time()
    printer = SimulatedPrinter("P1S")
    printer.engine.start_job()
    after = time.time()
    assert before - 1 <= printer.engine.now <= after + 1
    started = int(printer.engine.full_report()["print"]["gcode_start_time"])
    assert before - 1 <= started <= after + 1


async def test_printer_publishes_reports_and_answers(sim_printer: SimulatedPrinter) -> None:
    received: list[bytes] = []
    connection = await open_mqtt_link(
        host=sim_printer.host,
        port=sim_printer.port,
        client_id="observer",
        username="bblp",
        password=sim_printer.access_code,
        ssl_context=printer_ssl_context(sim_printer),
        server_hostname=sim_printer.serial,
        on_message=lambda _topic, payload: received.append(payload),
    )
    try:
        await connection.subscribe([(sim_printer.report_topic, 0)])
        sim_printer.engine.start_job()  # reports only carry changes on a P1S
        await wait_until(lambda: len(received) >= 2)
        request = {"info": {"command": "get_version", "sequence_id": "7"}}
        await connection.publish(sim_printer.request_topic, json.dumps(request).encode())
        await wait_until(lambda: any(b'"get_version"' in payload for payload in received))
        await connection.publish(sim_printer.request_topic, b"not json")
        await asyncio.sleep(0.1)
        assert sim_printer.connected
        assert sim_printer.requests_received == 2
    finally:
        await connection.close()
    info = sim_printer.describe()
    assert info["serial"] == sim_printer.serial
    assert info["port"] == sim_printer.port
    assert info["access_code"] == sim_printer.access_code
    assert info["ca_path"] == str(sim_printer.ca_path)
    assert info["camera_port"] is None
    assert sim_printer.ca.cert_path == sim_printer.ca_path
    assert sim_printer.serial in repr(sim_printer)


async def test_printer_faults(sim_printer: SimulatedPrinter) -> None:
    sim_printer.reject_control = True
    assert sim_printer.engine.reject_control
    assert sim_printer.reject_control
    assert sim_printer.send_malformed() == len(MALFORMED_PAYLOADS)
    published = sim_printer.reports_published
    sim_printer.silent = True
    sim_printer.engine.start_job()
    await asyncio.sleep(0.5)
    assert sim_printer.reports_published == published
    sim_printer.silent = False
    await wait_until(lambda: sim_printer.reports_published > published)
    await sim_printer.stop_broker()
    assert [sim_printer.connected] == [False]
    assert not sim_printer.publish_report({"print": {}})
    await sim_printer.start_broker()
    assert sim_printer.connected
    await sim_printer.drop_clients()
    assert sim_printer.connected
    await sim_printer.restart_broker(downtime=0.05)
    assert sim_printer.connected


async def test_access_code_change(sim_printer: SimulatedPrinter) -> None:
    old = sim_printer.access_code
    await sim_printer.set_access_code("24681357")
    assert sim_printer.access_code == "24681357"
    with pytest.raises(AuthError):
        await _login(sim_printer.broker, old)
    await _login(sim_printer.broker, "24681357")
    # The printer itself keeps working (its own account): a client with the new code gets data.
    async with connected_client(sim_printer) as client:
        before = client.reports_received
        sim_printer.engine.start_job()
        await wait_until(lambda: client.reports_received > before)


async def test_printer_stop_is_clean(leak_check: None, tmp_path: Path) -> None:
    snapshot = LeakSnapshot()
    printer = SimulatedPrinter("A1", directory=tmp_path, report_interval=0.1, printing=True)
    await printer.start()
    await printer.start()  # idempotent
    assert printer.engine.gcode_state == "PREPARE"
    broker_dir = printer.broker.directory
    assert broker_dir.is_dir()
    await printer.stop()
    await printer.stop()
    assert broker_dir.is_dir()  # a given directory is left to its owner
    assert await snapshot.leftovers() == []
    with pytest.raises(RuntimeError):
        SimulatedPrinter("A1").ca_path  # noqa: B018
    with pytest.raises(RuntimeError):
        SimulatedPrinter("A1").ca  # noqa: B018
    with pytest.raises(RuntimeError):
        SimulatedPrinter("A1").broker  # noqa: B018
    assert SimulatedPrinter("A1").port == 0


async def test_failed_start_cleans_up(leak_check: None, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(self: Broker) -> None:
        raise BrokerError("no broker today")

    monkeypatch.setattr(Broker, "start", broken)
    printer = SimulatedPrinter("P1S")
    with pytest.raises(BrokerError):
        await printer.start()
    assert not printer.broker.running
    assert not printer.connected


async def test_camera_is_served_for_jpeg_models(leak_check: None) -> None:
    async with start_printer("P1S", camera=True) as printer:
        port = printer.camera_port
        assert port is not None
        reader, writer = await asyncio.open_connection(
            printer.host,
            port,
            ssl=printer_ssl_context(printer),
            server_hostname=printer.serial,
        )
        auth = struct.pack("<IIII32s32s", 0x40, 0x3000, 0, 0, b"bblp", printer.access_code.encode())
        writer.write(auth)
        header = await reader.readexactly(16)
        size = struct.unpack("<I", header[:4])[0]
        frame = await reader.readexactly(size)
        assert frame.startswith(b"\xff\xd8\xff")
        writer.close()
        await printer.set_access_code("13572468")
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    async with start_printer("X1C", camera=True) as printer:
        assert printer.camera_port is None  # RTSPS model: no JPEG camera


async def test_printer_off_the_network_serves_nothing(leak_check: None) -> None:
    """Off the network, a printer answers on none of its ports; back on, on the same ones."""
    async with start_printer("P1S", camera=True, files=True) as printer:
        ports = [printer.port, printer.camera_port, printer.ftps_port]
        assert None not in ports
        await printer.stop_broker()
        assert [await port_answers(port) for port in ports] == [False, False, False]  # type: ignore[arg-type]
        await printer.start_broker()
        assert [printer.port, printer.camera_port, printer.ftps_port] == ports
        assert [await port_answers(port) for port in ports] == [True, True, True]  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ farm


async def test_farm(leak_check: None) -> None:
    specs: list[PrinterSpec | str] = ["X1C", PrinterSpec("A1", serial="03919A000000001"), "P1S"]
    async with PrinterFarm(specs, speedup=10, report_interval=0.2, printing=True) as farm:
        assert len(farm) == 3
        assert len({printer.port for printer in farm}) == 3
        assert {printer.ca_path for printer in farm} == {farm.ca_path}
        assert farm.by_serial("03919A000000001").model == "A1"
        assert farm[0].model == "X1C"
        assert farm[0].engine.gcode_state == "PREPARE"
        assert farm[1].engine.gcode_state == "IDLE"  # its spec did not ask for a job
        with pytest.raises(KeyError):
            farm.by_serial("nope")
        described = farm.describe()
        assert [entry["model"] for entry in described] == ["X1C", "A1", "P1S"]
        await farm.start()  # idempotent
        for printer in farm:
            async with connected_client(printer, start=False) as client:
                assert client.available
        assert len(child_processes()) == 3
    assert child_processes() == []
    with pytest.raises(RuntimeError):
        farm.ca_path  # noqa: B018


async def test_farm_rejects_bad_specs(leak_check: None) -> None:
    with pytest.raises(ValueError, match="at least one"):
        PrinterFarm([])
    farm = PrinterFarm([PrinterSpec("P1S", serial="X"), PrinterSpec("A1", serial="X")])
    with pytest.raises(ValueError, match="own serial"):
        await farm.start()
    await farm.stop()


async def test_farm_start_failure_stops_everything(
    leak_check: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = SimulatedPrinter.start

    async def flaky(self: SimulatedPrinter) -> None:
        if self.model == "A1":
            raise BrokerError("boom")
        await original(self)

    monkeypatch.setattr(SimulatedPrinter, "start", flaky)
    farm = PrinterFarm(["P1S", "A1", "X1C"])
    with pytest.raises(BrokerError, match="boom"):
        await farm.start()
    assert len(farm) == 0
    assert child_processes() == []


async def test_broker_kill_paths(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    await broker.start()
    monkeypatch.setattr(broker_module, "_STOP_TIMEOUT", 0)
    await broker.stop()  # SIGTERM not awaited: SIGKILL
    assert not broker.running
    monkeypatch.undo()
    await broker.start()
    stopping = asyncio.create_task(broker.stop())
    await asyncio.sleep(0)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    await wait_until(lambda: child_processes() == [])
    assert broker.log_tail() != ""
    broker.log_path.unlink()
    assert broker.log_tail() == ""


def test_printers_report_at_their_own_phase() -> None:
    # Real printers run on their own clocks: a farm started at once must not report in
    # lockstep (the farm benchmark would then measure bursts no real farm sends).
    printers = [SimulatedPrinter("P1S", report_interval=1.0) for _ in range(40)]
    phases = [printer.report_phase for printer in printers]
    assert all(0.0 <= phase < 1.0 for phase in phases)
    assert len({round(phase, 2) for phase in phases}) > 20
    again = SimulatedPrinter("P1S", serial=printers[0].serial, report_interval=1.0)
    assert again.report_phase == phases[0]  # the same printer keeps its phase


async def test_broker_restarts_when_its_private_port_was_taken_meanwhile(broker: Broker) -> None:
    """A released private port may be handed to another socket during the downtime."""
    async with broker:
        public, private = broker.port, broker.internal_port
        await broker.stop()
        with socket.socket() as squatter:
            squatter.bind((broker.host, private))
            squatter.listen()
            await broker.start()
            assert broker.port == public
            assert broker.internal_port != private
            await _login(broker, "12345678")
