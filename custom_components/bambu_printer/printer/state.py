"""The printer's state, merged from its MQTT reports, with typed read-only views.

X1/H2-class printers send the whole `print` object every time; P1/A1-class printers send only
what changed. `PrinterState.apply()` merges either into one state (nested objects recursively,
`ams.ams[]` and each unit's `tray[]` element-wise by `id`, other lists replaced) and tells the
caller whether anything changed, so Home Assistant writes entity state only when needed. A full
report (a pushall answer, an X1/H2 periodic report) also removes the AMS units, trays and
nested fields it no longer lists; top-level fields are never removed.

Merging is cheap by design: the state below the top level is never modified in place. A change
copies only the objects on its path, unchanged objects keep their identity, and C-level
comparisons skip unchanged subtrees. Views are frozen dataclasses computed on first access and
cached per revision; a view is rebuilt only when one of its inputs changed (AMS units and trays
are cached one by one), so a four-field delta costs a few microseconds.

Reports come from the network: nothing here raises on malformed input. Absent or malformed
fields give None; oversized strings and lists are dropped, never merged.
"""

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from itertools import compress, repeat
from operator import ne
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from .models import AmsKind, PrinterModel, ams_kind_from_module, identify_from_version

_LOGGER = logging.getLogger(__name__)

MAX_STRING: Final = 64 * 1024  # longer strings inside a report are dropped
MAX_LIST: Final = 1000  # longer lists inside a report are dropped
MAX_KEYS: Final = 1000  # objects with more keys are dropped; state objects stop growing there
MAX_DEPTH: Final = 32  # real reports nest about 6 levels
MAX_KEY_LENGTH: Final = 1024  # field names are short; longer keys are dropped

# Bookkeeping fields that change with every report and mean nothing to entities.
_IGNORED_KEYS: Final = frozenset({"command", "sequence_id", "msg", "t_utc"})
# Present together only in full reports (pushall answers, X1/H2 periodic reports).
_FULL_REPORT_KEYS: Final = frozenset(
    {
        "gcode_state",
        "nozzle_temper",
        "bed_temper",
        "wifi_signal",
        "ipcam",
        "lights_report",
        "upgrade_state",
    }
)
# Lists merged element-wise by `id`: `ams.ams[]` and each unit's `tray[]`.
_ID_LISTS: Final = frozenset({"ams", "tray"})

_MISSING: Final[Any] = object()
_DROP: Final[Any] = object()
_SCALARS: Final = frozenset({int, float, bool, type(None)})


class GcodeState(StrEnum):
    """Job state from `gcode_state`, lower-case for Home Assistant enum sensors."""

    IDLE = "idle"
    PREPARE = "prepare"
    RUNNING = "running"
    PAUSE = "pause"
    FINISH = "finish"
    FAILED = "failed"
    SLICING = "slicing"
    INIT = "init"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


_GCODE_STATES: Final = {state.value.upper(): state for state in GcodeState}
_ACTIVE_STATES: Final = frozenset(
    {GcodeState.PREPARE, GcodeState.RUNNING, GcodeState.PAUSE, GcodeState.SLICING}
)
_DONE_STATES: Final = frozenset({GcodeState.IDLE, GcodeState.FINISH, GcodeState.FAILED})

STAGE_IDLE: Final = "idle"
STAGE_UNKNOWN: Final = "unknown"
# `stg_cur` codes. Slugs follow the names the widely used integration established, so users'
# automations keep working; -1 (X1) and 255 (P1) mean no stage.
STAGES: Final[Mapping[int, str]] = MappingProxyType(
    {
        -1: STAGE_IDLE,
        255: STAGE_IDLE,
        0: "printing",
        1: "auto_bed_leveling",
        2: "heatbed_preheating",
        3: "vibration_compensation",
        4: "changing_filament",
        5: "m400_pause",
        6: "paused_filament_runout",
        7: "heating_hotend",
        8: "calibrating_extrusion",
        9: "scanning_bed_surface",
        10: "inspecting_first_layer",
        11: "identifying_build_plate_type",
        12: "calibrating_micro_lidar",
        13: "homing_toolhead",
        14: "cleaning_nozzle_tip",
        15: "checking_extruder_temperature",
        16: "paused_user",
        17: "paused_front_cover_falling",
        18: "calibrating_micro_lidar",
        19: "calibrating_extrusion_flow",
        20: "paused_nozzle_temperature_malfunction",
        21: "paused_heat_bed_temperature_malfunction",
        22: "filament_unloading",
        23: "paused_skipped_step",
        24: "filament_loading",
        25: "calibrating_motor_noise",
        26: "paused_ams_lost",
        27: "paused_low_fan_speed_heat_break",
        28: "paused_chamber_temperature_control_error",
        29: "cooling_chamber",
        30: "paused_user_gcode",
        31: "motor_noise_showoff",
        32: "paused_nozzle_filament_covered_detected",
        33: "paused_cutter_error",
        34: "paused_first_layer_error",
        35: "paused_nozzle_clog",
        36: "check_absolute_accuracy_before_calibration",
        37: "absolute_accuracy_calibration",
        38: "check_absolute_accuracy_after_calibration",
        39: "calibrate_nozzle_offset",
        40: "bed_level_high_temperature",
        41: "check_quick_release",
        42: "check_door_and_cover",
        43: "laser_calibration",
        44: "check_platform",
        45: "check_birdeye_camera_position",
        46: "calibrate_birdeye_camera",
        47: "bed_level_phase_1",
        48: "bed_level_phase_2",
        49: "heating_chamber",
        50: "heatbed_cooling",
        51: "print_calibration_lines",
        52: "check_material",
        53: "calibrating_live_view_camera",
        54: "waiting_for_heatbed_temperature",
        55: "check_material_position",
        56: "calibrating_cutter_model_offset",
        57: "measuring_surface",
        58: "thermal_preconditioning",
    }
)
# Every value `Job.stage` can take, for an enum sensor's options.
STAGE_OPTIONS: Final = tuple(sorted({*STAGES.values(), STAGE_UNKNOWN}))
# The typed views of PrinterState, for callers that read (or compare) all of them.
VIEW_NAMES: Final = (
    "temperatures",
    "job",
    "speed",
    "fans",
    "wifi_dbm",
    "lights",
    "hms",
    "print_error",
    "ams",
    "external_spools",
    "active_tray",
    "sdcard",
    "firmware",
    "camera",
    "nozzle",
)

SPEED_PROFILES: Final[Mapping[int, str]] = MappingProxyType(
    {1: "silent", 2: "standard", 3: "sport", 4: "ludicrous"}
)

# HMS severity is the high 16 bits of `code`; the module is the high byte of `attr`.
HMS_SEVERITIES: Final[Mapping[int, str]] = MappingProxyType(
    {1: "fatal", 2: "serious", 3: "common", 4: "info"}
)
HMS_MODULES: Final[Mapping[int, str]] = MappingProxyType(
    {0x03: "mc", 0x05: "mainboard", 0x07: "ams", 0x08: "toolhead", 0x0C: "xcam", 0x12: "ams"}
)

