"""Several simulated printers at once, sharing one test CA, for the demo and multi-printer tests."""

import asyncio
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from .ca import TestCA
from .device import SimulatedPrinter

__all__ = ["CAMERA_PORT", "KEPT_CA_DIR", "MQTT_PORT", "PrinterFarm", "PrinterSpec"]

KEPT_CA_DIR = Path(__file__).resolve().parents[1] / ".demo" / "ca"
"""Where the demo and ``python -m simulator`` keep their one CA (git ignores it)."""

# Where real printers listen (MQTT over TLS, the P1/A1 JPEG camera); a printer on an address
# of its own listens there too.
MQTT_PORT = 8883
CAMERA_PORT = 6000


@dataclass(frozen=True)
class PrinterSpec:
    """One printer of a farm: its model and, optionally, fixed identity and a running job."""

    model: str
    serial: str | None = None
    access_code: str | None = None
    printing: bool = False
    authorization_control: bool = False  # print control refused, as without Developer mode
    host: str | None = None  # an address of its own (127.x.y.z) with the real ports


class PrinterFarm:
    """Start N :class:`SimulatedPrinter` s together; every one trusts the same CA file.

    Use as ``async with PrinterFarm(["X1C", "P1S"], speedup=20) as farm:``; ``farm.ca_path``
    is the one CA file a client needs, ``farm.printers`` the running printers. With ``ca_dir``
    the CA is kept there and reused by later farms, so a client keeps trusting it. With
    ``announce_port`` every printer announces itself to 127.0.0.1 on that UDP port.
    """

    def __init__(
        self,
        specs: Iterable[PrinterSpec | str],
        *,
        speedup: float = 1.0,
        report_interval: float = 1.0,
        printing: bool = False,
        camera: bool = False,
        files: bool = False,
        directory: Path | None = None,
        ca_dir: Path | None = None,
        announce_port: int | None = None,
    ) -> None:
        self.specs = [
            spec if isinstance(spec, PrinterSpec) else PrinterSpec(spec, printing=printing)
            for spec in specs
        ]
        if not self.specs:
            raise ValueError("a farm needs at least one printer")
        self.speedup = speedup
        self.report_interval = report_interval
        self.camera = camera
        self.files = files
        self._directory = directory
        self._own_directory = directory is None
        self._ca_dir = ca_dir
        self.announce_port = announce_port
        self._ca: TestCA | None = None
        self.printers: list[SimulatedPrinter] = []

    def __iter__(self) -> Iterator[SimulatedPrinter]:
        return iter(self.printers)

    def __len__(self) -> int:
        return len(self.printers)

    def __getitem__(self, index: int) -> SimulatedPrinter:
        return self.printers[index]

    @property
    def ca_path(self) -> Path:
        """Return the CA file every printer's certificate chains to."""
        if self._ca is None:
            raise RuntimeError("the farm is not started")
        return self._ca.cert_path

    def by_serial(self, serial: str) -> SimulatedPrinter:
        """Return the printer with this serial (KeyError if none)."""
        for printer in self.printers:
            if printer.serial == serial:
                return printer
        raise KeyError(serial)

    def describe(self) -> list[dict[str, Any]]:
        """Return every printer's endpoint (host, port, serial, access code, CA path)."""
        return [printer.describe() for printer in self.printers]

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
        """Start every printer concurrently; if one fails, all are stopped and its error raised."""
        if self.printers:
            return
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="bambu-farm-"))
        self._ca = TestCA(self._directory / "ca", keep_in=self._ca_dir)
        self.printers = [
            SimulatedPrinter(
                spec.model,
                serial=spec.serial,
                access_code=spec.access_code,
                speedup=self.speedup,
                report_interval=self.report_interval,
                printing=spec.printing,
                directory=self._directory,
                ca=self._ca,
                camera=self.camera,
                files=self.files,
                authorization_control=spec.authorization_control,
                announce_port=self.announce_port,
                **_address(spec),
            )
            for spec in self.specs
        ]
        serials = [printer.serial for printer in self.printers]
        if len(set(serials)) != len(serials):
            self.printers = []
            raise ValueError("every printer of a farm needs its own serial")
        try:
            results = await asyncio.gather(
                *(printer.start() for printer in self.printers), return_exceptions=True
            )
        except BaseException:
            await self.stop()
            raise
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            await self.stop()
            raise errors[0]

    async def stop(self) -> None:
        """Stop every printer and remove the farm's temporary files; idempotent."""
        printers, self.printers = self.printers, []
        await asyncio.gather(*(printer.stop() for printer in printers), return_exceptions=True)
        self._ca = None
        if self._own_directory and self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None


def _address(spec: PrinterSpec) -> dict[str, Any]:
    """Return where a printer listens: 127.0.0.1 on free ports, or its own address as real."""
    if spec.host is None:
        return {}
    return {"host": spec.host, "port": MQTT_PORT, "camera_port": CAMERA_PORT}
