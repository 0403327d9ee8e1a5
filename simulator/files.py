"""A simulated printer's storage card on the network: the FTPS server and what jobs leave.

A job started by name gets its sliced project in ``/cache/<name>.3mf`` (where printers keep
what the cloud or the slicer sent them) unless the card already holds ``/<name>.gcode.3mf``
(a file printed from the card); a job that finishes on a P1/A1 leaves a timelapse in
``/timelapse/`` with its thumbnail.
"""

import ssl
import time
from pathlib import Path

from .card import Project, build_3mf, record_timelapse, seed_card
from .engine import MODELS, VirtualPrinter
from .ftps_server import FtpsServer, Storage

__all__ = ["PrinterCard"]

_FINISHED = frozenset({"FINISH", "FAILED"})
_ACTIVE = frozenset({"PREPARE", "RUNNING", "PAUSE"})
# The model ids Bambu Studio writes into slice_info.config (`printer_model_id`).
_MODEL_IDS = {"P1P": "C11", "P1S": "C12", "A1MINI": "N1", "A1": "N2S", "X1C": "BL-P001"}


def _server_context(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """Serve the printer's certificate, TLS 1.2 and up (sessions resume by default)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile)
    return context


class PrinterCard:
    """The card of one simulated printer, served over implicit FTPS on 127.0.0.1."""

    def __init__(
        self, engine: VirtualPrinter, access_code: str, certfile: Path, keyfile: Path
    ) -> None:
        self._engine = engine
        self.storage = Storage()
        self.timelapses = not MODELS[engine.model].rtsp  # the JPEG-camera models record AVI
        self.model_id = _MODEL_IDS.get(engine.model, engine.model)
        seed_card(self.storage, self.model_id, with_timelapse=self.timelapses, now=time.time())
        self.server = FtpsServer(_server_context(certfile, keyfile), access_code, self.storage)
        self._job: str | None = None
        self._state = ""
        self.last_timelapse: str | None = None

    @property
    def port(self) -> int:
        """Return the FTPS port."""
        return self.server.port

    async def start(self) -> None:
        """Serve the card."""
        await self.server.start()
        self.follow_job()

    async def stop(self) -> None:
        """Stop serving the card."""
        await self.server.stop()

    def project_path(self, name: str) -> str:
        """Return where the job's project is: the card's own file, else the cache."""
        own = f"/{name}.gcode.3mf"
        return own if own in self.storage.files else f"/cache/{name}.3mf"

    def follow_job(self) -> None:
        """Store a new job's project, and a finished job's timelapse."""
        engine = self._engine
        state, name = engine.gcode_state, engine.job_name
        if state in _ACTIVE and name and name != self._job:
            self._job = name
            path = self.project_path(name)
            if path not in self.storage.files:
                project = Project(name, model_id=self.model_id, objects=_objects(name))
                self.storage.put(path, build_3mf(project))
        if state in _FINISHED and self._state in _ACTIVE and self.timelapses and name:
            self.last_timelapse = record_timelapse(self.storage, name, time.time())
        self._state = state


def _objects(name: str) -> tuple[tuple[int, str], ...]:
    """Give a job two labelled objects, so skipping one leaves something to print."""
    return ((101, f"{name} 1"), (202, f"{name} 2"))
