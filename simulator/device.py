"""A simulated printer on the network: its own broker, its own certificate, live reports.

:class:`SimulatedPrinter` wraps a :class:`~simulator.engine.VirtualPrinter` the way real
hardware does: it runs the MQTT broker clients connect to (a private Mosquitto with TLS and the
``bblp`` / access-code login), answers requests published on ``device/<serial>/request`` and
publishes its status on ``device/<serial>/report`` every ``report_interval`` seconds. The
printer itself talks to its broker over a plain loopback listener with an internal account, so
it keeps working when the access code changes. Faults for tests: :meth:`drop_clients`,
:meth:`restart_broker`, :meth:`send_malformed`, :attr:`reject_control`, :attr:`silent`,
:meth:`set_access_code`.
"""

import asyncio
import ipaddress
import json
import logging
import random
import secrets
import shutil
import ssl
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from custom_components.bambu_printer.printer.errors import BambuError
from custom_components.bambu_printer.printer.models import SERIAL_PREFIXES
from custom_components.bambu_printer.printer.mqtt_link import MqttLink, open_mqtt_link

from .announce import ANNOUNCE_INTERVAL, Announcer, default_name, notify_packet
from .broker import Broker
from .ca import TestCA
from .engine import MODELS, VirtualPrinter, normalize_model
from .issued import remember

if TYPE_CHECKING:
    from .camera_server import CameraServer
    from .files import PrinterCard

__all__ = ["SimulatedPrinter", "encode_report", "make_access_code", "make_serial"]

_LOGGER = logging.getLogger(__name__)

CLIENT_USERNAME = "bblp"
_DEVICE_USERNAME = "bambu-sim-device"
_LINK_RETRY = 0.02
_LINK_TIMEOUT = 10.0

# Each model's serial prefix, from the library's table (the first listed where a model has two).
_SERIAL_PREFIX = {model.key: prefix for prefix, model in reversed(tuple(SERIAL_PREFIXES.items()))}

# Models whose firmware never answers a ClientHello offering TLS 1.3 (the P2S on 01.02.00.00,
# ha-bambulab #2072); every printer answers one that offers at most TLS 1.2.
_IGNORES_TLS13 = frozenset({"P2S"})

# What `send_malformed()` publishes: broken JSON, valid JSON that is not an object, bad UTF-8.
MALFORMED_PAYLOADS = (b'{"print": {"gcode_state": ', b"[1, 2, 3]", b'"text"', b"\xff\xfe{}")


