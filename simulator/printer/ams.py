"""The AMS units and their trays (`print.ams`), the filament catalogue, and spool use by jobs."""

import math
import random
from collections.abc import Mapping
from typing import Any, Final

from .job import EXTERNAL_SPOOL, NO_TRAY, Job
from .reports import JsonDict, copy_json

# (type, sub brand, info idx, nozzle min, nozzle max, drying, bed)
type Filament = tuple[str, str, str, int, int, int, int]

_FILAMENTS: Final[tuple[Filament, ...]] = (
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
_SPOOL_PERCENT_PER_MINUTE: Final = 0.03  # % of a 1 kg spool used per printing minute
_H2D_UNIT_INFO: Final = ("2103", "2003")  # `info` of the H2D capture's two AMS units
_MAX_UNITS: Final = 4
_SLOTS: Final = 4


class AmsBay:
    """The AMS part of one printer's report object: units, trays and the active tray."""

    def __init__(
        self,
        report: JsonDict,
        template: Mapping[str, Any],
        units: int,
        rng: random.Random,
        *,
        ambient: float,
        unit_info: bool,
        rfid: bool,
        first_id: int = 0,
    ) -> None:
        """Fit `units` AMS units (0-4) with random filament into `report["ams"]`.

        `unit_info` gives the units the H2D's `info` codes; `rfid` fills the trays' RFID
        fields (tag, uuid, weight) as X1/H2 printers report Bambu spools. Units are numbered
        from `first_id` (16 for the A2L's AMS lite).
        """
        self._report = report
        self._first_id = first_id
        self._drying: dict[int, tuple[float, float]] = {}  # unit index -> (end, temperature)
        self._ams: JsonDict = report["ams"]
        unit_proto: JsonDict | None = template.get("ams_unit")
        tray_proto: JsonDict | None = template.get("tray")
        if unit_proto is None or tray_proto is None:
            units = 0
        units = max(0, min(_MAX_UNITS, units))
        rfid = rfid and "tray_uuid" in (tray_proto or {})
        self._ams["ams"] = []
        for index in range(units):
            assert unit_proto is not None  # noqa: S101  (checked above)
            assert tray_proto is not None  # noqa: S101
            unit = copy_json(unit_proto)
            unit["id"] = str(first_id + index)
            unit["humidity"] = str(rng.choice((3, 4, 5, 5)))
            if "humidity_raw" in unit:
                unit["humidity_raw"] = str(rng.randint(8, 35))
            if "info" in unit and unit_info:
                unit["info"] = _H2D_UNIT_INFO[index % 2]
            if unit.get("temp") != "0.0":
                unit["temp"] = f"{ambient + 1.5:.1f}"
            for slot in range(_SLOTS):
                kind = _FILAMENTS[0] if index == 0 and slot == 0 else rng.choice(_FILAMENTS)
                unit["tray"].append(_make_tray(tray_proto, slot, kind, rng, rfid=rfid))
            self._ams["ams"].append(unit)
        self.units: int = units
        bits = sum(1 << i for i in range(units))
        tray_bits = sum(0xF << (4 * i) for i in range(units))
        for key, value in (
            ("ams_exist_bits", f"{bits:x}"),
            ("ams_exist_bits_raw", f"{bits:x}"),
            ("tray_exist_bits", f"{tray_bits:x}"),
            ("tray_is_bbl_bits", f"{tray_bits:x}"),
            ("tray_read_done_bits", f"{tray_bits:x}"),
        ):
            if key in self._ams:
                self._ams[key] = value
        idle_tray = NO_TRAY if units else EXTERNAL_SPOOL
        self._ams["tray_now"] = self._ams["tray_pre"] = self._ams["tray_tar"] = idle_tray

    @property
    def tray_now(self) -> str:
        """The active tray as reported in `tray_now` ("255" none, "254" external spool)."""
        return str(self._ams["tray_now"])

    def pick_tray(self, tray: int | None) -> tuple[str, Mapping[str, Any]]:
        """Return the tray id and filament to print from: `tray`, the first loaded, or external.

        Raises ValueError when `tray` is given but holds no filament.
        """
        trays = {
            str(int(unit["id"]) * _SLOTS + int(t["id"])): t
            for unit in self._ams["ams"]
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
        return EXTERNAL_SPOOL, self._report.get("vt_tray", {})

    def spool_levels(self) -> dict[str, int]:
        """Return the `remain` of every loaded tray by tray id (where the AMS knows it)."""
        levels: dict[str, int] = {}
        for unit in self._ams["ams"]:
            for tray in unit["tray"]:
                remain = tray.get("remain")
                if isinstance(remain, int) and "tray_type" in tray:
                    levels[str(int(unit["id"]) * _SLOTS + int(tray["id"]))] = remain
        return levels

    def follow_job(self, job: Job, *, loaded: bool) -> None:
        """Show the job's tray as active once its filament is loaded, and its spool emptying."""
        if job.tray == EXTERNAL_SPOOL or loaded:
            self._ams["tray_now"] = self._ams["tray_tar"] = job.tray
        self._write_remain(job)

    def end_job(self, job: Job, *, finished: bool) -> None:
        """Keep the filament a job used; a finished print unloads it, a stopped one does not."""
        self._write_remain(job)
        if job.tray != EXTERNAL_SPOOL:
            self._ams["tray_pre"] = job.tray
            if finished:
                self._ams["tray_now"] = self._ams["tray_tar"] = NO_TRAY

    def show_temperature(self, chamber: float, ambient: float) -> None:
        """Write the units' temperature (between chamber and room) where they report one."""
        for unit in self._ams["ams"]:
            if unit.get("temp") != "0.0":
                unit["temp"] = f"{(chamber + ambient) / 2 + 1.0:.1f}"

    def _write_remain(self, job: Job) -> None:
        start = job.spool_start.get(job.tray)
        tray = self._tray(job.tray)
        if start is None or tray is None:
            return
        used = job.work_done / 60.0 * _SPOOL_PERCENT_PER_MINUTE
        tray["remain"] = max(0, math.ceil(start - used - 1e-9))

    def start_drying(self, ams_id: int, minutes: float, temperature: float, now: float) -> None:
        """Dry unit `ams_id` at `temperature` for `minutes` from `now` (simulated epoch)."""
        index = ams_id - self._first_id
        if not 0 <= index < self.units:
            raise ValueError(f"no AMS unit {ams_id}")
        self._drying[index] = (now + minutes * 60.0, float(temperature))

    def stop_drying(self, ams_id: int) -> None:
        """Stop drying unit `ams_id` (nothing happens when it is not drying)."""
        index = ams_id - self._first_id
        if not 0 <= index < self.units:
            raise ValueError(f"no AMS unit {ams_id}")
        self._drying.pop(index, None)

    def show_drying(self, now: float) -> None:
        """Write each unit's drying minutes left (`dry_time`) and, while drying, its heater."""
        for index, unit in enumerate(self._ams["ams"]):
            if "dry_time" not in unit:
                continue
            end, temperature = self._drying.get(index, (now, 0.0))
            left = max(0, math.ceil((end - now) / 60.0 - 1e-9))
            unit["dry_time"] = left
            if left:
                unit["temp"] = f"{temperature:.1f}"
            else:
                self._drying.pop(index, None)

    def _tray(self, tray_id: str) -> JsonDict | None:
        if not tray_id.isdigit():
            return None
        unit_index, slot = divmod(int(tray_id), _SLOTS)
        unit_index -= self._first_id
        if not 0 <= unit_index < self.units:
            return None
        tray: JsonDict = self._ams["ams"][unit_index]["tray"][slot]
        return tray


def _make_tray(
    proto: Mapping[str, Any], slot: int, kind: Filament, rng: random.Random, *, rfid: bool
) -> JsonDict:
    material, brand, idx, nozzle_min, nozzle_max, drying, _bed = kind
    color, letter = rng.choice(_COLORS)
    tray: JsonDict = copy_json(proto)
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
