"""A print job and the codes printers report it with (`gcode_state`, `stg_cur`).

A job runs the way the printers report it: `PREPARE` while the file is prepared
(`gcode_file_prepare_percent` 0..100), then `RUNNING` through the start G-code's calibration
stages (`stg_cur` 2 heatbed preheating, 13 homing, 4 changing filament, 14 cleaning nozzle,
1 auto bed levelling, 3 vibration compensation, 7 heating hotend, 8 calibrating extrusion; the
heating stages end when the temperature is reached), then `RUNNING` with `stg_cur` 0 while the
layers print, then `FINISH` with the heaters off.  A user pause is `PAUSE` / `stg_cur` 16; a stop
leaves `FAILED` with the progress frozen, as on the real printers (see the P1P capture).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

IDLE: Final = "IDLE"
PREPARE: Final = "PREPARE"
RUNNING: Final = "RUNNING"
PAUSE: Final = "PAUSE"
FINISH: Final = "FINISH"
FAILED: Final = "FAILED"
ACTIVE_STATES: Final = frozenset({PREPARE, RUNNING, PAUSE})

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

EXTERNAL_SPOOL: Final = "254"  # `tray_now` of the external spool holder
NO_TRAY: Final = "255"  # `tray_now` when no filament is loaded
PREPARE_SECONDS: Final = 8.0  # file download / preparation (`gcode_file_prepare_percent`)

# Simulated seconds of the fixed-length calibration stages (heating stages end at temperature).
_STAGE_SECONDS: Final[Mapping[int, float]] = {
    STAGE_HOMING: 25.0,
    STAGE_CHANGING_FILAMENT: 45.0,
    STAGE_CLEANING_NOZZLE: 35.0,
    STAGE_BED_LEVELING: 100.0,
    STAGE_VIBRATION_COMPENSATION: 45.0,
    STAGE_CALIBRATING_EXTRUSION: 40.0,
}
_OTHER_STAGE_SECONDS: Final = 30.0

# Nozzle and bed temperatures by material, as the slicer's filament profiles set them.
_NOZZLE_TEMP: Final[Mapping[str, int]] = {"PLA": 220, "PETG": 250, "ABS": 260}
_BED_TEMP: Final[Mapping[str, float]] = {"PLA": 55.0, "PETG": 70.0, "ABS": 90.0}


def stage_seconds(stage: int) -> float:
    """Return how long a calibration stage that does not wait for a temperature lasts."""
    return _STAGE_SECONDS.get(stage, _OTHER_STAGE_SECONDS)


def _int(value: Any, default: int) -> int:
    """Parse an integer sent as a string ("230"), falling back to `default`."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass(slots=True)
class Job:
    """One print: what it prints with, and how far it got."""

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
    skipped: list[int] = field(default_factory=list)  # object ids skipped (`s_obj`)

    @classmethod
    def with_filament(  # noqa: PLR0917  (one job's settings)
        cls,
        name: str,
        layers: int,
        minutes: float,
        tray: str,
        filament: Mapping[str, Any],
        stages: tuple[int, ...],
        start_epoch: int,
        spool_start: Mapping[str, int],
        *,
        bed_temp: float | None,
        nozzle_temp: float | None,
    ) -> "Job":
        """Plan a job on the filament of `tray`: temperatures and part fan from its material.

        The AMS filament change stage is skipped when printing from the external spool.
        """
        material = str(filament.get("tray_type", "PLA"))
        nozzle_max = _int(filament.get("nozzle_temp_max"), 230)
        nozzle_default = _NOZZLE_TEMP.get(material, nozzle_max - 10)
        nozzle_default = max(
            _int(filament.get("nozzle_temp_min"), 0), min(nozzle_max, nozzle_default)
        )
        bed_default = _BED_TEMP.get(material, 60.0)
        return cls(
            name=name,
            layers=int(layers),
            print_seconds=float(minutes) * 60.0,
            bed_target=float(bed_default if bed_temp is None else bed_temp),
            nozzle_target=float(nozzle_default if nozzle_temp is None else nozzle_temp),
            tray=tray,
            stages=tuple(
                stage
                for stage in stages
                if stage != STAGE_CHANGING_FILAMENT or tray not in (EXTERNAL_SPOOL, NO_TRAY)
            ),
            start_epoch=start_epoch,
            part_fan_gear=15 if material.startswith("PLA") else 7,
            spool_start=spool_start,
        )

    @property
    def printing_layers(self) -> bool:
        """Whether the calibration stages are over and the layers are being printed."""
        return self.stage_index >= len(self.stages)

    @property
    def preparing(self) -> bool:
        """Whether the file is still being prepared (downloaded), before the first stage."""
        return self.prepare_elapsed < PREPARE_SECONDS

    @property
    def file_while_preparing(self) -> str:
        """The `gcode_file` a P1/A1 reports while preparing: bytes that are not UTF-8.

        A stray 0xF0 byte before the name, and the name in latin-1, as raw bytes: P1P and A1
        firmware sends such bytes (ha-bambulab issues #138 and #1746). The bytes ride in the
        string as surrogate escapes; `simulator.device.encode_report` writes them out raw.
        """
        raw = b"\xf0" + self.name.encode("latin-1", "replace") + b".gcode"
        return raw.decode("utf-8", "surrogateescape")

    @property
    def prepare_percent(self) -> int:
        """How far the file preparation got (`gcode_file_prepare_percent`, 0-100)."""
        return min(100, int(self.prepare_elapsed / PREPARE_SECONDS * 100 + 1e-9))
