"""The typed read-only views of a printer's state: frozen, comparable, safe to keep."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from ..models import AmsKind
from .tables import ACTIVE_JOB_STATES, GcodeState


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
    chamber_target: float | None = None  # the chamber heater's target (device.ctc)


@dataclass(frozen=True, slots=True)
class Job:
    """The current (or last) print job."""

    state: GcodeState | None
    stage_code: int | None  # raw `stg_cur`
    stage: str | None  # slug from STAGES, "idle", or "unknown"
    percent: int | None
    remaining_minutes: int | None  # while a job is active; 0 once finished, else None
    end_time: datetime | None  # UTC; only while a job is active
    start_time: datetime | None  # UTC, from `gcode_start_time` when the firmware sends it
    layer: int | None
    total_layers: int | None
    file: str | None
    name: str | None  # subtask_name
    print_type: str | None  # "local", "cloud", "idle", ...

    @property
    def can_pause(self) -> bool:
        """Whether pausing makes sense now: only while printing (as Bambu Studio decides)."""
        return self.state is GcodeState.RUNNING

    @property
    def can_resume(self) -> bool:
        """Whether resuming makes sense now: only while paused."""
        return self.state is GcodeState.PAUSE

    @property
    def can_stop(self) -> bool:
        """Whether stopping makes sense now: only while a job is active."""
        return self.state in ACTIVE_JOB_STATES


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
class AirDuct:
    """The air duct of H2, P2S and X2D printers: the current mode and those offered."""

    mode: int | None  # `modeCur`: 0 cooling, 1 heating, 2 laser (AIRDUCT_MODES)
    modes: tuple[int, ...]  # the `modeId`s of `modeList`, in the printer's order


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
    alpha: int | None  # 0-255; 0 is transparent filament
    colors: tuple[str, ...]  # multi-colour filament, "#RRGGBB" each
    remain: int | None  # percent, None when unknown
    nozzle_temp_min: int | None
    nozzle_temp_max: int | None
    k: float | None
    active: bool
    empty: bool

    @property
    def transparent(self) -> bool:
        """Whether the filament is clear (alpha 00), so its "#000000" is no colour at all."""
        return self.alpha == 0


@dataclass(frozen=True, slots=True)
class AmsUnit:
    """One AMS unit and its trays."""

    id: int
    kind: AmsKind | None  # from get_version module names; AMS HT also from id >= 128
    humidity_level: int | None  # 1 dry .. 5 wet, as Bambu Studio and the app show it
    humidity_percent: int | None  # humidity_raw, newer AMS only
    temperature: float | None
    dry_time_minutes: int | None  # remaining drying time (AMS 2 Pro / HT)
    firmware: str | None
    trays: tuple[Tray, ...]

    @property
    def drying(self) -> bool | None:
        """Whether the unit is drying its filament (minutes of drying left)."""
        return None if self.dry_time_minutes is None else self.dry_time_minutes > 0

    @property
    def drying_max(self) -> int | None:
        """The hottest this unit dries filament at (degC); None when it cannot dry."""
        return None if self.kind is None else self.kind.drying_max


@dataclass(frozen=True, slots=True)
class Firmware:
    """Main firmware version (the `ota` module) and the updates the printer offers."""

    version: str | None
    update_available: bool | None  # for the printer itself; None until it reports
    new_version: str | None  # the offered printer firmware, when the printer names it
    ams_update_available: bool | None  # an AMS firmware update is offered
    updating: bool = False  # an update is being downloaded or written (`upgrade_state.status`)
    progress: int | None = None  # percent of that update, only while updating


@dataclass(frozen=True, slots=True)
class Camera:
    """Camera settings from `ipcam`."""

    rtsp_enabled: bool | None  # LAN liveview; None until the printer reports `rtsp_url`
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
    type: str | None  # one of parsing.NOZZLE_TYPES: "hardened_steel", "stainless_steel", ...
    nozzles: tuple[NozzleSpec, ...]


def _reported_as(field_name: str) -> bool:
    """Declare the top-level report field whose presence a `Reported` flag tells."""
    return field(metadata={REPORT_FIELD: field_name})  # type: ignore[no-any-return]


# The metadata key naming, for each `Reported` flag, the report field it stands for.
REPORT_FIELD: Final = "report_field"


@dataclass(frozen=True, slots=True)
class Reported:
    """Which optional readings the printer reports at all (so which entities it has)."""

    start_time: bool = _reported_as("gcode_start_time")
    part_cooling_fan: bool = _reported_as("cooling_fan_speed")
    aux_fan: bool = _reported_as("big_fan1_speed")
    chamber_fan: bool = _reported_as("big_fan2_speed")
    heatbreak_fan: bool = _reported_as("heatbreak_fan_speed")
    wifi_signal: bool = _reported_as("wifi_signal")
    print_error: bool = _reported_as("print_error")
    sdcard: bool = _reported_as("sdcard")
    firmware_update: bool = _reported_as("upgrade_state")
    authorization_control: bool = _reported_as("fun")
    nozzle_diameter: bool = _reported_as("nozzle_diameter")
    nozzle_type: bool = _reported_as("nozzle_type")
