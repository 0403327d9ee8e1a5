"""Writes the simulated state into the `push_status` object with the real field names and types."""

from ipaddress import IPv4Address
from typing import Final

from custom_components.bambu_printer.printer.models import DoorSensor

from .ams import AmsBay
from .job import EXTERNAL_SPOOL, NO_TRAY
from .noise import noise
from .process import SPEED_MAGNITUDE, PrintProcess
from .profiles import ModelProfile
from .reports import JsonDict
from .thermals import Thermals

_WIFI_CHANNEL: Final = 3
_DOOR_OPEN: Final = 0x00800000
_SNOW_IDLE: Final = 0xFEFF
_SNOW_NONE: Final = 0xFFFF
_SNOW_EXTERNAL: Final = 0xFF00  # holder 255, slot 0: the main extruder's external spool
_AMS_HT_FIRST_ID: Final = 128
_NOZZLE_CHANNEL: Final = 1
_BED_CHANNEL: Final = 2


class StatusWriter:
    """Keeps one printer's report object (`print`) in step with its process, heaters and AMS."""

    def __init__(
        self,
        report: JsonDict,
        profile: ModelProfile,
        process: PrintProcess,
        thermals: Thermals,
        ams: AmsBay,
        *,
        serial: str,
        seed: int,
        wifi_base: int,
    ) -> None:
        self._report = report
        self._profile = profile
        self._model = profile.model
        self._process = process
        self._thermals = thermals
        self._ams = ams
        self._serial = serial
        self._seed = seed
        self._wifi_base = wifi_base

    def sync(self, *, now: float, ip: str, lan_liveview: bool, door_open: bool) -> JsonDict:
        """Write the simulated state into the report object and return it."""
        pr = self._report
        process = self._process
        progress = process.progress()
        percent, remaining, layer, total = progress
        pr["gcode_state"] = process.state
        pr["print_error"] = process.error
        self._write_temperatures(pr)
        pr["mc_print_stage"] = "2" if process.active else "1"
        pr["mc_percent"] = percent
        pr["mc_remaining_time"] = remaining
        pr["layer_num"] = layer
        pr["total_layer_num"] = total
        pr["stg_cur"] = process.stage_code(full_reports=self._model.full_reports)
        pr["print_type"] = "local" if process.active else "idle"
        pr["spd_lvl"] = process.speed_level
        pr["spd_mag"] = SPEED_MAGNITUDE[process.speed_level]
        slot = int(process.elapsed // 4)
        dbm = self._wifi_base + round(2 * noise(self._seed, _WIFI_CHANNEL, slot))
        pr["wifi_signal"] = f"{dbm}dBm"
        part, aux, chamber_fan, heatbreak = process.fan_gears(
            aux_fan=self._model.aux_fan, chamber_fan=self._model.chamber_fan
        )
        pr["cooling_fan_speed"] = str(part)
        pr["big_fan1_speed"] = str(aux)
        pr["big_fan2_speed"] = str(chamber_fan)
        pr["heatbreak_fan_speed"] = str(heatbreak)
        self._write_job(pr)
        if process.job is not None:
            self._ams.follow_job(process.job, loaded=process.tray_loaded)
        if self._model.chamber_sensor:
            self._ams.show_temperature(self._thermals.chamber, self._thermals.ambient)
        self._ams.show_drying(now)
        self._write_door(pr, door_open)
        if self._model.full_reports:
            self._write_full_family(pr, progress, now=now, active=process.active)
        self._write_identity(pr, ip=ip, lan_liveview=lan_liveview)
        return pr

    def _write_job(self, pr: JsonDict) -> None:
        """Write the current job's, or else the last job's, name, stages and preparation."""
        job = self._process.job or self._process.last_job
        pr["stg"] = [] if job is None else list(job.stages)
        pr["gcode_start_time"] = str(self._process.last_start_epoch)
        if job is None:
            return
        pr["subtask_name"] = job.name
        pr["s_obj"] = list(job.skipped)
        pr["gcode_file_prepare_percent"] = str(job.prepare_percent)
        if "prepare_per" in pr:
            pr["prepare_per"] = job.prepare_percent
        if self._model.full_reports:
            pr["gcode_file"] = "/data/Metadata/plate_1.gcode"
        elif self._process.job is job and job.preparing:
            pr["gcode_file"] = job.file_while_preparing
        else:
            pr["gcode_file"] = ""

    def _write_temperatures(self, pr: JsonDict) -> None:
        thermals = self._thermals
        pr["nozzle_temper"] = self._display_temp(
            thermals.nozzles[0], thermals.nozzle_targets[0], _NOZZLE_CHANNEL
        )
        pr["bed_temper"] = self._display_temp(thermals.bed, thermals.bed_target, _BED_CHANNEL)
        # X1-class printers send targets as floats (220.0), P1/A1 as integers (220).
        kind: type[float] | type[int] = float if self._model.full_reports else int
        pr["nozzle_target_temper"] = kind(thermals.nozzle_targets[0])
        pr["bed_target_temper"] = kind(thermals.bed_target)

    def _display_temp(self, value: float, target: float, channel: int) -> float:
        """Return a temperature as the printer shows it: jittering near its target, rounded."""
        if target > 0 and abs(value - target) < 2.0:
            value += 0.4 * noise(self._seed, channel, int(self._process.elapsed // 2))
        if self._model.full_reports:
            return float(round(value))
        return round(value * 32) / 32

    def _write_door(self, pr: JsonDict, door_open: bool) -> None:
        """Set or clear the door bit where this model reports its door; others have none."""
        source = self._model.door_sensor(self._profile.ota_version)
        if source is DoorSensor.STAT and isinstance(pr.get("stat"), str):
            flags = int(pr["stat"], 16)
            pr["stat"] = f"{flags | _DOOR_OPEN if door_open else flags & ~_DOOR_OPEN:X}"
        elif source is DoorSensor.HOME_FLAG and isinstance(pr.get("home_flag"), int):
            flags = pr["home_flag"]
            pr["home_flag"] = flags | _DOOR_OPEN if door_open else flags & ~_DOOR_OPEN

    def _write_identity(self, pr: JsonDict, *, ip: str, lan_liveview: bool) -> None:
        """Write serial, IP address and camera URL (they can change after construction)."""
        if self._profile.rtsp:
            url = f"rtsps://{ip}:322/streaming/live/1"
            if self._profile.liveview_switch and not lan_liveview:
                url = "disable"
            pr["ipcam"]["rtsp_url"] = url
        net = pr.get("net", {}).get("info")
        if net:
            net[0]["ip"] = int.from_bytes(IPv4Address(ip).packed, "little")
        upgrade = pr.get("upgrade_state")
        if isinstance(upgrade, dict) and "sn" in upgrade:
            upgrade["sn"] = self._serial

    def _write_full_family(
        self, pr: JsonDict, progress: tuple[int, int, int, int], *, now: float, active: bool
    ) -> None:
        """Keep the X1/H2/P2S duplicates (percent, remain_time, device.*) consistent."""
        percent, remaining, layer, total = progress
        thermals = self._thermals
        pr["mc_stage"] = 2 if active else 1
        if "percent" in pr:
            pr["percent"] = percent
            pr["remain_time"] = remaining
        if "t_utc" in pr:
            pr["t_utc"] = int(now * 1000)
        if "3D" in pr:
            pr["3D"]["layer_num"] = layer
            pr["3D"]["total_layer_num"] = total
        chamber = round(thermals.chamber)
        if "chamber_temper" in pr:
            pr["chamber_temper"] = float(chamber)
        if isinstance(pr.get("info"), dict):
            pr["info"]["temp"] = chamber
        device = pr.get("device")
        if not isinstance(device, dict):
            return
        bed_packed = (int(thermals.bed_target) << 16) | round(thermals.bed)
        device["bed"]["info"]["temp"] = bed_packed
        device["bed_temp"] = bed_packed
        if "cham_temp" in device:
            device["cham_temp"] = chamber
        device["ctc"]["info"]["temp"] = (int(thermals.chamber_target) << 16) | chamber
        nozzles = zip(thermals.nozzle_targets, thermals.nozzles, strict=True)
        extruders = device["extruder"]["info"]
        for info, (target, temp) in zip(extruders, nozzles, strict=False):
            info["temp"] = (int(target) << 16) | round(temp)
        # Extruder 0 (the right one on dual-nozzle printers) is the one in use: it names the
        # loaded tray in `snow`; an idle extruder says 0xFEFF, as the H2D capture shows.
        device["extruder"]["state"] = len(extruders)  # bits 4-7: extruder 0 in use
        for position, info in enumerate(extruders):
            info["snow"] = _snow(self._ams.tray_now) if position == 0 else _SNOW_IDLE


def _snow(tray_now: str) -> int:
    """Encode `ams.tray_now` ("255" none, "254" external, unit * 4 + slot) as an extruder's snow."""
    tray = int(tray_now)
    if tray == int(NO_TRAY):
        return _SNOW_NONE
    if tray == int(EXTERNAL_SPOOL):
        return _SNOW_EXTERNAL
    if tray >= _AMS_HT_FIRST_ID:
        return tray << 8  # AMS HT units have one slot and are numbered from 128
    return ((tray >> 2) << 8) | (tray & 3)
