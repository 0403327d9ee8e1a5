"""A pure, deterministic model of a Bambu Lab printer for tests, the demo and the benchmarks.

`VirtualPrinter` speaks the printer's MQTT payloads (already decoded to dicts) without doing any
I/O: time only moves when the caller calls `advance()`, so a test can run a two-hour print in
milliseconds and get the same reports every time for the same seed.  The reports are built from
templates derived from real printer captures (`simulator/templates/*.json`, from the MIT-licensed
ha-bambulab test data), so field names, nesting and value types (strings where the printer sends
strings) match what a real printer of the same family publishes.

A job runs the way the printers report it: `PREPARE` while the file is prepared
(`gcode_file_prepare_percent` 0..100), then `RUNNING` through the start G-code's calibration
stages (`stg_cur` 2 heatbed preheating, 13 homing, 4 changing filament, 14 cleaning nozzle,
1 auto bed levelling, 3 vibration compensation, 7 heating hotend, 8 calibrating extrusion; the
heating stages end when the temperature is reached), then `RUNNING` with `stg_cur` 0 while the
layers print, then `FINISH` with the heaters off.  A user pause is `PAUSE` / `stg_cur` 16; a stop
leaves `FAILED` with the progress frozen, as on the real printers (see the P1P capture).

The network layer (`simulator/device.py`) wraps one `VirtualPrinter` in a broker and publishes
what `status_report()` returns once a second and what `handle_request()` returns for each request.
"""

import json
import math
import random
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, Final

type JsonDict = dict[str, Any]

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
    "ModelSpec",
    "VirtualPrinter",
    "merge_report",
    "normalize_model",
]

# --- printer states and stage codes (`gcode_state`, `stg_cur`) -------------------------------
IDLE: Final = "IDLE"
PREPARE: Final = "PREPARE"
RUNNING: Final = "RUNNING"
PAUSE: Final = "PAUSE"
FINISH: Final = "FINISH"
FAILED: Final = "FAILED"
_ACTIVE_STATES: Final = frozenset({PREPARE, RUNNING, PAUSE})

STAGE_PRINTING: Final = 0
STAGE_BED_LEVELING: Final = 1
STAGE_HEATBED_PREHEATING: Final = 2
STAGE_VIBRATION_COMPENSATION: Final = 3
STAGE_CHANGING_FILAMENT: Final = 4
STAGE_HEATING_HOTEND: Final = 7
STAGE_CALIBRATING_EXTRUSION: Final = 8
STAGE_HOMING: Final = 13
STAGE_CLEANING_NOZZLE: Final = 14
STAGE_PAUSED_BY_USER: Final = 16

# Simulated seconds of the fixed-length calibration stages (heating stages end at temperature).
_STAGE_SECONDS: Final[Mapping[int, float]] = {
    STAGE_HOMING: 25.0,
    STAGE_CHANGING_FILAMENT: 45.0,
    STAGE_CLEANING_NOZZLE: 35.0,
    STAGE_BED_LEVELING: 100.0,
    STAGE_VIBRATION_COMPENSATION: 45.0,
    STAGE_CALIBRATING_EXTRUSION: 40.0,
}
_PREPARE_SECONDS: Final = 8.0  # file download / preparation (`gcode_file_prepare_percent`)
_MAX_STEP: Final = 5.0  # longest integration step while a job runs (keeps couplings smooth)
_MAX_IDLE_STEP: Final = 60.0  # longest step otherwise (only exponential cooling happens)
_PREHEAT_NOZZLE: Final = (
    140.0  # nozzle temperature while levelling/cleaning, as the start G-code does
)

# Thermal behaviour: heaters ramp linearly (full power) to their target; everything cools
# exponentially toward its target or the room temperature.
_NOZZLE_HEAT_RATE: Final = 4.0  # degC/s
_BED_HEAT_RATE: Final = 0.6  # degC/s
_NOZZLE_COOL_TAU: Final = 110.0  # s
_BED_COOL_TAU: Final = 650.0  # s
_CHAMBER_TAU: Final = 900.0  # s
_AT_TARGET: Final = 1.0  # degC: a heating stage ends this close to its target

_SPEED_MAGNITUDE: Final[Mapping[int, int]] = {1: 50, 2: 100, 3: 124, 4: 166}
_SPOOL_PERCENT_PER_MINUTE: Final = 0.03  # % of a 1 kg spool used per printing minute

# Firmware "authorization control" (2025): the reply real printers send to unsigned commands.
REJECT_REASON: Final = "mqtt message verify failed"
REJECT_ERR_CODE: Final = 84033543  # 0x0502_4007, HMS 0500_0500_0001_0007 on the screen

_TEMPLATE_DIR: Final = Path(__file__).resolve().parent / "templates"


def _load_templates() -> dict[str, JsonDict]:
    templates: dict[str, JsonDict] = {}
    for name in ("x1", "h2d", "p1", "a1"):
        data: JsonDict = json.loads((_TEMPLATE_DIR / f"{name}.json").read_text(encoding="utf-8"))
        templates[name] = data
    return templates


