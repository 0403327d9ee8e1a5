"""A pure, deterministic model of a Bambu Lab printer for tests, the demo and the benchmarks.

`VirtualPrinter` speaks the printer's MQTT payloads (already decoded to dicts) without doing any
I/O: time only moves when the caller calls `advance()`, so a test can run a two-hour print in
milliseconds and get the same reports every time for the same seed.  The reports are built from
templates derived from real printer captures, so field names, nesting and value types (strings
where the printer sends strings) match what a real printer of the same family publishes; what
each model can do comes from the library's model table (`printer.models.PrinterModel`).

The parts live in `simulator.printer` (profiles, job and process, thermals, AMS, status, reports,
versions, commands); this class joins them.  The network layer (`simulator/device.py`) wraps one
`VirtualPrinter` in a broker and publishes what `status_report()` returns once a second and what
`handle_request()` returns for each request.
"""

import math
import random
import zlib
from collections.abc import Mapping
from ipaddress import IPv4Address
from typing import Any, Final

from .printer.ams import AmsBay
from .printer.commands import (
    REJECT_ERR_CODE,
    REJECT_REASON,
    Commands,
    failure,
    light_mode,
    success,
)
from .printer.job import FAILED, FINISH, IDLE, PAUSE, PREPARE, RUNNING, Job
from .printer.process import PrintProcess
from .printer.profiles import MODELS, ModelProfile, normalize_model
from .printer.reports import JsonDict, ReportStream, copy_json, merge_report
from .printer.status import StatusWriter
from .printer.thermals import Thermals
from .printer.versions import version_report

__all__ = [
    "FAILED",
    "FINISH",
    "IDLE",
    "MODELS",
    "PAUSE",
    "PREPARE",
    "REJECT_ERR_CODE",
    "REJECT_REASON",
    "RUNNING",
    "ModelProfile",
    "VirtualPrinter",
    "merge_report",
    "normalize_model",
]