def encode_report(report: dict[str, Any]) -> bytes:
    """Encode a report as the printer does: UTF-8 text, raw bytes where the firmware has them.

    Strings may carry raw bytes as surrogate escapes (P1/A1 file names that are not UTF-8);
    they are written out as those bytes.
    """
    text = json.dumps(report, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogateescape")


def make_serial(model: str) -> str:
    """Return a random serial number in the model's real format."""
    prefix = _SERIAL_PREFIX[normalize_model(model)]
    return prefix + "".join(secrets.choice("0123456789") for _ in range(15 - len(prefix)))


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def make_access_code() -> str:
    """Return a random 8-digit LAN access code, like the printer's screen shows."""
    return "".join(secrets.choice("0123456789") for _ in range(8))


class SimulatedPrinter:
    """One virtual printer reachable over MQTT/TLS on 127.0.0.1.

    ``ca`` is the authority clients should trust (``ca_path``); a new one is made when omitted.
    For TLS failure tests, ``cert_ca`` signs the server certificate instead (a CA the client
    does not trust) and ``cert_name`` replaces the serial as its Common Name. ``camera=True``
    also serves the P1/A1 JPEG camera on its own TLS port (``camera_port``); ``files=True``
    serves its storage card over implicit FTPS (``card``, ``ftps_port``).

    ``server_names`` (host names or IP addresses) are added to the server certificate, so a
    client can verify the broker under a cloud broker's host name, as it does for Bambu's cloud
    broker; the Common Name is then listed too, so the LAN check against the serial still works.
    Give the broker a cloud-style login with ``broker.set_password(f"u_{uid}", token)``.

    ``host`` is the loopback address the printer listens on: printers of a farm share
    127.0.0.1 on free ports; a printer on an address of its own (``127.x.y.z``) can listen
    where real ones do (``port=8883``, ``camera_port=6000``) and so be found and added through
    its announcements alone. With ``announce_port`` it announces itself every
    ``announce_interval`` seconds, as real printers do, to 127.0.0.1 on that UDP port.
    """

    def __init__(
        self,
        model: str = "P1S",
        *,
        serial: str | None = None,
        access_code: str | None = None,
        speedup: float = 1.0,
        report_interval: float = 1.0,
        printing: bool = False,
        seed: int | None = None,
        directory: Path | None = None,
        ca: TestCA | None = None,
        cert_ca: TestCA | None = None,
        cert_name: str | None = None,
        port: int = 0,
        camera: bool = False,
        server_names: Sequence[str] = (),
        authorization_control: bool = False,
        host: str = "127.0.0.1",
        camera_port: int = 0,
        announce_port: int | None = None,
        announce_interval: float = ANNOUNCE_INTERVAL,
        name: str | None = None,
        files: bool = False,
    ) -> None:
        if not report_interval > 0:
            raise ValueError("report_interval must be positive")
        if not _is_ip(host) or not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"a simulated printer listens on loopback only, not {host!r}")
        self.model = normalize_model(model)
        self.serial = serial or make_serial(self.model)
        self._host = host
        self.name = name or default_name(self.serial)
        self.access_code = access_code or make_access_code()
        self.report_interval = report_interval
        # Real printers report on their own clocks; printers started together must not report
        # in lockstep. The phase follows from the serial, so a printer keeps it across runs.
        phase = random.Random(self.serial).random()
        self.report_phase = phase * report_interval
        # The engine's clock starts now, as a real printer's does (job start and end times).
        self.engine = VirtualPrinter(
            self.serial,
            self.model,
            speedup=speedup,
            seed=seed,
            epoch=time.time(),
            authorization_control=authorization_control,
            ip=host,
        )
        self._printing = printing
        self._own_directory = directory is None
        self._directory = Path(directory) if directory is not None else None
        self._ca = ca
        self._created_ca = False
        self._cert_ca = cert_ca
        self._cert_name = cert_name
        self._port = port
        self._server_names = tuple(server_names)
        self._camera_wanted = camera
        self._camera: CameraServer | None = None
        self._camera_port = camera_port
        self._announcer = (
            None
            if announce_port is None
            else Announcer(
                self.notify_packet, source=host, port=announce_port, interval=announce_interval
            )
        )
        self._files_wanted = files
        self.card: PrinterCard | None = None
        self._device_password = secrets.token_urlsafe(18)
        remember(self.access_code)
        remember(self._device_password)
        self._broker: Broker | None = None
        self._link: MqttLink | None = None
        self._link_ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self.silent = False
        self.reports_published = 0
        self.requests_received = 0

    def __repr__(self) -> str:
        return f"<SimulatedPrinter {self.model} {self.serial} port={self.port}>"

    # ------------------------------------------------------------------------------ properties

    @property
    def host(self) -> str:
        """Return the address clients connect to."""
        return self._host

    @property
    def port(self) -> int:
        """Return the MQTT/TLS port (0 until started)."""
        return self._broker.port if self._broker is not None else 0

    @property
    def ca_path(self) -> Path:
        """Return the PEM file of the CA clients should trust."""
        if self._ca is None:
            raise RuntimeError("the printer is not started")
        return self._ca.cert_path

    @property
    def ca(self) -> TestCA:
        """Return the CA clients should trust."""
        if self._ca is None:
            raise RuntimeError("the printer is not started")
        return self._ca

    @property
    def broker(self) -> Broker:
        """Return the printer's broker (for tests that look at the process)."""
        if self._broker is None:
            raise RuntimeError("the printer is not started")
        return self._broker

    @property
    def camera_port(self) -> int | None:
        """Return the JPEG camera's TLS port, when the camera is served."""
        return self._camera.port if self._camera is not None else None

    @property
    def ftps_port(self) -> int | None:
        """Return the implicit-FTPS port of the storage card, when it is served."""
        return self.card.port if self.card is not None else None

    @property
    def report_topic(self) -> str:
        """Return the topic reports are published on."""
        return f"device/{self.serial}/report"

    @property
    def request_topic(self) -> str:
        """Return the topic requests are read from."""
        return f"device/{self.serial}/request"

    @property
    def reject_control(self) -> bool:
        """Return whether authorization control is on (print control refused, `fun` says so)."""
        return self.engine.reject_control

    @reject_control.setter
    def reject_control(self, value: bool) -> None:
        self.engine.reject_control = value

    @property
    def connected(self) -> bool:
        """Return whether the printer's own link to its broker is up."""
        return self._link is not None and not self._link.closed

    def notify_packet(self) -> bytes:
        """Return this printer's LAN announcement as a real printer sends it."""
        return notify_packet(
            serial=self.serial,
            host=self.host,
            model=self.engine.profile.model,
            name=self.name,
            firmware=self.engine.profile.ota_version,
            signal=-50,
        )

    def describe(self) -> dict[str, Any]:
        """Return how to reach this printer (for the CLI's output and scripts)."""
        return {
            "model": self.model,
            "serial": self.serial,
            "host": self.host,
            "port": self.port,
            "username": CLIENT_USERNAME,
            "access_code": self.access_code,
            "ca_path": str(self.ca_path),
            "camera_port": self.camera_port,
            "ftps_port": self.ftps_port,
        }

    # ------------------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the broker, connect the printer to it and begin reporting."""
        if self._started:
            return
        self._started = True
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="bambu-sim-"))
        directory = self._directory / self.serial
        directory.mkdir(parents=True, exist_ok=True)
        if self._ca is None:
            self._ca = TestCA(directory / "ca")
            self._created_ca = True
        signer = self._cert_ca or self._ca
        common_name = self._cert_name or self.serial
        ips = tuple(name for name in self._server_names if _is_ip(name))
        dns = tuple(name for name in self._server_names if not _is_ip(name))
        pair = signer.issue(
            common_name,
            dns_names=(common_name, *dns) if self._server_names else (),
            ip_addresses=ips,
        )
        self._broker = Broker(
            directory=directory / "broker",
            certfile=pair.cert_path,
            keyfile=pair.key_path,
            cafile=signer.cert_path,
            users={CLIENT_USERNAME: self.access_code, _DEVICE_USERNAME: self._device_password},
            host=self.host,
            port=self._port,
            answers_tls13=self.model not in _IGNORES_TLS13,
        )
        await self._broker.start()
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._link_loop(), name=f"sim {self.serial} link"))
        async with asyncio.timeout(_LINK_TIMEOUT):
            await self._link_ready.wait()
        if self._printing:
            self.engine.start_job()
        self._tasks.append(loop.create_task(self._report_loop(), name=f"sim {self.serial} reports"))
        if self._camera_wanted and not MODELS[self.model].rtsp:
            await self._start_camera(pair.cert_path, pair.key_path)
        if self._announcer is not None:
            await self._announcer.start()
        if self._files_wanted:
            from .files import PrinterCard  # noqa: PLC0415  (Pillow only when needed)

            self.card = PrinterCard(self.engine, self.access_code, pair.cert_path, pair.key_path)
            await self.card.start()

    async def _start_camera(self, certfile: Path, keyfile: Path) -> None:
        from .camera_server import CameraServer  # noqa: PLC0415  (Pillow only when needed)
        from .jpeg import JpegRenderer, Overlay  # noqa: PLC0415

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certfile, keyfile)
        renderer = JpegRenderer()
        engine = self.engine

        def frame() -> bytes:
            return renderer.render(
                Overlay(
                    job_name=engine.job_name,
                    state=engine.gcode_state,
                    percent=engine.percent,
                    layer=engine.layer,
                    total_layers=engine.total_layers,
                )
            )

        self._camera = CameraServer(
            context, self.access_code, frame, host=self.host, port=self._camera_port
        )
        await self._camera.start()

    async def stop(self) -> None:
        """Stop reporting, close the link, stop the broker and remove temporary files."""
        if self._announcer is not None:
            await self._announcer.stop()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        link, self._link = self._link, None
        if link is not None:
            await link.close()
        camera, self._camera = self._camera, None
        if camera is not None:
            await camera.stop()
        card, self.card = self.card, None
        if card is not None:
            await card.stop()
        if self._broker is not None:
            await self._broker.stop()
        if self._own_directory and self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None
        self._started = False

    # ------------------------------------------------------------------------------ link

    async def _link_loop(self) -> None:
        """Keep the printer connected to its broker (it reconnects after a broker restart)."""
        broker = self.broker
        while True:
            try:
                link = await open_mqtt_link(
                    host=broker.host,
                    port=broker.internal_port,
                    client_id=f"printer-{self.serial}",
                    username=_DEVICE_USERNAME,
                    password=self._device_password,
                    ssl_context=None,
                    keepalive=30,
                    on_message=self._on_request,
                    name=f"simulated printer {self.serial}",
                )
            except BambuError:
                await asyncio.sleep(_LINK_RETRY)
                continue
            try:
                await link.subscribe([(self.request_topic, 1)])
            except BambuError:
                await link.close()
                await asyncio.sleep(_LINK_RETRY)
                continue
            except BaseException:
                await link.close()
                raise
            self._link = link
            self._link_ready.set()
            try:
                await link.wait_closed()
            finally:
                self._link_ready.clear()
                self._link = None
                await link.close()

    def _on_request(self, _topic: str, raw: bytes) -> None:
        self.requests_received += 1
        if self.silent:
            return
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):
            _LOGGER.debug("%s: ignoring a request that is not JSON", self.serial)
            return
        for message in self.engine.handle_request(payload):
            self.publish_report(message)

    def publish_report(self, report: dict[str, Any]) -> bool:
        """Publish one report now; False when the printer's link is down (it is lost)."""
        return self.publish_raw(encode_report(report))

    def publish_raw(self, payload: bytes) -> bool:
        """Publish raw bytes on the report topic; False when the link is down."""
        link = self._link
        if link is None or link.closed:
            return False
        try:
            link.publish_nowait(self.report_topic, payload)
        except BambuError:
            return False
        self.reports_published += 1
        return True

    async def _report_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        await asyncio.sleep(self.report_phase)
        while True:
            await asyncio.sleep(self.report_interval)
            now = loop.time()
            self.engine.advance(max(0.0, now - last))
            last = now
            if self.card is not None:
                self.card.follow_job()
            if self.silent:
                continue
            report = self.engine.status_report()
            if report is not None:
                self.publish_report(report)

    async def wait_connected(self, within: float = _LINK_TIMEOUT) -> None:
        """Wait until the printer's own link to its broker is up again."""
        async with asyncio.timeout(within):
            await self._link_ready.wait()

    # ------------------------------------------------------------------------------ faults

    async def drop_clients(self) -> None:
        """Disconnect every client (by restarting the broker on the same port)."""
        await self.restart_broker()

    async def restart_broker(self, downtime: float = 0.0) -> None:
        """Restart the broker on the same port, like a printer reboot; waits for the link."""
        await self.stop_broker()
        if downtime > 0:
            await asyncio.sleep(downtime)
        await self.start_broker()

    def send_malformed(self) -> int:
        """Publish broken JSON, JSON that is not an object and invalid UTF-8; return how many."""
        return sum(self.publish_raw(payload) for payload in MALFORMED_PAYLOADS)

    async def set_access_code(self, code: str) -> None:
        """Change the LAN access code; clients using the old one are dropped and refused.

        The printer's own link uses a separate account and keeps working.
        """
        self.access_code = code
        remember(code)
        await self.broker.set_password(CLIENT_USERNAME, code)
        if self._camera is not None:
            self._camera.set_access_code(code)
        if self.card is not None:
            self.card.server.set_access_code(code)

    async def stop_broker(self) -> None:
        """Stop the broker, the camera and the file server (the printer is off the network)."""
        await self.broker.stop()
        link = self._link
        if link is not None:
            async with asyncio.timeout(_LINK_TIMEOUT):
                await link.wait_closed()
        self._link_ready.clear()
        if self._camera is not None:
            await self._camera.stop()
        if self.card is not None:
            await self.card.stop()

    async def start_broker(self) -> None:
        """Bring the printer back on the network: everything on the ports it had."""
        await self.broker.start()
        if self._camera is not None:
            await self._camera.start()
        if self.card is not None:
            await self.card.start()
        await self.wait_connected()