# Loaded once at import time so that building printers inside an event loop does no file I/O.
_TEMPLATES: Final = _load_templates()


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What differs between printer models: report family, camera, AMS kind, firmware modules."""

    code: str
    family: str  # report template: "x1", "h2d", "p1", "a1"
    product_name: str  # `ota` module product_name on newer firmware
    project_name: str  # `esp32` project_name on older P1/A1 firmware ("" when not applicable)
    full_reports: bool  # True: every push_status is the full object; False: deltas
    rtsp: bool  # RTSPS camera advertised in `ipcam.rtsp_url`
    chamber_sensor: bool
    aux_fan: bool
    chamber_fan: bool
    ams_module: str  # get_version module prefix of an AMS unit ("ams", "ams_f1", "n3f")
    ams_hw: str
    ams_product: str
    ams_sw: str
    default_ams: int
    nozzles: int
    legacy_firmware: bool  # default get_version style (mirrors the captures)
    ota_version: str
    stages: tuple[int, ...]
    modules: tuple[tuple[str, str, str, str], ...]  # (name, hw_ver, sw_ver, loader_ver)


_X1_STAGES: Final = (2, 13, 4, 14, 1, 3, 7, 8)
_P1_STAGES: Final = (2, 13, 4, 14, 1, 3, 7)

MODELS: Final[Mapping[str, ModelSpec]] = {
    spec.code: spec
    for spec in (
        ModelSpec(
            "X1C", "x1", "Bambu Lab X1-Carbon", "", True, True, True, True, True,
            "ams", "AMS08", "AMS", "00.01.06.62", 1, 1, False, "01.09.00.01", _X1_STAGES,
            (("mc", "MC07", "00.00.32.89", "00.00.00.28"),
             ("mc-sub", "N/A", "00.00.32.89", "00.00.00.00"),
             ("th", "TH09", "00.00.07.12", "00.00.00.14"),
             ("ap", "AP05", "00.00.50.76", "00.00.01.08")),
        ),
        ModelSpec(
            "X1E", "x1", "Bambu Lab X1E", "", True, True, True, True, True,
            "ams", "AMS08", "AMS", "00.01.06.62", 1, 1, False, "01.02.00.00", _X1_STAGES,
            (("mc", "MC07", "00.00.32.89", "00.00.00.28"),
             ("mc-sub", "N/A", "00.00.32.89", "00.00.00.00"),
             ("th", "TH09", "00.00.07.12", "00.00.00.14"),
             ("ap", "AP02", "00.00.50.76", "00.00.01.08")),
        ),
        ModelSpec(
            "P1P", "p1", "Bambu Lab P1P", "C11", False, False, False, False, False,
            "ams", "AMS08", "AMS", "00.00.06.49", 0, 1, True, "01.07.00.00", _P1_STAGES,
            (("esp32", "AP04", "01.11.32.89", "00.00.00.00"),
             ("mc", "MC07", "00.00.29.75", "00.00.00.23"),
             ("th", "TH09", "00.00.09.95", "00.00.00.14")),
        ),
        ModelSpec(
            "P1S", "p1", "Bambu Lab P1S", "C12", False, False, False, True, True,
            "ams", "AMS08", "AMS", "00.00.06.49", 1, 1, False, "01.08.02.00", _P1_STAGES,
            (("esp32", "AP04", "01.11.35.64", "00.00.00.00"),
             ("mc", "MC07", "00.01.32.85", "00.00.00.23"),
             ("th", "TH09", "00.00.09.95", "00.00.00.14")),
        ),
        ModelSpec(
            "A1", "a1", "Bambu Lab A1", "N2S", False, False, False, False, False,
            "ams_f1", "AMS_F102", "AMS Lite", "00.00.07.94", 1, 1, True, "01.05.00.00",
            _P1_STAGES,
            (("esp32", "AP05", "01.13.33.99", "00.00.00.00"),
             ("mc", "MC02", "00.01.29.83", "00.00.00.32"),
             ("th", "TH01", "00.00.07.69", "00.00.00.26")),
        ),
        ModelSpec(
            "A1MINI", "a1", "Bambu Lab A1 mini", "N1", False, False, False, False, False,
            "ams_f1", "AMS_F102", "AMS Lite", "00.00.07.94", 1, 1, False, "01.04.00.00",
            _P1_STAGES,
            (("esp32", "AP05", "01.13.33.99", "00.00.00.00"),
             ("mc", "MC02", "00.01.29.83", "00.00.00.32"),
             ("th", "TH01", "00.00.07.69", "00.00.00.26")),
        ),
        ModelSpec(
            "P2S", "x1", "Bambu Lab P2S", "", True, True, False, True, True,
            "n3f", "N3F05", "AMS 2 Pro", "02.00.19.47", 1, 1, False, "01.00.00.00", _X1_STAGES,
            (("mc", "MC09", "02.02.56.50", "02.02.56.50"),
             ("th", "TH08", "02.00.17.46", "00.00.17.22"),
             ("ap", "AP05", "00.00.50.02", "00.00.01.11")),
        ),
        ModelSpec(
            "H2D", "h2d", "Bambu Lab H2D", "", True, True, True, True, True,
            "n3f", "N3F05", "AMS 2 Pro", "02.00.19.47", 2, 2, False, "01.01.01.00", _X1_STAGES,
            (("ahb", "AHB02", "00.00.09.75", "00.00.00.21"),
             ("mc", "MC09", "02.02.56.50", "02.02.56.50"),
             ("mc-sub", "N/A", "02.02.56.50", "02.02.56.50"),
             ("th", "TH08", "02.00.17.46", "00.00.17.22"),
             ("ext", "EXT07", "00.00.08.18", "00.00.01.00"),
             ("smc", "SMC09", "02.00.11.79", "00.00.09.26"),
             ("ap", "AP05", "00.00.50.02", "00.00.01.11")),
        ),
    )
}  # fmt: skip


def normalize_model(model: str) -> str:
    """Return the canonical model code ("A1 mini", "a1_mini" -> "A1MINI"); ValueError if unknown."""
    code = "".join(ch for ch in str(model).upper() if ch.isalnum())
    code = {"X1CARBON": "X1C", "X1": "X1C"}.get(code, code)
    if code not in MODELS:
        raise ValueError(f"unknown printer model {model!r}; known: {', '.join(MODELS)}")
    return code


# --- filament catalogue: (type, sub brand, info idx, nozzle min, nozzle max, drying, bed) ---
_FILAMENTS: Final = (
    ("PLA", "PLA Basic", "GFA00", 190, 230, 55, 55),
    ("PLA", "PLA Matte", "GFA01", 190, 230, 55, 55),
    ("PETG", "PETG HF", "GFG02", 230, 260, 65, 70),
    ("ABS", "ABS", "GFB00", 240, 270, 80, 90),
)
_COLORS: Final = (  # (tray_color, the colour letter of Bambu's tray_id_name)
    ("000000FF", "K"), ("FFFFFFFF", "W"), ("D32941FF", "R"), ("489FDFFF", "B"),
    ("FFF144FF", "Y"), ("0ACC38FF", "G"), ("FF6A13FF", "A"), ("AE835BFF", "N"),
    ("7D6556FF", "N"), ("ADB1B2FF", "D"),
)  # fmt: skip


def _mix(*values: int) -> int:
    """Hash integers to 64 bits (splitmix64): repeatable noise independent of call chunking."""
    state = 0x9E3779B97F4A7C15
    for value in values:
        state = (state ^ (value & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        state ^= state >> 31
        state = state * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        state ^= state >> 29
    return state


def _noise(seed: int, channel: int, slot: int) -> float:
    """Deterministic noise in [-1, 1] for one channel and time slot."""
    return (_mix(seed, channel, slot) % 20001) / 10000.0 - 1.0


def _int(value: Any, default: int) -> int:
    """Parse an integer sent as a string ("230"), falling back to `default`."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _copy(value: Any) -> Any:
    """Deep-copy JSON-like data (much faster than copy.deepcopy for dicts, lists and scalars)."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) not in _CONTAINERS else _copy(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) not in _CONTAINERS else _copy(v) for v in value]
    return value


_CONTAINERS: Final = (dict, list)


def _is_id_list(value: list[Any]) -> bool:
    return bool(value) and all(isinstance(item, dict) and "id" in item for item in value)


def _diff(current: JsonDict, sent: JsonDict) -> JsonDict:
    """Return what changed from `sent` to `current`, the way P1/A1 printers send deltas.

    Nested objects carry only their changed keys; lists of objects with an `id` (AMS units,
    trays) carry only the changed elements, each with its `id`; other lists are sent whole.
    """
    out: JsonDict = {}
    for key, value in current.items():
        if key not in sent:
            out[key] = _copy(value)
            continue
        old = sent[key]
        if value == old and type(value) is type(old):
            continue
        if isinstance(value, dict) and isinstance(old, dict):
            sub = _diff(value, old)
            if sub:
                out[key] = sub
        elif (
            isinstance(value, list)
            and isinstance(old, list)
            and _is_id_list(value)
            and _is_id_list(old)
            and [item["id"] for item in value] == [item["id"] for item in old]
        ):
            changed = [
                {"id": new["id"], **_diff(new, prev)}
                for new, prev in zip(value, old, strict=True)
                if new != prev
            ]
            if changed:
                out[key] = changed
        else:
            out[key] = _copy(value)
    return out


def merge_report(base: JsonDict, delta: Mapping[str, Any]) -> None:
    """Merge a delta into `base` in place: dicts recursively, `id` lists element-wise by id."""
    for key, value in delta.items():
        old = base.get(key)
        if isinstance(value, Mapping) and isinstance(old, dict):
            merge_report(old, value)
        elif isinstance(value, list) and isinstance(old, list) and _is_id_list(value):
            by_id = {item.get("id"): item for item in old if isinstance(item, dict)}
            for item in value:
                target = by_id.get(item["id"])
                if target is None:
                    old.append(_copy(item))
                else:
                    merge_report(target, item)
        else:
            base[key] = _copy(value)


@dataclass(slots=True)
class _Job:
    name: str
    layers: int
    print_seconds: float  # printing time at 100 % speed (calibration stages come on top)
    bed_target: float
    nozzle_target: float
    tray: str  # global tray index as the printer reports it ("0".."15", "254" external)
    stages: tuple[int, ...]
    start_epoch: int
    part_fan_gear: int
    stage_index: int = -1  # index into stages; len(stages) = printing
    stage_elapsed: float = 0.0
    prepare_elapsed: float = 0.0
    work_done: float = 0.0  # printing seconds done at 100 % speed
    spool_start: Mapping[str, int] = field(default_factory=dict)


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
    ) -> None:
        if not speedup > 0:
            raise ValueError("speedup must be positive")
        self.serial: Final = serial
        self.model: Final = normalize_model(model)
        self.spec: Final = MODELS[self.model]
        self.speedup = float(speedup)
        self.seed: Final = zlib.crc32(serial.encode()) if seed is None else int(seed)
        self.reject_control = False
        self.legacy_firmware = (
            self.spec.legacy_firmware if legacy_firmware is None else legacy_firmware
        )
        self._ip = str(IPv4Address(ip))
        self._epoch = float(epoch)
        self._t = 0.0
        rng = random.Random(self.seed)
        template = _TEMPLATES[self.spec.family]
        self._print: JsonDict = _copy(template["print"])
        self._has_msg: bool = bool(template["has_msg"])
        self._sequence = rng.randint(100, 60000)

        # Physical state.
        self._ambient = round(22.0 + rng.uniform(0.0, 4.0), 2)
        self._nozzles = [self._ambient + rng.uniform(0.5, 2.5) for _ in range(self.spec.nozzles)]
        self._nozzle_targets = [0.0] * self.spec.nozzles
        self._bed = self._ambient + rng.uniform(0.0, 1.5)
        self._bed_target = 0.0
        self._chamber = self._ambient + rng.uniform(0.0, 1.0)
        self._wifi_base = rng.randint(-66, -42)
        self._state = IDLE
        self._resume_state = RUNNING
        self._speed_level = 2
        self._fan_override: dict[str, int] = {}
        self._lan_liveview = False
        self._job: _Job | None = None
        self._last_percent = 0
        self._last_remaining = 0
        self._last_layer = 0
        self._last_total_layers = 0
        self._last_start_epoch = 0

        units = self.spec.default_ams if ams_units is None else max(0, min(4, int(ams_units)))
        self._build_ams(units, rng, template)
        self._sync()
        self._sent: JsonDict = _copy(self._print)
        if printing:
            self.start_job()

    # --- read-only helpers -------------------------------------------------------------------
    @property
    def gcode_state(self) -> str:
        """Current `gcode_state` (IDLE, PREPARE, RUNNING, PAUSE, FINISH, FAILED)."""
        return self._state

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
    def nozzle_temp(self) -> float:
        """Active nozzle temperature (unrounded)."""
        return self._nozzles[0]

    @property
    def nozzle_target(self) -> float:
        """Active nozzle target temperature."""
        return self._nozzle_targets[0]

    @property
    def bed_temp(self) -> float:
        """Bed temperature (unrounded)."""
        return self._bed

    @property
    def bed_target(self) -> float:
        """Bed target temperature."""
        return self._bed_target

    @property
    def chamber_temp(self) -> float:
        """Chamber temperature (meaningful on models with a chamber sensor)."""
        return self._chamber

    @property
    def tray_now(self) -> str:
        """Active tray as reported in `ams.tray_now` ("255" none, "254" external spool)."""
        return str(self._sync()["ams"]["tray_now"])

    @property
    def speed_level(self) -> int:
        """Current `spd_lvl` (1 silent, 2 standard, 3 sport, 4 ludicrous)."""
        return self._speed_level

    @property
    def job_name(self) -> str:
        """Current or last job's `subtask_name`."""
        return str(self._sync().get("subtask_name", ""))

    @property
    def elapsed(self) -> float:
        """Simulated seconds since the printer was created."""
        return self._t

    @property
    def now(self) -> float:
        """Simulated epoch seconds (the `epoch` argument plus `elapsed`)."""
        return self._epoch + self._t

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
        return self.spec.full_reports

    @property
    def lan_liveview(self) -> bool:
        """Whether an H2D's LAN liveview (RTSPS) is switched on."""
        return self._lan_liveview

    def set_lan_liveview(self, enabled: bool) -> None:
        """Switch H2D "LAN liveview" on or off (other RTSPS models always stream)."""
        self._lan_liveview = bool(enabled)

    def set_hms(self, entries: list[tuple[int, int]]) -> None:
        """Replace the health-management messages (`hms[]`) with (attr, code) pairs."""
        self._print["hms"] = [{"attr": int(attr), "code": int(code)} for attr, code in entries]

    def set_print_error(self, code: int) -> None:
        """Set `print_error` (0 = none; e.g. 0x0300_400C "the task was canceled")."""
        self._print["print_error"] = int(code)

    def light_mode(self, node: str = "chamber_light") -> str | None:
        """Return the mode ("on", "off", "flashing") of a light node, None if absent."""
        for light in self._print.get("lights_report", []):
            if light.get("node") == node:
                return str(light.get("mode"))
        return None

    # --- reports -----------------------------------------------------------------------------
    def full_report(self) -> JsonDict:
        """Return the whole `push_status` object as a fresh dict (what `pushall` answers).

        It carries the sequence id of the last report sent, so merging every delta sent so far
        onto an earlier full report reproduces it exactly; sending it is `pushall`'s job.
        """
        return self._wrap(_copy(self._sync()))

    def status_report(self) -> JsonDict | None:
        """Return the next periodic report: full on X1/H2/P2S, changed fields only on P1/A1.

        P1/A1 return None when nothing changed since the previous report.
        """
        current = self._sync()
        if self.spec.full_reports:
            self._sequence += 1
            return self._wrap(_copy(current))
        delta = _diff(current, self._sent)
        if not delta:
            return None
        merge_report(self._sent, delta)
        self._sequence += 1
        return self._wrap(delta)

    def version_report(self, sequence_id: str = "0") -> JsonDict:
        """Return the `info.get_version` reply with this model's firmware module list."""
        modules = self._version_modules()
        if self.spec.family in ("x1", "h2d"):
            return {
                "info": {"command": "get_version", "module": modules, "sequence_id": sequence_id}
            }
        return {
            "info": {
                "command": "get_version",
                "sequence_id": sequence_id,
                "module": modules,
                "result": "success",
                "reason": "",
            }
        }

    def _wrap(self, body: JsonDict) -> JsonDict:
        body["command"] = "push_status"
        if self._has_msg:
            body["msg"] = 0
        body["sequence_id"] = str(self._sequence)
        return {"print": body}

    def _send_full(self) -> JsonDict:
        """Build a full report that is actually sent: new sequence id and new delta baseline."""
        current = self._sync()
        self._sequence += 1
        self._sent = _copy(current)
        return self._wrap(_copy(current))

    # --- jobs --------------------------------------------------------------------------------
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
        tray_id, filament = self._pick_tray(tray)
        material = str(filament.get("tray_type", "PLA"))
        nozzle_max = _int(filament.get("nozzle_temp_max"), 230)
        nozzle_default = {"PLA": 220, "PETG": 250, "ABS": 260}.get(material, nozzle_max - 10)
        nozzle_default = max(
            _int(filament.get("nozzle_temp_min"), 0), min(nozzle_max, nozzle_default)
        )
        bed_default = {"PLA": 55.0, "PETG": 70.0, "ABS": 90.0}.get(material, 60.0)
        stages = tuple(
            s
            for s in self.spec.stages
            if s != STAGE_CHANGING_FILAMENT or tray_id not in ("254", "255")
        )
        self._job = _Job(
            name=name,
            layers=int(layers),
            print_seconds=float(minutes) * 60.0,
            bed_target=float(bed_default if bed_temp is None else bed_temp),
            nozzle_target=float(nozzle_default if nozzle_temp is None else nozzle_temp),
            tray=tray_id,
            stages=stages,
            start_epoch=int(self.now),
            part_fan_gear=15 if material.startswith("PLA") else 7,
            spool_start=self._spool_levels(),
        )
        self._state = PREPARE
        self._fan_override.clear()
        self._last_start_epoch = self._job.start_epoch

    def _pick_tray(self, tray: int | None) -> tuple[str, Mapping[str, Any]]:
        trays = {
            str(int(unit["id"]) * 4 + int(t["id"])): t
            for unit in self._print["ams"]["ams"]
            for t in unit["tray"]
            if t.get("tray_type")
        }
        if tray is not None:
            key = str(tray)
            if key not in trays:
                raise ValueError(f"tray {tray} is not loaded")
            return key, trays[key]
        if trays:
            key = next(iter(trays))
            return key, trays[key]
        return "254", self._print.get("vt_tray", {})

    def _spool_levels(self) -> dict[str, int]:
        levels: dict[str, int] = {}
        for unit in self._print["ams"]["ams"]:
            for tray in unit["tray"]:
                remain = tray.get("remain")
                if isinstance(remain, int) and "tray_type" in tray:
                    levels[str(int(unit["id"]) * 4 + int(tray["id"]))] = remain
        return levels

    # --- time --------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move simulated time forward by `seconds * speedup` and run the job meanwhile."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a finite, non-negative number")
        remaining = seconds * self.speedup
        while remaining > 1e-9:
            self._update_phase()
            limit = _MAX_STEP if self._state in _ACTIVE_STATES else _MAX_IDLE_STEP
            step = min(remaining, limit, self._time_to_event())
            self._integrate(step)
            self._t += step
            remaining -= step
        self._update_phase()

    def _time_to_event(self) -> float:
        job = self._job
        if job is None or self._state not in (PREPARE, RUNNING):
            return math.inf
        if self._state == PREPARE:
            return max(_PREPARE_SECONDS - job.prepare_elapsed, 1e-6)
        if job.stage_index >= len(job.stages):
            return max((job.print_seconds - job.work_done) / self._speed_factor, 1e-6)
        stage = job.stages[job.stage_index]
        if stage == STAGE_HEATBED_PREHEATING:
            gap = self._bed_target - _AT_TARGET - self._bed
            return max(gap / _BED_HEAT_RATE, 1e-6) if self._bed_target > self._bed else math.inf
        if stage == STAGE_HEATING_HOTEND:
            gap = self._nozzle_targets[0] - _AT_TARGET - self._nozzles[0]
            heating = self._nozzle_targets[0] > self._nozzles[0]
            return max(gap / _NOZZLE_HEAT_RATE, 1e-6) if heating else math.inf
        return max(_STAGE_SECONDS.get(stage, 30.0) - job.stage_elapsed, 1e-6)

    @property
    def _speed_factor(self) -> float:
        return _SPEED_MAGNITUDE[self._speed_level] / 100.0

    def _integrate(self, dt: float) -> None:
        for i, target in enumerate(self._nozzle_targets):
            self._nozzles[i] = self._heat(
                self._nozzles[i], target, dt, _NOZZLE_HEAT_RATE, _NOZZLE_COOL_TAU
            )
        self._bed = self._heat(self._bed, self._bed_target, dt, _BED_HEAT_RATE, _BED_COOL_TAU)
        if self.spec.chamber_sensor:
            printing = self._state in (RUNNING, PAUSE)
            goal = self._ambient + 0.3 * max(0.0, self._bed - self._ambient) + (2.0 * printing)
            self._chamber = goal + (self._chamber - goal) * math.exp(-dt / _CHAMBER_TAU)
        job = self._job
        if job is None:
            return
        if self._state == PREPARE:
            job.prepare_elapsed += dt
        elif self._state == RUNNING:
            if job.stage_index >= len(job.stages):
                job.work_done = min(job.print_seconds, job.work_done + dt * self._speed_factor)
            else:
                job.stage_elapsed += dt

    def _heat(self, temp: float, target: float, dt: float, rate: float, tau: float) -> float:
        if target > 0 and temp < target:
            return min(target, temp + rate * dt)
        floor = target if target > 0 else self._ambient
        return floor + (temp - floor) * math.exp(-dt / tau)

    def _update_phase(self) -> None:
        job = self._job
        if job is None:
            return
        for _ in range(len(job.stages) + 3):  # bounded: each pass moves one step forward
            if self._state == PREPARE and job.prepare_elapsed >= _PREPARE_SECONDS - 1e-9:
                self._state = RUNNING
                self._enter_stage(job, 0)
            elif self._state == RUNNING and job.stage_index < len(job.stages):
                if not self._stage_done(job):
                    return
                self._enter_stage(job, job.stage_index + 1)
            elif self._state == RUNNING and job.work_done >= job.print_seconds - 1e-9:
                self._finish(FINISH)
            else:
                return

    def _stage_done(self, job: _Job) -> bool:
        stage = job.stages[job.stage_index]
        if stage == STAGE_HEATBED_PREHEATING:
            return self._bed >= self._bed_target - _AT_TARGET - 1e-6
        if stage == STAGE_HEATING_HOTEND:
            return self._nozzles[0] >= self._nozzle_targets[0] - _AT_TARGET - 1e-6
        return job.stage_elapsed >= _STAGE_SECONDS.get(stage, 30.0) - 1e-9

    def _enter_stage(self, job: _Job, index: int) -> None:
        job.stage_index = index
        job.stage_elapsed = 0.0
        self._fan_override.clear()
        stage = job.stages[index] if index < len(job.stages) else STAGE_PRINTING
        if index == 0 or stage == STAGE_HEATBED_PREHEATING:
            self._bed_target = job.bed_target
            self._nozzle_targets[0] = min(_PREHEAT_NOZZLE, job.nozzle_target)
        if stage in (STAGE_HEATING_HOTEND, STAGE_CALIBRATING_EXTRUSION, STAGE_PRINTING):
            self._nozzle_targets[0] = job.nozzle_target
            self._bed_target = job.bed_target

    def _finish(self, state: str) -> None:
        """End the job as FINISH (done) or FAILED (stopped): heaters off, progress frozen."""
        job = self._job
        snapshot = self._sync()
        self._last_percent = 100 if state == FINISH else int(snapshot["mc_percent"])
        self._last_remaining = 0 if state == FINISH else int(snapshot["mc_remaining_time"])
        if job is not None:
            self._last_total_layers = job.layers
            self._last_layer = job.layers if state == FINISH else int(snapshot["layer_num"])
            self._apply_spool_use(job)
        self._state = state
        self._fan_override.clear()
        self._bed_target = 0.0
        self._nozzle_targets = [0.0] * len(self._nozzle_targets)
        ams = self._print["ams"]
        if job is not None and job.tray != "254":
            ams["tray_pre"] = job.tray
            if state == FINISH:  # the AMS retracts the filament after a finished print
                ams["tray_now"] = ams["tray_tar"] = "255"
        self._job = None

    # --- AMS ---------------------------------------------------------------------------------
    def _build_ams(self, units: int, rng: random.Random, template: Mapping[str, Any]) -> None:
        ams = self._print["ams"]
        unit_proto: JsonDict | None = template.get("ams_unit")
        tray_proto: JsonDict | None = template.get("tray")
        ams["ams"] = []
        if unit_proto is None or tray_proto is None:
            units = 0
        infos = ("2103", "2003") if self.spec.family == "h2d" else None
        rfid = "tray_uuid" in (tray_proto or {}) and self.spec.family in ("x1", "h2d")
        for index in range(units):
            assert unit_proto is not None  # noqa: S101  (checked above)
            assert tray_proto is not None  # noqa: S101
            unit = _copy(unit_proto)
            unit["id"] = str(index)
            unit["humidity"] = str(rng.choice((3, 4, 5, 5)))
            if "humidity_raw" in unit:
                unit["humidity_raw"] = str(rng.randint(8, 35))
            if "info" in unit:
                unit["info"] = infos[index % 2] if infos else unit["info"]
            if unit.get("temp") != "0.0":
                unit["temp"] = f"{self._ambient + 1.5:.1f}"
            for slot in range(4):
                kind = _FILAMENTS[0] if index == 0 and slot == 0 else rng.choice(_FILAMENTS)
                unit["tray"].append(self._make_tray(tray_proto, slot, kind, rng, rfid=rfid))
            ams["ams"].append(unit)
        self._ams_units = units
        bits = sum(1 << i for i in range(units))
        tray_bits = sum(0xF << (4 * i) for i in range(units))
        for key, value in (
            ("ams_exist_bits", f"{bits:x}"),
            ("ams_exist_bits_raw", f"{bits:x}"),
            ("tray_exist_bits", f"{tray_bits:x}"),
            ("tray_is_bbl_bits", f"{tray_bits:x}"),
            ("tray_read_done_bits", f"{tray_bits:x}"),
        ):
            if key in ams:
                ams[key] = value
        idle_tray = "255" if units else "254"
        ams["tray_now"] = ams["tray_pre"] = ams["tray_tar"] = idle_tray

    @staticmethod
    def _make_tray(
        proto: Mapping[str, Any],
        slot: int,
        kind: tuple[str, str, str, int, int, int, int],
        rng: random.Random,
        *,
        rfid: bool,
    ) -> JsonDict:
        material, brand, idx, nozzle_min, nozzle_max, drying, _bed = kind
        color, letter = rng.choice(_COLORS)
        tray: JsonDict = _copy(proto)
        tray.update(
            id=str(slot),
            tray_type=material,
            tray_sub_brands=brand,
            tray_info_idx=idx,
            tray_color=color,
            cols=[color],
            nozzle_temp_min=str(nozzle_min),
            nozzle_temp_max=str(nozzle_max),
            remain=rng.randint(15, 100),
        )
        if "drying_temp" in tray:
            tray["drying_temp"] = str(drying)
        if rfid:
            tray["tray_id_name"] = f"{idx[2:]}-{letter}{slot}"
            tray["tag_uid"] = f"{rng.getrandbits(32):08X}00000100"
            tray["tray_uuid"] = f"{rng.getrandbits(128):032X}"
            tray["tray_weight"] = "1000"
        return tray

    def _apply_spool_use(self, job: _Job) -> None:
        """Write the filament used by a job into its tray's `remain` (kept after the job)."""
        remain = self._current_remain(job)
        tray = self._tray_obj(job.tray)
        if remain is not None and tray is not None:
            tray["remain"] = remain

    def _tray_obj(self, tray_id: str) -> JsonDict | None:
        if not tray_id.isdigit() or int(tray_id) >= 4 * self._ams_units:
            return None
        unit_index, slot = divmod(int(tray_id), 4)
        tray: JsonDict = self._print["ams"]["ams"][unit_index]["tray"][slot]
        return tray

    def _current_remain(self, job: _Job) -> int | None:
        start = job.spool_start.get(job.tray)
        if start is None or self._tray_obj(job.tray) is None:
            return None
        used = job.work_done / 60.0 * _SPOOL_PERCENT_PER_MINUTE
        return max(0, math.ceil(start - used - 1e-9))

    # --- report synchronisation --------------------------------------------------------------
    def _display_temp(self, value: float, target: float, channel: int) -> float:
        if target > 0 and abs(value - target) < 2.0:
            value += 0.4 * _noise(self.seed, channel, int(self._t // 2))
        if self.spec.full_reports:
            return float(round(value))
        return round(value * 32) / 32

    def _stage_code(self) -> int:
        """Return `stg_cur`: X1-class printers say -1 when idle, P1/A1 0 (fresh) or 255 (done)."""
        job = self._job
        if self._state == PAUSE:
            return STAGE_PAUSED_BY_USER
        if self._state == RUNNING and job is not None:
            if job.stage_index < len(job.stages):
                return job.stages[job.stage_index]
            return STAGE_PRINTING
        if self.spec.full_reports:
            return -1
        return 0 if self._state in (IDLE, PREPARE) else 255

    def _progress(self) -> tuple[int, int, int, int]:
        """Return (percent, remaining minutes, layer, total layers) of the current state."""
        job = self._job
        if job is None:
            return (
                self._last_percent,
                self._last_remaining,
                self._last_layer,
                self._last_total_layers,
            )
        fraction = job.work_done / job.print_seconds
        percent = min(100, int(fraction * 100 + 1e-9))
        remaining_s = (job.print_seconds - job.work_done) / self._speed_factor
        remaining = math.ceil(remaining_s / 60.0 - 1e-9)
        printing = job.stage_index >= len(job.stages) and self._state in (RUNNING, PAUSE)
        layer = max(1, min(job.layers, math.ceil(fraction * job.layers - 1e-9))) if printing else 0
        return percent, remaining, layer, job.layers

    def _fans(self) -> tuple[int, int, int, int]:
        """Return fan gears 0-15: (part cooling, aux, chamber, heatbreak)."""
        job = self._job
        printing = job is not None and self._state == RUNNING and job.stage_index >= len(job.stages)
        part = aux = chamber = 0
        if printing and job is not None:
            if job.work_done * job.layers >= job.print_seconds:  # from the second layer on
                part = job.part_fan_gear
            aux = 10 if self.spec.aux_fan and part else 0
            chamber = 4 if self.spec.chamber_fan else 0
        heatbreak = 15 if max(self._nozzles) > 50.0 else 0
        return (
            self._fan_override.get("part", part),
            self._fan_override.get("aux", aux),
            self._fan_override.get("chamber", chamber),
            heatbreak,
        )

    def _sync(self) -> JsonDict:
        """Write the simulated state into the report object (real field names and types)."""
        pr = self._print
        job = self._job
        active = self._state in _ACTIVE_STATES
        progress = self._progress()
        percent, remaining, layer, total = progress
        pr["gcode_state"] = self._state
        self._sync_temperatures(pr)
        pr["mc_print_stage"] = "2" if active else "1"
        pr["mc_percent"] = percent
        pr["mc_remaining_time"] = remaining
        pr["layer_num"] = layer
        pr["total_layer_num"] = total
        pr["stg_cur"] = self._stage_code()
        if job is not None:
            pr["stg"] = list(job.stages)
        elif self._state == IDLE:
            pr["stg"] = []
        pr["print_type"] = "local" if active else "idle"
        pr["spd_lvl"] = self._speed_level
        pr["spd_mag"] = _SPEED_MAGNITUDE[self._speed_level]
        dbm = self._wifi_base + round(2 * _noise(self.seed, 3, int(self._t // 4)))
        pr["wifi_signal"] = f"{dbm}dBm"
        part, aux, chamber_fan, heatbreak = self._fans()
        pr["cooling_fan_speed"] = str(part)
        pr["big_fan1_speed"] = str(aux)
        pr["big_fan2_speed"] = str(chamber_fan)
        pr["heatbreak_fan_speed"] = str(heatbreak)
        if job is not None:
            pr["subtask_name"] = job.name
            prepared = min(100, int(job.prepare_elapsed / _PREPARE_SECONDS * 100 + 1e-9))
            pr["gcode_file_prepare_percent"] = str(prepared)
            if "prepare_per" in pr:
                pr["prepare_per"] = prepared
            if self.spec.full_reports:
                pr["gcode_file"] = "/data/Metadata/plate_1.gcode"
        pr["gcode_start_time"] = str(self._last_start_epoch)
        self._sync_ams(job)
        if self.spec.full_reports:
            self._sync_full_family(pr, progress, active=active)
        self._sync_identity(pr)
        return pr

    def _sync_temperatures(self, pr: JsonDict) -> None:
        pr["nozzle_temper"] = self._display_temp(self._nozzles[0], self._nozzle_targets[0], 1)
        pr["bed_temper"] = self._display_temp(self._bed, self._bed_target, 2)
        # X1-class printers send targets as floats (220.0), P1/A1 as integers (220).
        kind: type[float] | type[int] = float if self.spec.full_reports else int
        pr["nozzle_target_temper"] = kind(self._nozzle_targets[0])
        pr["bed_target_temper"] = kind(self._bed_target)

    def _sync_identity(self, pr: JsonDict) -> None:
        """Write serial, IP address and camera URL (they can change after construction)."""
        if self.spec.rtsp:
            url = f"rtsps://{self._ip}:322/streaming/live/1"
            if self.spec.family == "h2d" and not self._lan_liveview:
                url = "disable"
            pr["ipcam"]["rtsp_url"] = url
        net = pr.get("net", {}).get("info")
        if net:
            net[0]["ip"] = int.from_bytes(IPv4Address(self._ip).packed, "little")
        upgrade = pr.get("upgrade_state")
        if isinstance(upgrade, dict) and "sn" in upgrade:
            upgrade["sn"] = self.serial

    def _sync_ams(self, job: _Job | None) -> None:
        ams = self._print["ams"]
        if job is not None:
            loaded = self._state != PREPARE and job.stage_index >= 0
            if job.tray == "254" or loaded:
                ams["tray_now"] = ams["tray_tar"] = job.tray
            remain = self._current_remain(job)
            tray = self._tray_obj(job.tray)
            if remain is not None and tray is not None:
                tray["remain"] = remain
        if self.spec.chamber_sensor:
            for unit in ams["ams"]:
                if unit.get("temp") != "0.0":
                    unit["temp"] = f"{(self._chamber + self._ambient) / 2 + 1.0:.1f}"

    def _sync_full_family(
        self, pr: JsonDict, progress: tuple[int, int, int, int], *, active: bool
    ) -> None:
        """Keep the X1/H2/P2S duplicates (percent, remain_time, device.*) consistent."""
        percent, remaining, layer, total = progress
        pr["mc_stage"] = 2 if active else 1
        if "percent" in pr:
            pr["percent"] = percent
            pr["remain_time"] = remaining
        if "t_utc" in pr:
            pr["t_utc"] = int(self.now * 1000)
        if "3D" in pr:
            pr["3D"]["layer_num"] = layer
            pr["3D"]["total_layer_num"] = total
        chamber = round(self._chamber)
        if "chamber_temper" in pr:
            pr["chamber_temper"] = float(chamber)
        if isinstance(pr.get("info"), dict):
            pr["info"]["temp"] = chamber
        device = pr.get("device")
        if not isinstance(device, dict):
            return
        bed_packed = (int(self._bed_target) << 16) | round(self._bed)
        device["bed"]["info"]["temp"] = bed_packed
        device["bed_temp"] = bed_packed
        if "cham_temp" in device:
            device["cham_temp"] = chamber
        device["ctc"]["info"]["temp"] = chamber
        for i, info in enumerate(device["extruder"]["info"][: len(self._nozzles)]):
            info["temp"] = (int(self._nozzle_targets[i]) << 16) | round(self._nozzles[i])

    # --- get_version -------------------------------------------------------------------------
    def _module_sn(self, name: str) -> str:
        return f"{_mix(self.seed, zlib.crc32(name.encode())):016X}"[:15]

    def _version_modules(self) -> list[JsonDict]:
        spec = self.spec
        if spec.family in ("x1", "h2d"):
            return self._x1_modules()
        legacy = self.legacy_firmware
        p1_project = "P1" if spec.family == "p1" else spec.project_name
        modules: list[JsonDict] = []
        ota: JsonDict = {"name": "ota"}
        if legacy:
            ota |= {"project_name": spec.project_name, "sw_ver": spec.ota_version}
            ota |= {"hw_ver": "OTA", "sn": self.serial, "flag": 3}
        else:
            ota |= {"sw_ver": spec.ota_version, "hw_ver": "OTA", "loader_ver": "00.00.00.00"}
            ota |= {"sn": self.serial, "product_name": spec.product_name}
            ota |= {"visible": True, "flag": 3}
        modules.append(ota)
        for name, hw, sw, loader in spec.modules:
            if legacy:
                project = spec.project_name if name == "esp32" else p1_project
                module: JsonDict = {"name": name, "project_name": project, "sw_ver": sw}
                if name != "esp32":
                    module["loader_ver"] = loader
                module |= {"hw_ver": hw, "sn": self._module_sn(name), "flag": 0}
            else:
                module = {"name": name, "sw_ver": sw, "hw_ver": hw, "loader_ver": loader}
                module |= {"sn": self._module_sn(name), "product_name": ""}
                module |= {"visible": False, "flag": 0}
            modules.append(module)
        for index in range(self._ams_units):
            name = f"{spec.ams_module}/{index}"
            sn = f"{self.serial}-AMS{index}"
            if legacy:
                module = {"name": name, "project_name": "", "sw_ver": spec.ams_sw}
                module |= {"loader_ver": "00.00.00.00", "ota_ver": "00.00.00.00"}
                module |= {"hw_ver": spec.ams_hw, "sn": sn, "flag": 0}
            else:
                module = {"name": name, "sw_ver": spec.ams_sw, "hw_ver": spec.ams_hw}
                module |= {"loader_ver": "00.00.00.00", "sn": sn}
                module |= {"product_name": f"{spec.ams_product} ({index + 1})"}
                module |= {"visible": True, "flag": 0}
            modules.append(module)
        return modules

    def _x1_modules(self) -> list[JsonDict]:
        spec = self.spec
        legacy = self.legacy_firmware

        def module(  # noqa: PLR0917  (the module record's own fields)
            name: str, hw: str, sw: str, loader: str, product: str, sn: str, *, visible: bool
        ) -> JsonDict:
            return {
                "flag": 3 if name == "ota" else 0,
                "hw_ver": hw,
                "loader_ver": loader,
                "name": name,
                "product_name": product,
                "sn": sn,
                "sw_ver": sw,
                "visible": visible,
            }

        ota = module(
            "ota",
            "N/A",
            spec.ota_version,
            "00.00.00.00",
            spec.product_name,
            self.serial,
            visible=True,
        )
        if legacy:
            del ota["product_name"]
        modules = [ota]
        modules.extend(
            module(
                f"{spec.ams_module}/{index}",
                spec.ams_hw,
                spec.ams_sw,
                "00.00.00.00",
                f"{spec.ams_product} ({index + 1})",
                f"{self.serial}-AMS{index}",
                visible=True,
            )
            for index in range(self._ams_units)
        )
        for name, hw, sw, loader in spec.modules:
            real_name = "rv1126" if legacy and spec.code == "X1C" and name == "ap" else name
            modules.append(
                module(real_name, hw, sw, loader, "", self._module_sn(name), visible=False)
            )
        return modules

    # --- requests ----------------------------------------------------------------------------
    def handle_request(self, payload: object) -> list[JsonDict]:
        """Answer a request like the printer: replies first, then the report showing the change.

        `pushing.pushall` -> the full report; `info.get_version` -> the module list; control
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

    def _handle_one(self, module: str, body: Mapping[str, Any]) -> list[JsonDict]:
        command = str(body["command"])
        sequence_id = str(body.get("sequence_id", "0"))
        if module == "pushing" and command == "pushall":
            return [self._send_full()]
        if module == "info" and command == "get_version":
            return [self.version_report(sequence_id)]
        handler = _HANDLERS.get((module, command))
        if handler is None:
            return [_failure(module, command, sequence_id, f"unsupported command: {command}")]
        if self.reject_control:
            reply = _failure(module, command, sequence_id, REJECT_REASON)
            reply[module]["err_code"] = REJECT_ERR_CODE
            return [reply]
        error = handler(self, body)
        if error is not None:
            return [_failure(module, command, sequence_id, error)]
        reply_body: JsonDict = {"command": command, "sequence_id": sequence_id}
        for key, value in body.items():
            if key not in reply_body and isinstance(value, str | int | float | bool):
                reply_body[key] = value
        reply_body |= {"reason": "", "result": "success"}
        out = [{module: reply_body}]
        report = self.status_report()
        if report is not None:
            out.append(report)
        return out

    def _cmd_pause(self, body: Mapping[str, Any]) -> str | None:
        if self._state not in (PREPARE, RUNNING):
            return f"cannot pause: gcode_state is {self._state}"
        self._resume_state = self._state
        self._state = PAUSE
        return None

    def _cmd_resume(self, body: Mapping[str, Any]) -> str | None:
        if self._state != PAUSE:
            return f"cannot resume: gcode_state is {self._state}"
        self._state = self._resume_state
        return None

    def _cmd_stop(self, body: Mapping[str, Any]) -> str | None:
        if self._state not in _ACTIVE_STATES:
            return f"cannot stop: gcode_state is {self._state}"
        self._finish(FAILED)
        return None

    def _cmd_print_speed(self, body: Mapping[str, Any]) -> str | None:
        try:
            level = int(str(body.get("param", "")).strip())
        except ValueError:
            level = 0
        if level not in _SPEED_MAGNITUDE:
            return f"invalid speed level: {body.get('param')!r}"
        if self._state not in _ACTIVE_STATES:
            return f"cannot change speed: gcode_state is {self._state}"
        self._speed_level = level
        return None

    def _cmd_gcode_line(self, body: Mapping[str, Any]) -> str | None:
        param = body.get("param")
        if not isinstance(param, str) or not param.strip():
            return "empty gcode"
        for raw in param.replace("\\n", "\n").splitlines():
            self._run_gcode(raw.split(";", 1)[0].split())
        return None

    def _run_gcode(self, words: list[str]) -> None:
        if not words:
            return
        args: dict[str, float] = {}
        for word in words[1:]:
            try:
                args[word[0].upper()] = float(word[1:])
            except (ValueError, IndexError):
                continue
        code = words[0].upper()
        value = args.get("S")
        if code in ("M104", "M109") and value is not None:
            self._nozzle_targets[int(args.get("T", 0)) % len(self._nozzles)] = max(0.0, value)
        elif code in ("M140", "M190") and value is not None:
            self._bed_target = max(0.0, value)
        elif code in ("M106", "M107"):
            fan = {1: "part", 2: "aux", 3: "chamber"}.get(int(args.get("P", 1)))
            gear = 0 if code == "M107" or value is None else round(min(255, value) / 255 * 15)
            if fan is not None:
                self._fan_override[fan] = max(0, gear)

    def _cmd_project_file(self, body: Mapping[str, Any]) -> str | None:
        if self._state in _ACTIVE_STATES:
            return f"cannot start a job: gcode_state is {self._state}"
        name = body.get("subtask_name")
        if not isinstance(name, str) or not name:
            url = str(body.get("url", "") or body.get("param", ""))
            name = url.rsplit("/", 1)[-1].removesuffix(".3mf").removesuffix(".gcode") or "job"
        self.start_job(name)
        return None

    def _cmd_ledctrl(self, body: Mapping[str, Any]) -> str | None:
        node, mode = body.get("led_node"), body.get("led_mode")
        if mode not in ("on", "off", "flashing"):
            return f"invalid led_mode: {mode!r}"
        for light in self._print.get("lights_report", []):
            if light.get("node") == node:
                light["mode"] = mode
                return None
        return f"invalid led_node: {node!r}"


type _Handler = Callable[[VirtualPrinter, Mapping[str, Any]], str | None]


def _failure(module: str, command: str, sequence_id: str, reason: str) -> JsonDict:
    return {
        module: {
            "command": command,
            "sequence_id": sequence_id,
            "reason": reason,
            "result": "failed",
        }
    }


_HANDLERS: Final[Mapping[tuple[str, str], _Handler]] = {
    ("print", "pause"): VirtualPrinter._cmd_pause,
    ("print", "resume"): VirtualPrinter._cmd_resume,
    ("print", "stop"): VirtualPrinter._cmd_stop,
    ("print", "print_speed"): VirtualPrinter._cmd_print_speed,
    ("print", "gcode_line"): VirtualPrinter._cmd_gcode_line,
    ("print", "project_file"): VirtualPrinter._cmd_project_file,
    ("system", "ledctrl"): VirtualPrinter._cmd_ledctrl,
}