EXTERNAL_TRAY_IDS: Final = (254, 255)  # vt_tray / vir_slot ids
_TRAY_NONE: Final = 255
_TRAY_EXTERNAL: Final = 254
_AMS_HT_FIRST_ID: Final = 128
_SNOW_NONE: Final = 0xFFFF


# --------------------------------------------------------------------------- views


@dataclass(frozen=True, slots=True)
class NozzleTemperature:
    """One extruder's temperature (H2D reports two; index 0 is the right nozzle)."""

    index: int
    current: float | None
    target: float | None


@dataclass(frozen=True, slots=True)
class Temperatures:
    """Temperatures in °C. `chamber` is None on models without a chamber sensor."""

    nozzle: float | None
    nozzle_target: float | None
    bed: float | None
    bed_target: float | None
    chamber: float | None
    nozzles: tuple[NozzleTemperature, ...]  # from device.extruder.info[]; empty on P1/A1
    active_nozzle: int | None  # index into `nozzles` of the extruder in use


@dataclass(frozen=True, slots=True)
class Job:
    """The current (or last) print job."""

    state: GcodeState | None
    stage_code: int | None  # raw `stg_cur`
    stage: str | None  # slug from STAGES, "idle", or "unknown"
    percent: int | None
    remaining_minutes: int | None
    end_time: datetime | None  # UTC; only while a job is active
    start_time: datetime | None  # UTC, from `gcode_start_time` when the firmware sends it
    layer: int | None
    total_layers: int | None
    file: str | None
    name: str | None  # subtask_name
    print_type: str | None  # "local", "cloud", "idle", ...


@dataclass(frozen=True, slots=True)
class Speed:
    """Speed profile: level 1-4, its slug, and the speed percentage."""

    level: int | None
    profile: str | None  # silent / standard / sport / ludicrous
    percent: int | None


@dataclass(frozen=True, slots=True)
class Fans:
    """Fan speeds in percent (steps of 10, rounded up from the 0-15 gear)."""

    part_cooling: int | None  # cooling_fan_speed
    aux: int | None  # big_fan1_speed
    chamber: int | None  # big_fan2_speed
    heatbreak: int | None  # heatbreak_fan_speed


@dataclass(frozen=True, slots=True)
class HmsMessage:
    """One health-management message."""

    attr: int
    code: int
    full_code: str  # "XXXX_XXXX_XXXX_XXXX", as the Bambu wiki names it
    severity: str  # fatal / serious / common / info / unknown
    module: str  # mc / mainboard / ams / toolhead / xcam / unknown


@dataclass(frozen=True, slots=True)
class PrintError:
    """The current print error; code 0 means none."""

    code: int
    formatted: str  # "XXXX_XXXX"

    @property
    def active(self) -> bool:
        """Whether a print error is currently raised."""
        return self.code != 0


@dataclass(frozen=True, slots=True)
class Tray:
    """One filament slot: an AMS tray, or an external spool holder (ams_id None)."""

    ams_id: int | None
    tray_id: int  # slot in its unit; the spool id (254/255) for external spools
    type: str | None  # PLA, PETG, ...; None when the slot is empty
    sub_brand: str | None
    filament_id: str | None  # tray_info_idx, e.g. "GFA00"
    color: str | None  # "#RRGGBB"
    alpha: int | None  # 0-255
    colors: tuple[str, ...]  # multi-colour filament, "#RRGGBB" each
    remain: int | None  # percent, None when unknown
    nozzle_temp_min: int | None
    nozzle_temp_max: int | None
    k: float | None
    active: bool
    empty: bool


@dataclass(frozen=True, slots=True)
class AmsUnit:
    """One AMS unit and its trays."""

    id: int
    kind: AmsKind | None  # from get_version module names; AMS HT also from id >= 128
    humidity_level: int | None  # 1-5
    humidity_percent: int | None  # humidity_raw, newer AMS only
    temperature: float | None
    dry_time_minutes: int | None  # remaining drying time (AMS 2 Pro / HT)
    firmware: str | None
    trays: tuple[Tray, ...]


@dataclass(frozen=True, slots=True)
class Firmware:
    """Main firmware version (the `ota` module) and whether an update is offered."""

    version: str | None
    update_available: bool | None
    new_version: str | None


@dataclass(frozen=True, slots=True)
class Camera:
    """Camera settings from `ipcam`; RTSPS is on unless `rtsp_url` is missing or "disable"."""

    rtsp_enabled: bool
    rtsp_url: str | None
    recording: bool | None
    timelapse: bool | None
    resolution: str | None


@dataclass(frozen=True, slots=True)
class NozzleSpec:
    """One installed nozzle (device.nozzle.info[] on H2/X1 firmware)."""

    index: int
    diameter: float | None
    type: str | None


@dataclass(frozen=True, slots=True)
class Nozzle:
    """Installed nozzle: diameter in mm and material type."""

    diameter: float | None
    type: str | None  # "hardened_steel", "stainless_steel", ...
    nozzles: tuple[NozzleSpec, ...]


# --------------------------------------------------------------------------- parsing


def _int(value: Any) -> int | None:
    kind = type(value)
    if kind is int:
        return value  # type: ignore[no-any-return]
    if kind is float:
        return int(value) if math.isfinite(value) else None
    if kind is str and len(value) <= 32:
        try:
            return int(value)
        except ValueError:
            number = _float(value)
            return None if number is None else int(number)
    return None


def _float(value: Any) -> float | None:
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            return None
    if kind is str and len(value) <= 32:
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _ranged(value: Any, low: int, high: int) -> int | None:
    number = value if type(value) is int else _int(value)
    return number if number is not None and low <= number <= high else None


def _text(value: Any) -> str | None:
    return value if type(value) is str and value else None


def _dict(value: Any) -> dict[str, Any] | None:
    return value if type(value) is dict else None


def _nested(value: Any, *keys: str) -> Any:
    for key in keys:
        if type(value) is not dict:
            return None
        value = value.get(key)
    return value


def _list(value: Any) -> list[Any]:
    return value if type(value) is list else []


def _flag(value: Any) -> bool | None:
    """Read "enable"/"disable", "on"/"off", true/false."""
    if type(value) is bool:
        return value
    if type(value) is str:
        return _FLAGS.get(value.strip().lower())
    if type(value) is int:
        return value != 0
    return None


_FLAGS: Final = {
    "enable": True,
    "enabled": True,
    "on": True,
    "true": True,
    "1": True,
    "disable": False,
    "disabled": False,
    "off": False,
    "false": False,
    "0": False,
}