class VirtualPrinter:
    """A Bambu printer without a network: reports, job progress and request handling.

    Pure and deterministic: no I/O, no asyncio and no wall clock.  Simulated time moves only in
    `advance()` (multiplied by `speedup`), and all randomness comes from `seed` (default: derived
    from the serial, so each printer of a farm differs but repeats itself).
    """

    def __init__(
        self,
        serial: str,
        model: str,
        *,
        speedup: float = 1.0,
        seed: int | None = None,
        ams_units: int | None = None,
        legacy_firmware: bool | None = None,
        ip: str = "127.0.0.1",
        epoch: float = 1_750_000_000.0,
        printing: bool = False,
        authorization_control: bool = False,
    ) -> None:
        if not speedup > 0:
            raise ValueError("speedup must be positive")
        profile = MODELS[normalize_model(model)]
        self.serial: Final = serial
        self.model: Final = profile.code
        self.profile: Final = profile
        self.speedup = float(speedup)
        self.seed: Final = zlib.crc32(serial.encode()) if seed is None else int(seed)
        self.pushing = True  # `pushing.stop` from any client ends the report stream
        self.legacy_firmware = (
            profile.legacy_firmware if legacy_firmware is None else legacy_firmware
        )
        self._ip = str(IPv4Address(ip))
        self._epoch = float(epoch)
        self._lan_liveview = False
        self._door_open = False
        rng = random.Random(self.seed)
        template = profile.template
        self._print: JsonDict = copy_json(template["print"])
        if profile.ctc_only:
            del self._print["chamber_temper"]
        sequence = rng.randint(100, 60000)
        capabilities = profile.model
        self._thermals = Thermals.at_room_temperature(rng, capabilities.nozzles)
        wifi_base = rng.randint(-66, -42)
        self._ams = AmsBay(
            self._print,
            template,
            profile.default_ams if ams_units is None else int(ams_units),
            rng,
            ambient=self._thermals.ambient,
            unit_info=profile.family == "h2d",
            rfid=profile.family in ("x1", "h2d"),
            first_id=profile.ams_first_id,
        )
        self._process = PrintProcess(
            self._thermals, self._ams, chamber_sensor=capabilities.chamber_sensor
        )
        self._status = StatusWriter(
            self._print,
            profile,
            self._process,
            self._thermals,
            self._ams,
            serial=serial,
            seed=self.seed,
            wifi_base=wifi_base,
        )
        self._commands = Commands(
            self._process, self._thermals, self._print, self.start_job, self._dry_request
        )
        if authorization_control:
            self._commands.authorization_control = True
        self._reports = ReportStream(
            self._sync(),
            sequence=sequence,
            full_reports=capabilities.full_reports,
            has_msg=profile.has_msg,
        )
        if printing:
            self.start_job()

    # --- read-only helpers -------------------------------------------------------------------
    @property
    def gcode_state(self) -> str:
        """Current `gcode_state` (IDLE, PREPARE, RUNNING, PAUSE, FINISH, FAILED)."""
        return self._process.state

    @property
    def stage(self) -> int:
        """Current `stg_cur` stage code (0 printing, 2 heatbed preheating, 16 paused...)."""
        return int(self._sync()["stg_cur"])

    @property
    def percent(self) -> int:
        """Current `mc_percent`."""
        return int(self._sync()["mc_percent"])

    @property
    def layer(self) -> int:
        """Current `layer_num`."""
        return int(self._sync()["layer_num"])

    @property
    def total_layers(self) -> int:
        """Current `total_layer_num`."""
        return int(self._sync()["total_layer_num"])

    @property
    def remaining_minutes(self) -> int:
        """Current `mc_remaining_time` in minutes."""
        return int(self._sync()["mc_remaining_time"])

    @property
    def reject_control(self) -> bool:
        """Whether authorization control is on: `fun` says so and print control is refused."""
        return self._commands.authorization_control

    @reject_control.setter
    def reject_control(self, value: bool) -> None:
        self._commands.authorization_control = value

    @property
    def nozzle_temp(self) -> float:
        """Active nozzle temperature (unrounded)."""
        return self._thermals.nozzles[0]

    @property
    def nozzle_target(self) -> float:
        """Active nozzle target temperature."""
        return self._thermals.nozzle_targets[0]

    @property
    def bed_temp(self) -> float:
        """Bed temperature (unrounded)."""
        return self._thermals.bed

    @property
    def bed_target(self) -> float:
        """Bed target temperature."""
        return self._thermals.bed_target

    @property
    def chamber_temp(self) -> float:
        """Chamber temperature (meaningful on models with a chamber sensor)."""
        return self._thermals.chamber

    @property
    def tray_now(self) -> str:
        """Active tray as reported in `ams.tray_now` ("255" none, "254" external spool)."""
        self._sync()
        return self._ams.tray_now

    @property
    def speed_level(self) -> int:
        """Current `spd_lvl` (1 silent, 2 standard, 3 sport, 4 ludicrous)."""
        return self._process.speed_level

    @property
    def job_name(self) -> str:
        """Current or last job's `subtask_name`."""
        return str(self._sync().get("subtask_name", ""))

    @property
    def elapsed(self) -> float:
        """Simulated seconds since the printer was created."""
        return self._process.elapsed

    @property
    def now(self) -> float:
        """Simulated epoch seconds (the `epoch` argument plus `elapsed`)."""
        return self._epoch + self._process.elapsed

    @property
    def ip(self) -> str:
        """The printer's IP address, as used in `ipcam.rtsp_url` and `net.info`."""
        return self._ip

    @ip.setter
    def ip(self, value: str) -> None:
        self._ip = str(IPv4Address(value))

    @property
    def full_reports(self) -> bool:
        """True when every `push_status` is the full object (X1/H2/P2S), False for P1/A1 deltas."""
        return self.profile.model.full_reports

    @property
    def lan_liveview(self) -> bool:
        """Whether LAN liveview (RTSPS on P2S, H2 and X2D) is switched on."""
        return self._lan_liveview

    def set_lan_liveview(self, enabled: bool) -> None:
        """Switch "LAN liveview" on or off (the X1 Carbon and X1E always stream)."""
        self._lan_liveview = bool(enabled)

    def set_door_open(self, is_open: bool) -> None:
        """Open or close the door; models with a door sensor report it (`stat` or `home_flag`)."""
        self._door_open = bool(is_open)

    def start_drying(self, ams_id: int, *, hours: float, temperature: float) -> None:
        """Start drying an AMS 2 Pro or AMS HT unit, as from the printer's screen.

        Raises ValueError for units that cannot dry (AMS, AMS lite) or that are not fitted.
        """
        if not self.profile.dries:
            raise ValueError(f"an {self.profile.ams_product} cannot dry filament")
        self._ams.start_drying(ams_id, hours * 60.0, temperature, self.now)

    def _dry_request(self, ams_id: int, hours: float, temperature: float) -> str | None:
        """Carry out `ams_filament_drying`: 0 hours stops; return why it cannot be done."""
        try:
            if hours <= 0:
                self._ams.stop_drying(ams_id)
            else:
                self.start_drying(ams_id, hours=hours, temperature=temperature)
        except ValueError as err:
            return str(err)
        return None

    def set_hms(self, entries: list[tuple[int, int]]) -> None:
        """Replace the health-management messages (`hms[]`) with (attr, code) pairs."""
        self._print["hms"] = [{"attr": int(attr), "code": int(code)} for attr, code in entries]

    def set_print_error(self, code: int) -> None:
        """Set `print_error` (0 = none; e.g. 0x0300_400C "the task was canceled")."""
        self._process.error = int(code)

    def fail_job(self, code: int) -> None:
        """Stop the current job as a fault does (FAILED with `print_error` `code`)."""
        why = self._process.fail(int(code))
        if why is not None:
            raise ValueError(why)

    def light_mode(self, node: str = "chamber_light") -> str | None:
        """Return the mode ("on", "off", "flashing") of a light node, None if absent."""
        return light_mode(self._print, node)

    # --- reports -----------------------------------------------------------------------------
    def full_report(self) -> JsonDict:
        """Return the whole `push_status` object as a fresh dict (what `pushall` answers).

        It carries the sequence id of the last report sent, so merging every delta sent so far
        onto an earlier full report reproduces it exactly; sending it is `pushall`'s job.
        """
        return self._reports.full(self._sync())

    def status_report(self) -> JsonDict | None:
        """Return the next periodic report: full on X1/H2/P2S, changed fields only on P1/A1.

        P1/A1 return None when nothing changed since the previous report; every model
        returns None while a client has stopped the push stream (`pushing.stop`).
        """
        if not self.pushing:
            return None
        return self._reports.periodic(self._sync())

    def version_report(self, sequence_id: str = "0") -> JsonDict:
        """Return the `info.get_version` reply with this model's firmware module list."""
        return version_report(
            self.profile,
            serial=self.serial,
            seed=self.seed,
            ams_units=self._ams.units,
            legacy=self.legacy_firmware,
            sequence_id=sequence_id,
        )

    def _sync(self) -> JsonDict:
        return self._status.sync(
            now=self.now, ip=self._ip, lan_liveview=self._lan_liveview, door_open=self._door_open
        )

    # --- jobs and time -----------------------------------------------------------------------
    def start_job(
        self,
        name: str = "Benchy",
        layers: int = 240,
        minutes: float = 30.0,
        *,
        tray: int | None = None,
        bed_temp: float | None = None,
        nozzle_temp: float | None = None,
    ) -> None:
        """Start a print job now (replacing any current one): PREPARE, calibration, printing.

        `minutes` is the printing time at standard speed; the calibration stages (heating,
        homing, levelling...) come on top, as on a real printer.  `tray` is the global AMS tray
        index to print from (default: the first loaded tray, or the external spool).
        """
        if layers < 1 or not minutes > 0:
            raise ValueError("a job needs at least one layer and a positive duration")
        tray_id, filament = self._ams.pick_tray(tray)
        job = Job.with_filament(
            name,
            layers,
            minutes,
            tray_id,
            filament,
            self.profile.stages,
            int(self.now),
            self._ams.spool_levels(),
            bed_temp=bed_temp,
            nozzle_temp=nozzle_temp,
        )
        self._process.start(job)

    def advance(self, seconds: float) -> None:
        """Move simulated time forward by `seconds * speedup` and run the job meanwhile."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a finite, non-negative number")
        self._process.advance(seconds * self.speedup)

    # --- requests ----------------------------------------------------------------------------
    def handle_request(self, payload: object) -> list[JsonDict]:
        """Answer a request like the printer: replies first, then the report showing the change.

        `pushing.pushall` -> the full report; `pushing.stop` -> no more reports until
        `pushing.start` (-> the full report); `info.get_version` -> the module list; control
        commands (`print.*`, `system.ledctrl`) -> a reply with `result` "success" or "failed" and
        `reason`.  Malformed payloads are ignored (empty list); this never raises.
        """
        out: list[JsonDict] = []
        if not isinstance(payload, Mapping):
            return out
        for module, body in payload.items():
            if isinstance(body, Mapping) and isinstance(body.get("command"), str):
                out.extend(self._handle_one(str(module), body))
        return out

    def _handle_pushing(self, command: str) -> list[JsonDict]:
        """`pushall`/`start` answer with the full report; `stop` ends the stream silently.

        Whether a printer answers `pushall` while its stream is stopped is not known; it keeps
        answering here, as before the stop.

        Stopping and starting the stream: ha-bambulab issues #92 and #174.
        """
        if command != "pushall":
            self.pushing = command == "start"
            if not self.pushing:
                return []
        return [self._reports.publish_full(self._sync())]

    def _handle_one(self, module: str, body: Mapping[str, Any]) -> list[JsonDict]:
        command = str(body["command"])
        sequence_id = str(body.get("sequence_id", "0"))
        if module == "pushing" and command in ("pushall", "stop", "start"):
            return self._handle_pushing(command)
        if module == "info" and command == "get_version":
            return [self.version_report(sequence_id)]
        if not self._commands.supports(module, command):
            return [failure(module, command, sequence_id, f"unsupported command: {command}")]
        if self._commands.refuses(module):
            reply = failure(module, command, sequence_id, REJECT_REASON)
            reply[module]["err_code"] = REJECT_ERR_CODE
            return [reply]
        error = self._commands.run(module, command, body)
        if error is not None:
            return [failure(module, command, sequence_id, error)]
        out = [success(module, command, sequence_id, body)]
        report = self.status_report()
        if report is not None:
            out.append(report)
        return out