def _utc(seconds: float | int) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _unpack_temp(value: Any) -> tuple[float | None, float | None]:
    """Split a packed `(target << 16) | current` temperature (H2D device.* fields)."""
    packed = _int(value)
    if packed is None or packed < 0:
        return None, None
    return float(packed & 0xFFFF), float((packed >> 16) & 0xFFFF)


def _fan_percent(value: Any) -> int | None:
    percent = _FAN_PERCENT.get(value) if type(value) is str or type(value) is int else None
    if percent is not None:
        return percent
    gear = _int(value)
    if gear is None or not 0 <= gear <= 15:
        return None
    return -(-gear * 2 // 3) * 10  # ceil(gear / 15 * 100 / 10) * 10, in integers


# The usual gears "0".."15" / 0..15, looked up rather than parsed.
_FAN_PERCENT: Final[dict[Any, int]] = {
    **{gear: -(-gear * 2 // 3) * 10 for gear in range(16)},
    **{str(gear): -(-gear * 2 // 3) * 10 for gear in range(16)},
}


def _color(value: Any) -> tuple[str | None, int | None]:
    """Split "RRGGBBAA" into ("#RRGGBB", alpha)."""
    if type(value) is not str:
        return None, None
    cached = _COLORS.get(value)
    if cached is not None:
        return cached
    parsed: tuple[str | None, int | None] = (None, None)
    if len(value) in (6, 8) and value.isascii() and value.isalnum():
        try:
            int(value, 16)
        except ValueError:
            pass
        else:
            parsed = "#" + value[:6].upper(), int(value[6:], 16) if len(value) == 8 else 255
    if len(_COLORS) >= _MAX_COLORS:
        _COLORS.clear()  # a bounded cache: filament colours repeat, junk must not pile up
    _COLORS[value] = parsed
    return parsed


_COLORS: dict[str, tuple[str | None, int | None]] = {}
_MAX_COLORS: Final = 512


def _wifi_dbm(value: Any) -> int | None:
    if type(value) is str:
        text = value.strip()
        if text[-3:].lower() == "dbm":
            text = text[:-3]
        value = text
    return _ranged(value, -200, 50)


# --------------------------------------------------------------------------- merging


def _changed_keys(old: dict[str, Any], new: dict[Any, Any]) -> list[Any]:
    """Keys of `new` whose value differs from `old` (deep comparison, done in C)."""
    return list(compress(new, map(ne, map(old.get, new, repeat(_MISSING)), new.values())))


def _clean(value: Any, depth: int) -> bool:
    """Whether `value` is JSON-like and within the size limits all the way down."""
    kind = type(value)
    if kind is str:
        return len(value) <= MAX_STRING
    if kind is dict:
        return (
            depth <= MAX_DEPTH
            and len(value) <= MAX_KEYS
            and all(type(key) is str and len(key) <= MAX_KEY_LENGTH for key in value)
            and _clean_items(value.values(), depth)
        )
    if kind is list:
        return depth <= MAX_DEPTH and len(value) <= MAX_LIST and _clean_items(value, depth)
    return kind in _SCALARS


def _clean_items(items: Iterable[Any], depth: int) -> bool:
    for item in items:
        kind = type(item)
        if kind is str:
            if len(item) > MAX_STRING:
                return False
        elif kind is dict or kind is list:
            if not _clean(item, depth + 1):
                return False
        elif kind not in _SCALARS:
            return False
    return True


def _prune(value: Any, depth: int, key: object) -> Any:
    """Copy `value` without the parts that break the limits; _DROP when it breaks them itself."""
    kind = type(value)
    problem = None
    if kind is str:
        problem = f"string of {len(value)} characters" if len(value) > MAX_STRING else None
    elif kind is dict or kind is list:
        if depth > MAX_DEPTH:
            problem = f"nested deeper than {MAX_DEPTH}"
        elif len(value) > (MAX_KEYS if kind is dict else MAX_LIST):
            problem = f"{kind.__name__} of {len(value)} items"
    elif kind not in _SCALARS:
        problem = f"not JSON ({kind.__name__})"
    if problem is not None:
        _LOGGER.debug("Dropped %r from a report: %s", _short(key), problem)
        return _DROP
    if kind is dict:
        pruned = {}
        for item_key, item in value.items():
            if type(item_key) is str and len(item_key) <= MAX_KEY_LENGTH:
                kept = _prune(item, depth + 1, item_key)
                if kept is not _DROP:
                    pruned[item_key] = kept
        return pruned
    if kind is list:
        return [kept for item in value if (kept := _prune(item, depth + 1, key)) is not _DROP]
    return value


def _short(key: object) -> object:
    """Shorten a key for a log line: reports may carry huge junk keys."""
    return key[:64] + "..." if type(key) is str and len(key) > 64 else key


def _adopt(value: Any, depth: int, key: object) -> Any:
    """Take a new value into the state: by reference when clean, else a pruned copy."""
    return value if _clean(value, depth) else _prune(value, depth, key)


def _merge_value(old: Any, new: Any, key: object, depth: int, full: bool) -> Any:
    """Merge `new` over `old`; returns `old` itself when nothing changed, _DROP when invalid."""
    kind = type(new)
    if kind in _SCALARS:
        return new
    if kind is dict and type(old) is dict:
        return _merge_dict(old, new, depth, full)
    if kind is list and key in _ID_LISTS and type(old) is list and len(new) <= MAX_LIST:
        return _merge_by_id(old, new, depth, full, key)
    return _adopt(new, depth, key)


def _merge_dict(old: dict[str, Any], new: dict[Any, Any], depth: int, full: bool) -> Any:
    if depth > MAX_DEPTH or len(new) > MAX_KEYS:
        _LOGGER.debug("Dropped an object from a report: too deep or too many keys")
        return old
    out: dict[str, Any] | None = None
    for key in _changed_keys(old, new):
        if type(key) is not str or len(key) > MAX_KEY_LENGTH:
            continue
        before = old.get(key, _MISSING)
        after = new[key]
        if type(after) not in _SCALARS:  # scalars need no merging
            after = _merge_value(before, after, key, depth + 1, full)
            if after is _DROP or after is before:
                continue
        if out is None:
            out = dict(old)
        if before is _MISSING and len(out) >= MAX_KEYS:
            _LOGGER.debug("Dropped %r from a report: object is full", _short(key))
            continue
        out[key] = after
    if full:
        # A full report carries whole objects: fields it no longer lists are gone (a tray
        # that became empty is reported as just {"id": ..., "state": 0}).
        gone = old.keys() - new.keys()
        if gone:
            if out is None:
                out = dict(old)
            for key in gone:
                del out[key]
    return old if out is None else out


def _element_id(item: Any) -> str | None:
    if type(item) is not dict:
        return None
    value = item.get("id")
    if type(value) is str:
        return value if len(value) <= 64 else None
    if type(value) is int:
        return str(value) if -(10**9) < value < 10**9 else None
    return None


def _merge_same_ids(old: list[Any], new: list[Any], depth: int, full: bool) -> Any:
    """Fast path of `_merge_by_id` when both lists hold the same ids in the same order.

    Returns _MISSING when they do not. Equal elements have equal ids, so only the elements
    that differ (found by one C-level pass) need checking and merging.
    """
    differing = list(compress(range(len(new)), map(ne, old, new)))
    out = None
    for position in differing:
        current = old[position]
        item = new[position]
        element_id = _element_id(item)
        if element_id is None or _element_id(current) != element_id:
            return _MISSING
        merged = _merge_dict(current, item, depth + 1, full)
        if merged is not current:
            if out is None:
                out = list(old)
            out[position] = merged
    return old if out is None else out


def _merge_by_id(old: list[Any], new: list[Any], depth: int, full: bool, key: object) -> Any:
    """Merge list elements by their `id`; ids missing from a full report are removed."""
    if depth > MAX_DEPTH:
        return _adopt(new, depth, key)
    if len(old) == len(new):
        merged = _merge_same_ids(old, new, depth, full)
        if merged is not _MISSING:
            return merged
    ids = [_element_id(item) for item in new]
    if None in ids:
        return _adopt(new, depth, key)  # not an id list after all: replace it
    return _merge_listed_ids(old, new, ids, depth, full, key)


def _merge_listed_ids(  # noqa: PLR0917
    old: list[Any], new: list[Any], ids: list[str | None], depth: int, full: bool, key: object
) -> Any:
    index: dict[str | None, int] = {}
    for place, item in enumerate(old):
        index.setdefault(_element_id(item), place)
    out: list[Any] | None = None
    for element_id, item in zip(ids, new, strict=True):
        position = index.get(element_id)
        if position is None:
            added = _adopt(item, depth + 1, key)
            if added is _DROP:
                continue
            if out is None:
                out = list(old)
            if len(out) >= MAX_LIST:
                continue
            index[element_id] = len(out)
            out.append(added)
            continue
        current = old[position] if out is None else out[position]
        merged = (
            _merge_dict(current, item, depth + 1, full)
            if type(current) is dict
            else _adopt(item, depth + 1, key)
        )
        if merged is _DROP or merged is current:
            continue
        if out is None:
            out = list(old)
        out[position] = merged
    if full:
        wanted = set(ids)
        result = old if out is None else out
        kept = [item for item in result if _element_id(item) in wanted]
        if len(kept) != len(result):
            out = kept
    return old if out is None else out


# --------------------------------------------------------------------------- view builders


class _DeviceTemps(NamedTuple):
    """Temperatures found in the `device` object (X1/H2 firmware)."""

    nozzles: tuple[NozzleTemperature, ...]
    active: int | None
    bed: float | None
    bed_target: float | None
    chamber: float | None


# View builders take one parameter per input, so a memo's inputs are exactly what its builder
# reads and a cached view cannot miss a change.
def _build_device_temps(
    extruder: Any, bed: Any, bed_temp: Any, ctc: Any, cham_temp: Any
) -> _DeviceTemps:
    nozzles = []
    active = None
    if type(extruder) is dict:
        for position, item in enumerate(_list(extruder.get("info"))):
            if type(item) is not dict:
                continue
            index = _ranged(item.get("id"), 0, 255)
            current, target = _unpack_temp(item.get("temp"))
            nozzles.append(NozzleTemperature(position if index is None else index, current, target))
        state = _int(extruder.get("state"))
        if state is not None and state >= 0 and nozzles:
            wanted = (state >> 4) & 0xF
            if any(nozzle.index == wanted for nozzle in nozzles):
                active = wanted
    packed = _nested(bed, "info", "temp")
    bed_current, bed_goal = _unpack_temp(bed_temp if packed is None else packed)
    packed = _nested(ctc, "info", "temp")
    chamber = _unpack_temp(cham_temp if packed is None else packed)[0]
    return _DeviceTemps(tuple(nozzles), active, bed_current, bed_goal, chamber)


def _build_temperatures(  # noqa: PLR0917
    nozzle_temper: Any,
    nozzle_target: Any,
    bed_temper: Any,
    bed_target: Any,
    chamber_temper: Any,
    device: _DeviceTemps,
    model: PrinterModel | None,
) -> Temperatures:
    nozzle = _float(nozzle_temper)
    target = _float(nozzle_target)
    active = device.active
    if active is not None and (nozzle is None or target is None):
        for item in device.nozzles:
            if item.index == active:
                nozzle = item.current if nozzle is None else nozzle
                target = item.target if target is None else target
                break
    bed = _float(bed_temper)
    bed_goal = _float(bed_target)
    chamber = _float(chamber_temper)
    if chamber is None:
        chamber = device.chamber
    if model is not None and model is not PrinterModel.UNKNOWN and not model.chamber_sensor:
        chamber = None  # P1/A1 report a meaningless chamber value
    return Temperatures(  # positional: keyword calls cost more here
        nozzle,  # nozzle
        target,  # nozzle_target
        device.bed if bed is None else bed,  # bed
        device.bed_target if bed_goal is None else bed_goal,  # bed_target
        chamber,  # chamber
        device.nozzles,  # nozzles
        active,  # active_nozzle
    )


def _build_job(  # noqa: PLR0917
    gcode_state: Any,
    stg_cur: Any,
    mc_percent: Any,
    mc_remaining_time: Any,
    layer_num: Any,
    total_layer_num: Any,
    layers_3d: Any,
    gcode_file: Any,
    subtask_name: Any,
    gcode_start_time: Any,
    print_type: Any,
    remaining_at: float | None,
) -> Job:
    state = None
    if type(gcode_state) is str:
        state = _GCODE_STATES.get(gcode_state)
        if state is None:
            state = _GCODE_STATES.get(gcode_state.strip().upper(), GcodeState.UNKNOWN)
    code = _int(stg_cur)
    stage: str | None = None
    if code is not None:
        if code == 0 and state in _DONE_STATES:
            stage = STAGE_IDLE  # an idle printer reports stage 0 ("printing") too
        else:
            stage = STAGES.get(code, STAGE_UNKNOWN)
    remaining = _ranged(mc_remaining_time, 0, 10**7)
    end_time = None
    if remaining is not None and remaining_at is not None and state in _ACTIVE_STATES:
        end_time = _utc(remaining_at + remaining * 60)
    start = _int(gcode_start_time)
    layers = _dict(layers_3d)
    if layers is not None:
        layer = _ranged(layers.get("layer_num", layer_num), 0, 10**6)
        total = _ranged(layers.get("total_layer_num", total_layer_num), 0, 10**6)
    else:
        layer = _ranged(layer_num, 0, 10**6)
        total = _ranged(total_layer_num, 0, 10**6)
    return Job(  # positional: keyword calls cost more here
        state,  # state
        code,  # stage_code
        stage,  # stage
        _ranged(mc_percent, 0, 100),  # percent
        remaining,  # remaining_minutes
        end_time,  # end_time
        _utc(start) if start is not None and start > 0 else None,  # start_time
        layer,  # layer
        total,  # total_layers
        _text(gcode_file),  # file
        _text(subtask_name),  # name
        _text(print_type),  # print_type
    )


def _build_speed(spd_lvl: Any, spd_mag: Any) -> Speed:
    level = _int(spd_lvl)
    profile = SPEED_PROFILES.get(level) if level is not None else None
    return Speed(
        level=level if profile is not None else None,
        profile=profile,
        percent=_ranged(spd_mag, 0, 1000),
    )


def _build_fans(cooling: Any, aux: Any, chamber: Any, heatbreak: Any) -> Fans:
    return Fans(
        _fan_percent(cooling), _fan_percent(aux), _fan_percent(chamber), _fan_percent(heatbreak)
    )


def _build_lights(report: Any) -> Mapping[str, str]:
    lights: dict[str, str] = {}
    for item in _list(report):
        if type(item) is dict:
            node = _text(item.get("node"))
            mode = _text(item.get("mode"))
            if node is not None and mode is not None:
                lights[node] = mode
    return MappingProxyType(lights)


def _build_hms(report: Any) -> tuple[HmsMessage, ...]:
    messages = []
    for item in _list(report):
        if type(item) is not dict:
            continue
        attr = _int(item.get("attr"))
        code = _int(item.get("code"))
        if attr is None or code is None:
            continue
        attr &= 0xFFFFFFFF
        code &= 0xFFFFFFFF
        full = f"{attr >> 16:04X}_{attr & 0xFFFF:04X}_{code >> 16:04X}_{code & 0xFFFF:04X}"
        messages.append(
            HmsMessage(
                attr=attr,
                code=code,
                full_code=full,
                severity=HMS_SEVERITIES.get(code >> 16, STAGE_UNKNOWN),
                module=HMS_MODULES.get(attr >> 24, STAGE_UNKNOWN),
            )
        )
    return tuple(messages)


def _build_print_error(value: Any) -> PrintError | None:
    code = _int(value)
    if code is None:
        return None
    code &= 0xFFFFFFFF
    return PrintError(code, f"{code >> 16:04X}_{code & 0xFFFF:04X}")


def _build_tray(item: dict[str, Any], ams_id: int | None, position: int, active: bool) -> Tray:
    tray_id = _ranged(item.get("id"), 0, 255)
    if tray_id is None:
        tray_id = position
    tray_type = _text(item.get("tray_type"))
    if tray_type is None:
        # An empty slot reports placeholders (colour 00000000, temperatures 0): show nothing.
        return Tray(ams_id, tray_id, *_EMPTY_TRAY, active, True)
    raw_color = item.get("tray_color")
    color, alpha = _color(raw_color)
    cols = _list(item.get("cols"))
    if len(cols) == 1 and cols[0] == raw_color:
        colors: tuple[str, ...] = () if color is None else (color,)
    else:
        parsed = (_color(value)[0] for value in cols[:16])
        colors = tuple(value for value in parsed if value is not None)
    return Tray(  # positional: keyword calls cost more here
        ams_id,  # ams_id
        tray_id,  # tray_id
        tray_type,  # type
        _text(item.get("tray_sub_brands")),  # sub_brand
        _text(item.get("tray_info_idx")),  # filament_id
        color,  # color
        alpha,  # alpha
        colors,  # colors
        _ranged(item.get("remain"), 0, 100),  # remain
        _ranged(item.get("nozzle_temp_min"), 0, 1000),  # nozzle_temp_min
        _ranged(item.get("nozzle_temp_max"), 0, 1000),  # nozzle_temp_max
        _float(item.get("k")),  # k
        active,  # active
        False,  # empty
    )


# Tray fields from `type` to `k` for an empty slot.
_EMPTY_TRAY: Final = (None, None, None, None, None, (), None, None, None, None)


def _build_camera(ipcam: Any) -> Camera:
    cam = _dict(ipcam) or {}
    url = cam.get("rtsp_url")
    enabled = type(url) is str and url.strip().lower() not in ("", "disable", "disabled")
    return Camera(
        rtsp_enabled=enabled,
        rtsp_url=url if enabled else None,
        recording=_flag(cam.get("ipcam_record")),
        timelapse=_flag(cam.get("timelapse")),
        resolution=_text(cam.get("resolution")),
    )


def _build_nozzle(diameter: Any, nozzle_type: Any, nozzle: Any) -> Nozzle:
    specs = []
    if type(nozzle) is dict:
        for position, item in enumerate(_list(nozzle.get("info"))):
            if type(item) is dict:
                index = _ranged(item.get("id"), 0, 255)
                specs.append(
                    NozzleSpec(
                        index=position if index is None else index,
                        diameter=_float(item.get("diameter")),
                        type=_text(item.get("type")),
                    )
                )
    return Nozzle(_float(diameter), _text(nozzle_type), tuple(specs))


def _build_firmware(upgrade_state: Any, versions: Mapping[str, Mapping[str, Any]]) -> Firmware:
    ota = versions.get("ota")
    version = _text(ota.get("sw_ver")) if ota is not None else None
    upgrade = _dict(upgrade_state) or {}
    new_version = None
    for item in _list(upgrade.get("new_ver_list")):
        if type(item) is dict and item.get("name") == "ota":
            new_version = _text(item.get("new_ver"))
            break
    if new_version is None:
        new_version = _text(upgrade.get("ota_new_version_number"))
    state = _int(upgrade.get("new_version_state"))
    available: bool | None
    if state == 1 or (new_version is not None and version is not None and new_version != version):
        available = True
    elif state is None and new_version is None:
        available = None
    else:
        available = False
    return Firmware(version, available, new_version if available else None)


# An active slot: (ams_id, tray_id), or (None, spool id) for an external spool.
type _Slot = tuple[int | None, int]


def _external_items(vt_tray: Any, vir_slot: Any) -> list[tuple[int, dict[str, Any]]]:
    slots = [item for item in _list(vir_slot) if type(item) is dict]
    if not slots and type(vt_tray) is dict:
        slots = [vt_tray]
    items = []
    for item in slots[:8]:
        spool_id = _ranged(item.get("id"), 0, 255)
        items.append((_TRAY_EXTERNAL if spool_id is None else spool_id, item))
    return items


def _external_slot(spool_id: int, spool_ids: tuple[int, ...]) -> _Slot:
    if len(spool_ids) == 1:
        return None, spool_ids[0]  # the only holder (X1 firmware numbers it 255)
    return None, spool_id


def _snow_slot(
    extruder: dict[str, Any], info: list[Any], spool_ids: tuple[int, ...]
) -> _Slot | None:
    """Multi-extruder printers: the active extruder's `snow` is (ams id << 8) | slot."""
    state = _int(extruder.get("state"))
    wanted = (state >> 4) & 0xF if state is not None and state >= 0 else 0
    for position, item in enumerate(info):
        if type(item) is not dict:
            continue
        index = _ranged(item.get("id"), 0, 255)
        if (position if index is None else index) != wanted:
            continue
        snow = _ranged(item.get("snow"), 0, _SNOW_NONE - 1)
        if snow is None:
            return None  # 0xFFFF: nothing loaded
        unit, slot = snow >> 8, snow & 0xFF
        return _external_slot(unit, spool_ids) if unit in EXTERNAL_TRAY_IDS else (unit, slot)
    return None


def _build_active(tray_now: Any, extruder: Any, vt_tray: Any, vir_slot: Any) -> _Slot | None:
    """Which slot feeds the extruder in use."""
    spool_ids = tuple(spool_id for spool_id, _ in _external_items(vt_tray, vir_slot))
    info = _list(extruder.get("info")) if type(extruder) is dict else []
    if len(info) > 1:
        return _snow_slot(extruder, info, spool_ids)
    slot = _ranged(tray_now, 0, _TRAY_NONE - 1)
    if slot is None:
        return None  # 255: nothing loaded
    if slot == _TRAY_EXTERNAL:
        return _external_slot(_TRAY_EXTERNAL, spool_ids)
    if slot >= _AMS_HT_FIRST_ID:
        return slot, 0  # AMS HT units have one slot and ids from 128
    return slot >> 2, slot & 3


def _build_external(vt_tray: Any, vir_slot: Any, active: _Slot | None) -> tuple[Tray, ...]:
    items = _external_items(vt_tray, vir_slot)
    spool_ids = tuple(spool_id for spool_id, _ in items)
    return tuple(
        _build_tray(
            item,
            None,
            spool_id,
            active is not None and active == _external_slot(spool_id, spool_ids),
        )
        for spool_id, item in items
    )


def _find_active_tray(units: tuple[AmsUnit, ...], spools: tuple[Tray, ...]) -> Tray | None:
    for unit in units:
        for tray in unit.trays:
            if tray.active:
                return tray
    for tray in spools:
        if tray.active:
            return tray
    return None


# A cached AMS unit: (source, active tray, module, view, source tray list, tray entries)
# where each tray entry is (source, active, view).
type _UnitEntry = tuple[
    dict[str, Any],
    int | None,
    tuple[AmsKind | None, str | None] | None,
    AmsUnit,
    Any,
    tuple[tuple[dict[str, Any], bool, Tray], ...],
]


def _build_unit(
    item: dict[str, Any],
    unit_id: int,
    active_tray: int | None,
    module: tuple[AmsKind | None, str | None] | None,
    previous: _UnitEntry | None,
) -> _UnitEntry:
    """Build one AMS unit, reusing tray views whose source objects did not change."""
    tray_list = item.get("tray")
    if previous is not None and previous[4] is tray_list and previous[1] == active_tray:
        trays = previous[3].trays
        entries = previous[5]
    else:
        old_entries = previous[5] if previous is not None else ()
        built: list[tuple[dict[str, Any], bool, Tray]] = []
        for position, source in enumerate(_list(tray_list)):
            if type(source) is not dict:
                continue
            tray_id = _ranged(source.get("id"), 0, 255)
            is_active = active_tray is not None and active_tray == (
                position if tray_id is None else tray_id
            )
            slot = len(built)
            if (
                slot < len(old_entries)
                and old_entries[slot][0] is source
                and old_entries[slot][1] == is_active
            ):
                built.append(old_entries[slot])
            else:
                built.append((source, is_active, _build_tray(source, unit_id, position, is_active)))
        entries = tuple(built)
        trays = tuple(entry[2] for entry in entries)
    kind = module[0] if module is not None else None
    if kind is None and unit_id >= _AMS_HT_FIRST_ID:
        kind = AmsKind.AMS_HT
    unit = AmsUnit(  # positional: keyword calls cost more here
        unit_id,  # id
        kind,  # kind
        _ranged(item.get("humidity"), 0, 5),  # humidity_level
        _ranged(item.get("humidity_raw"), 0, 100),  # humidity_percent
        _float(item.get("temp")),  # temperature
        _ranged(item.get("dry_time"), 0, 10**6),  # dry_time_minutes
        module[1] if module is not None else None,  # firmware
        trays,  # trays
    )
    return item, active_tray, module, unit, tray_list, entries


# --------------------------------------------------------------------------- the state


# Top-level `print` keys each cached view reads. A report changing one of them marks the view
# stale; a stale view is rebuilt on its next read only if its inputs really differ.
_VIEW_KEYS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "_m_device": ("device",),
        "_m_temperatures": (
            "nozzle_temper",
            "nozzle_target_temper",
            "bed_temper",
            "bed_target_temper",
            "chamber_temper",
            "device",
        ),
        "_m_job": (
            "gcode_state",
            "stg_cur",
            "mc_percent",
            "mc_remaining_time",
            "layer_num",
            "total_layer_num",
            "3D",
            "gcode_file",
            "subtask_name",
            "gcode_start_time",
            "print_type",
        ),
        "_m_speed": ("spd_lvl", "spd_mag"),
        "_m_fans": ("cooling_fan_speed", "big_fan1_speed", "big_fan2_speed", "heatbreak_fan_speed"),
        "_m_wifi": ("wifi_signal",),
        "_m_lights": ("lights_report",),
        "_m_hms": ("hms",),
        "_m_print_error": ("print_error",),
        "_m_sdcard": ("sdcard",),
        "_m_camera": ("ipcam",),
        "_m_nozzle": ("nozzle_diameter", "nozzle_type", "device"),
        "_m_firmware": ("upgrade_state",),
        "_m_active": ("ams", "device", "vt_tray", "vir_slot"),
        "_m_ams": ("ams", "device", "vt_tray", "vir_slot"),
        "_m_external": ("ams", "device", "vt_tray", "vir_slot"),
        "_m_active_tray": ("ams", "device", "vt_tray", "vir_slot"),
    }
)
# Views that also depend on the get_version reply (model, firmware, AMS modules).
_VERSION_VIEWS: Final = ("_m_temperatures", "_m_firmware", "_m_ams")


class _Memo[T]:
    """A cached view.

    Valid until a report changes one of its keys; then rebuilt on the next read, but only if
    its inputs differ from the ones it was built from.
    """

    __slots__ = ("build", "inputs", "valid", "value")

    value: T

    def __init__(self, build: Callable[..., T]) -> None:
        self.build = build
        self.valid = False
        self.inputs: tuple[Any, ...] | None = None

    def refresh(self, inputs: tuple[Any, ...]) -> T:
        if self.inputs is None or self.inputs != inputs:
            self.value = self.build(*inputs)
            self.inputs = inputs
        self.valid = True
        return self.value


class PrinterState:
    """A printer's merged state and typed views of it.

    Feed every decoded MQTT report to `apply()`; read the views. Views are frozen and may be
    kept; they are recomputed lazily after a change. The raw merged data is read-only.
    Messages passed to `apply()` are referenced, not copied: do not modify them afterwards.
    """

    def __init__(self) -> None:
        self._print: dict[str, Any] = {}
        self._print_view: Mapping[str, Any] = MappingProxyType(self._print)
        self._versions: dict[str, Mapping[str, Any]] = {}
        self._versions_view: Mapping[str, Mapping[str, Any]] = MappingProxyType(self._versions)
        self._ams_modules: dict[int, tuple[AmsKind | None, str | None]] = {}
        self._model: PrinterModel | None = None
        self._revision = 0
        self._remaining_at: float | None = None
        self._m_device: _Memo[_DeviceTemps] = _Memo(_build_device_temps)
        self._m_temperatures: _Memo[Temperatures] = _Memo(_build_temperatures)
        self._m_job: _Memo[Job] = _Memo(_build_job)
        self._m_speed: _Memo[Speed] = _Memo(_build_speed)
        self._m_fans: _Memo[Fans] = _Memo(_build_fans)
        self._m_wifi: _Memo[int | None] = _Memo(_wifi_dbm)
        self._m_lights: _Memo[Mapping[str, str]] = _Memo(_build_lights)
        self._m_hms: _Memo[tuple[HmsMessage, ...]] = _Memo(_build_hms)
        self._m_print_error: _Memo[PrintError | None] = _Memo(_build_print_error)
        self._m_sdcard: _Memo[bool | None] = _Memo(_flag)
        self._m_camera: _Memo[Camera] = _Memo(_build_camera)
        self._m_nozzle: _Memo[Nozzle] = _Memo(_build_nozzle)
        self._m_firmware: _Memo[Firmware] = _Memo(_build_firmware)
        self._m_active: _Memo[_Slot | None] = _Memo(_build_active)
        self._m_ams: _Memo[tuple[AmsUnit, ...]] = _Memo(self._build_ams)
        self._m_external: _Memo[tuple[Tray, ...]] = _Memo(_build_external)
        self._m_active_tray: _Memo[Tray | None] = _Memo(_find_active_tray)
        self._memos: tuple[_Memo[Any], ...] = tuple(getattr(self, name) for name in _VIEW_KEYS)
        stale: dict[str, list[_Memo[Any]]] = {}
        for name, keys in _VIEW_KEYS.items():
            for key in keys:
                stale.setdefault(key, []).append(getattr(self, name))
        self._stale_by_key: dict[str, tuple[_Memo[Any], ...]] = {
            key: tuple(memos) for key, memos in stale.items()
        }
        # AMS unit and tray views by unit id, reused while their (never mutated) source
        # objects are the same.
        self._unit_cache: dict[int, _UnitEntry] = {}

    def _drop_view_caches(self) -> None:
        """Forget every cached view (worst-case benchmarks, cache-consistency tests)."""
        for memo in self._memos:
            memo.valid = False
            memo.inputs = None
        self._unit_cache = {}

    # ---------------------------------------------------------------- raw data

    @property
    def revision(self) -> int:
        """Increases with every report that changed something."""
        return self._revision

    @property
    def print_data(self) -> Mapping[str, Any]:
        """The merged `print` object, read-only (diagnostics; entities use the views)."""
        return self._print_view

    @property
    def versions(self) -> Mapping[str, Mapping[str, Any]]:
        """The last get_version reply's modules by name ("ota", "ams/0", ...)."""
        return self._versions_view

    @property
    def model(self) -> PrinterModel | None:
        """The model recognised from get_version; None until a reply arrived."""
        return self._model

    # ---------------------------------------------------------------- merging

    def apply(self, message: Mapping[str, Any], now: float | None = None) -> bool:
        """Merge one decoded MQTT report; return whether anything changed.

        Handles `print` status reports (full or delta) and `info` get_version replies; other
        modules and command replies change nothing. `now` (epoch seconds, default the current
        time) stamps a new remaining time, from which the estimated end time is computed.
        Never raises.
        """
        try:
            changed = self._apply(message, now)
        except Exception:
            # Not expected for any JSON input; keep the client alive and the views honest.
            _LOGGER.exception("Unexpected error while merging a printer report")
            for memo in self._memos:
                memo.valid = False
            self._revision += 1
            return True
        if changed:
            self._revision += 1
        return changed

    def _apply(self, report: object, now: float | None) -> bool:
        if not isinstance(report, Mapping):
            return False
        message: Mapping[Any, Any] = report
        changed = False
        body = message.get("print")
        if body is not None:
            changed = self._apply_print(body, now)
        info = message.get("info")
        if info is not None:
            changed = self._apply_info(info) or changed
        return changed

    def _apply_print(self, body: Any, now: float | None) -> bool:
        if type(body) is not dict:
            if not isinstance(body, Mapping):
                return False
            body = dict(body)
        command = body.get("command")
        if command is not None and command != "push_status":
            return False  # a command reply, not a status report
        if len(body) > MAX_KEYS:
            _LOGGER.debug("Dropped a report with %d fields", len(body))
            return False
        # A full report lists every AMS unit and tray, so ids it lacks are gone. msg 0 alone
        # is not proof (some senders mark deltas msg 0 too): a full report also carries
        # objects that deltas almost never repeat all at once.
        msg = body.get("msg", 0)
        full = type(msg) is int and msg == 0 and body.keys() >= _FULL_REPORT_KEYS
        state = self._print
        stale_by_key = self._stale_by_key
        changed = False
        for key in _changed_keys(state, body):
            if type(key) is not str or len(key) > MAX_KEY_LENGTH or key in _IGNORED_KEYS:
                continue
            before = state.get(key, _MISSING)
            after = body[key]
            if type(after) not in _SCALARS:  # scalars need no merging
                after = _merge_value(before, after, key, 1, full)
                if after is _DROP or after is before:
                    continue
            if before is _MISSING and len(state) >= MAX_KEYS:
                _LOGGER.debug("Dropped %r from a report: state is full", _short(key))
                continue
            state[key] = after
            changed = True
            for memo in stale_by_key.get(key, ()):
                memo.valid = False
            if key == "mc_remaining_time":
                self._remaining_at = time.time() if now is None else now
        return changed

    def _apply_info(self, body: Any) -> bool:
        if not isinstance(body, Mapping) or body.get("command") != "get_version":
            return False
        modules = body.get("module")
        if type(modules) is not list or len(modules) > MAX_LIST:
            return False
        versions: dict[str, Mapping[str, Any]] = {}
        for module in modules:
            if not isinstance(module, Mapping):
                continue
            name = module.get("name")
            if type(name) is not str or not name or len(name) > 256:
                continue
            fields = {
                key: value
                for key, value in module.items()
                if type(key) is str
                and (type(value) in _SCALARS or (type(value) is str and len(value) <= 256))
            }
            versions[name] = MappingProxyType(fields)
        if not versions or versions == self._versions:
            return False
        self._versions = versions
        self._versions_view = MappingProxyType(versions)
        self._model = identify_from_version(versions)
        ams_modules: dict[int, tuple[AmsKind | None, str | None]] = {}
        for name, module in versions.items():
            kind = ams_kind_from_module(name)
            unit = _ranged(name.partition("/")[2], 0, 255) if kind is not None else None
            if unit is not None:
                ams_modules[unit] = (kind, _text(module.get("sw_ver")))
        self._ams_modules = ams_modules
        for name in _VERSION_VIEWS:
            getattr(self, name).valid = False
        return True

    # ---------------------------------------------------------------- views

    @property
    def temperatures(self) -> Temperatures:
        """Nozzle, bed and chamber temperatures (and H2D's two nozzles)."""
        memo = self._m_temperatures
        if memo.valid:
            return memo.value
        p = self._print
        return memo.refresh(
            (
                p.get("nozzle_temper"),
                p.get("nozzle_target_temper"),
                p.get("bed_temper"),
                p.get("bed_target_temper"),
                p.get("chamber_temper"),
                self._device_temps(),
                self._model,
            )
        )

    def _device_temps(self) -> _DeviceTemps:
        memo = self._m_device
        if memo.valid:
            return memo.value
        device = self._print.get("device")
        if type(device) is not dict:
            return memo.refresh((None, None, None, None, None))
        return memo.refresh(
            (
                device.get("extruder"),
                device.get("bed"),
                device.get("bed_temp"),
                device.get("ctc"),
                device.get("cham_temp"),
            )
        )

    @property
    def job(self) -> Job:
        """Job state, stage, progress, layers, times and names."""
        memo = self._m_job
        if memo.valid:
            return memo.value
        p = self._print
        return memo.refresh(
            (
                p.get("gcode_state"),
                p.get("stg_cur"),
                p.get("mc_percent"),
                p.get("mc_remaining_time"),
                p.get("layer_num"),
                p.get("total_layer_num"),
                p.get("3D"),
                p.get("gcode_file"),
                p.get("subtask_name"),
                p.get("gcode_start_time"),
                p.get("print_type"),
                self._remaining_at,
            )
        )

    @property
    def speed(self) -> Speed:
        """Speed profile and percentage."""
        memo = self._m_speed
        if memo.valid:
            return memo.value
        p = self._print
        return memo.refresh((p.get("spd_lvl"), p.get("spd_mag")))

    @property
    def fans(self) -> Fans:
        """Fan speeds in percent."""
        memo = self._m_fans
        if memo.valid:
            return memo.value
        p = self._print
        return memo.refresh(
            (
                p.get("cooling_fan_speed"),
                p.get("big_fan1_speed"),
                p.get("big_fan2_speed"),
                p.get("heatbreak_fan_speed"),
            )
        )

    @property
    def wifi_dbm(self) -> int | None:
        """Wi-Fi signal strength in dBm."""
        memo = self._m_wifi
        return memo.value if memo.valid else memo.refresh((self._print.get("wifi_signal"),))

    @property
    def lights(self) -> Mapping[str, str]:
        """Light node -> mode ("on", "off", "flashing"), read-only."""
        memo = self._m_lights
        return memo.value if memo.valid else memo.refresh((self._print.get("lights_report"),))

    @property
    def hms(self) -> tuple[HmsMessage, ...]:
        """Current health-management messages."""
        memo = self._m_hms
        return memo.value if memo.valid else memo.refresh((self._print.get("hms"),))

    @property
    def print_error(self) -> PrintError | None:
        """The current print error (code 0 = none); None when not reported."""
        memo = self._m_print_error
        return memo.value if memo.valid else memo.refresh((self._print.get("print_error"),))

    @property
    def sdcard(self) -> bool | None:
        """Whether an SD card is inserted."""
        memo = self._m_sdcard
        return memo.value if memo.valid else memo.refresh((self._print.get("sdcard"),))

    @property
    def camera(self) -> Camera:
        """Camera settings (RTSPS state)."""
        memo = self._m_camera
        return memo.value if memo.valid else memo.refresh((self._print.get("ipcam"),))

    @property
    def nozzle(self) -> Nozzle:
        """Installed nozzle diameter and type."""
        memo = self._m_nozzle
        if memo.valid:
            return memo.value
        p = self._print
        return memo.refresh(
            (p.get("nozzle_diameter"), p.get("nozzle_type"), _nested(p, "device", "nozzle"))
        )

    @property
    def firmware(self) -> Firmware:
        """Main firmware version and update availability."""
        memo = self._m_firmware
        if memo.valid:
            return memo.value
        return memo.refresh((self._print.get("upgrade_state"), self._versions))

    def _active_slot(self) -> _Slot | None:
        memo = self._m_active
        if memo.valid:
            return memo.value
        p = self._print
        return memo.refresh(
            (
                _nested(p, "ams", "tray_now"),
                _nested(p, "device", "extruder"),
                p.get("vt_tray"),
                p.get("vir_slot"),
            )
        )

    @property
    def ams(self) -> tuple[AmsUnit, ...]:
        """AMS units with their trays, in report order."""
        memo = self._m_ams
        if memo.valid:
            return memo.value
        return memo.refresh(
            (_nested(self._print, "ams", "ams"), self._active_slot(), self._ams_modules)
        )

    @property
    def external_spools(self) -> tuple[Tray, ...]:
        """External spool holders (`vt_tray`, or H2D's `vir_slot[]`)."""
        memo = self._m_external
        if memo.valid:
            return memo.value
        p = self._print
        return memo.refresh((p.get("vt_tray"), p.get("vir_slot"), self._active_slot()))

    @property
    def active_tray(self) -> Tray | None:
        """The AMS tray or external spool feeding the extruder in use, if known."""
        memo = self._m_active_tray
        if memo.valid:
            return memo.value
        if self._active_slot() is None:
            memo.valid = False  # nothing active: no need to build the tray views
            return None
        return memo.refresh((self.ams, self.external_spools))

    def _build_ams(
        self,
        units: Any,
        active: _Slot | None,
        modules: Mapping[int, tuple[AmsKind | None, str | None]],
    ) -> tuple[AmsUnit, ...]:
        previous = self._unit_cache
        cache: dict[int, _UnitEntry] = {}
        result = []
        for item in _list(units):
            if type(item) is not dict:
                continue
            unit_id = _ranged(item.get("id"), 0, 255)
            if unit_id is None:
                continue
            module = modules.get(unit_id)
            active_tray = active[1] if active is not None and active[0] == unit_id else None
            entry = previous.get(unit_id)
            if (
                entry is None
                or entry[0] is not item
                or entry[1] != active_tray
                or entry[2] != module
            ):
                entry = _build_unit(item, unit_id, active_tray, module, entry)
            cache[unit_id] = entry
            result.append(entry[3])
        self._unit_cache = cache
        return tuple(result)
