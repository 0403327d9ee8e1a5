"""Request payloads for the printer's MQTT request topic, and matching of the replies.

Builders return `Command` objects that know their reply: the printer answers on the report
topic with the same module, command and sequence_id plus a `result`, so `match_reply()` can
pair them up without the client knowing any payload details.
"""

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final

from .models import PrinterModel

SPEED_LEVELS = (1, 2, 3, 4)  # silent, standard, sport, ludicrous
# Firmware with authorization control on refuses unsigned `print` commands with this error
# (0x05024007); the light (`system.ledctrl`) and reading (`pushall`, `get_version`) still work.
AUTHORIZATION_ERROR = 84033543
_AUTHORIZATION_REASON = "verify failed"  # "mqtt message verify failed"
_SIGNED_MODULES = frozenset({"print"})
_MAX_GCODE = 64 * 1024
_MAX_NODE = 64
_MAX_PLATE: Final = 999
_MAX_TRAY: Final = 255
_MAX_SKIP: Final = 1000
# Printers that take a print's file as file:///sdcard/<path>; later models want ftp:///<path>.
SDCARD_URL_MODELS: Final = frozenset(
    {
        PrinterModel.X1C,
        PrinterModel.X1E,
        PrinterModel.P1P,
        PrinterModel.P1S,
        PrinterModel.A1,
        PrinterModel.A1_MINI,
    }
)
_MAX_AMS_ID = 256  # unit ids: 0-3 (AMS, AMS 2 Pro), 16 (A2L's AMS lite), 128+ (AMS HT)
_MAX_MODE = 255
_MAX_TEMPERATURE = 400  # degC: above any model's limit (models.py has each model's)
DRYING_MIN_TEMPERATURE = 45  # degC; also the cooling temperature the firmware wants
DRYING_HOURS = (1, 24)
_FAN_FULL = 255  # M106 S takes 0-255
_FAN_STEP = 10  # percent: the gears shown (0-15) are read in steps of 10 %


class Fan(IntEnum):
    """The fans M106 addresses, by their `P` index."""

    PART_COOLING = 1
    AUX = 2
    CHAMBER = 3


def _whole(value: object) -> bool:
    """Return whether a value is a whole number (an int, and not a bool, which is one too)."""
    return isinstance(value, int) and not isinstance(value, bool)


def fan_speed_value(percent: int) -> int:
    """Return M106's S value (0-255) for a percentage, rounded to the shown 10 % steps."""
    if not _whole(percent) or not 0 <= percent <= 100:
        raise ValueError(f"fan percentage must be 0-100, got {percent!r}")
    stepped = (percent + _FAN_STEP // 2) // _FAN_STEP * _FAN_STEP  # halves round up
    return math.ceil(_FAN_FULL * stepped / 100)


def _check_ams_id(value: int) -> int:
    if not _whole(value) or not 0 <= value < _MAX_AMS_ID:
        raise ValueError(f"AMS unit id must be 0-{_MAX_AMS_ID - 1}, got {value!r}")
    return value


def _check_temperature(value: int) -> int:
    if not _whole(value):
        raise TypeError(f"temperature must be a whole number of degrees, got {value!r}")
    if not 0 <= value <= _MAX_TEMPERATURE:
        raise ValueError(f"temperature must be 0-{_MAX_TEMPERATURE}, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class Command:
    """One request to publish on `device/<serial>/request`.

    `payload` is the complete JSON object, `{module: {"sequence_id": ..., "command": ...}}`.
    `expects_reply` is False for `pushall`, which is answered by a full status report instead.
    """

    module: str
    command: str
    sequence_id: str
    payload: dict[str, Any] = field(hash=False)
    qos: int = 0
    expects_reply: bool = True

    def encode(self) -> bytes:
        """Return the payload as compact UTF-8 JSON, as the printer expects it."""
        return json.dumps(self.payload, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Reply:
    """The printer's answer to a command: success, or failure with the printer's reason."""

    ok: bool
    reason: str | None
    data: Mapping[str, Any]


class CommandFactory:
    """Build commands with increasing sequence ids (one factory per printer connection)."""

    def __init__(self, start: int = 1) -> None:
        self._ids = itertools.count(max(0, int(start)))

    def _next_id(self) -> str:
        return str(next(self._ids))

    def _build(
        self,
        module: str,
        command: str,
        *,
        qos: int = 0,
        expects_reply: bool = True,
        **fields: Any,
    ) -> Command:
        sequence_id = self._next_id()
        body: dict[str, Any] = {"sequence_id": sequence_id, "command": command, **fields}
        return Command(
            module=module,
            command=command,
            sequence_id=sequence_id,
            payload={module: body},
            qos=qos,
            expects_reply=expects_reply,
        )

    def pushall(self) -> Command:
        """Ask for the full state; the answer is a full push_status, not a sequence-id reply."""
        return self._build("pushing", "pushall", version=1, push_target=1, expects_reply=False)

    def push_start(self) -> Command:
        """Restart the report stream another client stopped; answered by a full report."""
        return self._build("pushing", "start", expects_reply=False)

    def get_version(self) -> Command:
        """Ask for firmware versions and modules (model recognition, firmware sensor)."""
        return self._build("info", "get_version")

    def pause(self) -> Command:
        """Pause the current print (QoS 1: a lost pause must not go unnoticed)."""
        return self._build("print", "pause", param="", qos=1)

    def resume(self) -> Command:
        """Resume a paused print."""
        return self._build("print", "resume", param="", qos=1)

    def stop(self) -> Command:
        """Stop (cancel) the current print."""
        return self._build("print", "stop", param="", qos=1)

    def project_file(
        self,
        path: str,
        *,
        model: PrinterModel,
        plate: int = 1,
        ams_mapping: Sequence[int] = (),
        bed_leveling: bool = True,
        timelapse: bool = False,
    ) -> Command:
        """Print plate ``plate`` of a 3mf on the printer's storage (absolute ``path``).

        X1, P1 and A1 printers take the file as ``file:///sdcard/<path>``, later models as
        ``ftp:///<path>``. An AMS mapping lists, per filament of the file, the tray to use.
        """
        if not path.startswith("/") or not path.isprintable() or not path.endswith(".3mf"):
            raise ValueError("the file must be an absolute path to a .3mf on the printer")
        if ".." in path.split("/"):
            raise ValueError("the file path must not climb folders")
        if isinstance(plate, bool) or not 1 <= plate <= _MAX_PLATE:
            raise ValueError(f"plate must be between 1 and {_MAX_PLATE}")
        mapping = [int(tray) for tray in ams_mapping]
        if any(tray < -1 or tray > _MAX_TRAY for tray in mapping):
            raise ValueError("AMS trays are numbered from 0 (-1: unused)")
        scheme = "file:///sdcard" if model in SDCARD_URL_MODELS else "ftp://"
        name = path.rsplit("/", 1)[-1].removesuffix(".3mf").removesuffix(".gcode")
        return self._build(
            "print",
            "project_file",
            qos=1,
            param=f"Metadata/plate_{plate}.gcode",
            url=f"{scheme}{path}",
            subtask_name=name,
            project_id="0",
            profile_id="0",
            task_id="0",
            subtask_id="0",
            md5="",
            bed_type="auto",
            timelapse=timelapse,
            # pybambu sends "bed_leveling", OpenBambuAPI documents "bed_levelling": both go.
            bed_leveling=bed_leveling,
            bed_levelling=bed_leveling,
            flow_cali=True,
            vibration_cali=True,
            layer_inspect=True,
            use_ams=bool(mapping),
            ams_mapping=mapping,
        )

    def skip_objects(self, object_ids: Sequence[int]) -> Command:
        """Stop printing these objects of the current plate (ids from slice_info.config)."""
        ids = sorted({int(ident) for ident in object_ids})
        if not ids or ids[0] < 0 or len(ids) > _MAX_SKIP:
            raise ValueError(f"give between 1 and {_MAX_SKIP} object ids")
        return self._build("print", "skip_objects", qos=1, obj_list=ids)

    def print_speed(self, level: int) -> Command:
        """Select a speed profile: 1 silent, 2 standard, 3 sport, 4 ludicrous."""
        if not _whole(level) or level not in SPEED_LEVELS:
            raise ValueError(f"speed level must be one of {SPEED_LEVELS}, got {level!r}")
        return self._build("print", "print_speed", param=str(level))

    def gcode_line(self, gcode: str) -> Command:
        """Send raw G-code; a trailing newline is added when missing (the firmware needs it)."""
        if not isinstance(gcode, str) or not gcode.strip():
            raise ValueError("gcode must be a non-empty string")
        if len(gcode) > _MAX_GCODE:
            raise ValueError("gcode is too long")
        if not gcode.endswith("\n"):
            gcode += "\n"
        return self._build("print", "gcode_line", param=gcode)

    def set_nozzle_temperature(self, temperature: int, extruder: int | None = None) -> Command:
        """Set a nozzle target: G-code on single-nozzle printers, `set_nozzle_temp` per extruder.

        `extruder` (0 right, 1 left) is for dual-nozzle printers only, which take the target
        per extruder with QoS 1 as Bambu Studio sends it.
        """
        temperature = _check_temperature(temperature)
        if extruder is None:
            return self.gcode_line(f"M104 S{temperature}")
        if isinstance(extruder, bool) or extruder not in (0, 1):
            raise ValueError(f"extruder must be 0 or 1, got {extruder!r}")
        return self._build(
            "print",
            "set_nozzle_temp",
            extruder_index=extruder,
            target_temp=temperature,
            qos=1,
        )

    def set_bed_temperature(self, temperature: int) -> Command:
        """Set the bed target with M140 (every model takes it)."""
        return self.gcode_line(f"M140 S{_check_temperature(temperature)}")

    def set_chamber_temperature(self, temperature: int) -> Command:
        """Set the chamber heater's target (X1E, H2, X2D) with `set_ctt`, QoS 1."""
        temperature = _check_temperature(temperature)
        return self._build("print", "set_ctt", ctt_val=temperature, qos=1)

    def set_fan(self, fan: Fan, percent: int) -> Command:
        """Set a fan's speed with M106 P<fan> S<0-255>."""
        return self.gcode_line(f"M106 P{Fan(fan).value} S{fan_speed_value(percent)}")

    def set_airduct(self, mode: int) -> Command:
        """Switch the air duct (H2, P2S, X2D) to a mode of its `modeList` (`set_airduct`)."""
        if not _whole(mode) or not 0 <= mode <= _MAX_MODE:
            raise ValueError(f"air duct mode must be 0-{_MAX_MODE}, got {mode!r}")
        return self._build("print", "set_airduct", modeId=mode, submode=-1)

    def start_drying(
        self, ams_id: int, temperature: int, hours: int, *, rotate_tray: bool = False
    ) -> Command:
        """Start drying an AMS 2 Pro or AMS HT unit (`ams_filament_drying`, mode 1).

        The unit's own maximum (65 or 85 degC) is for the caller to check; the firmware ignores
        the request when `cooling_temp` is below 45, so 45 is sent.
        """
        ams_id = _check_ams_id(ams_id)
        temperature = _check_temperature(temperature)
        if temperature < DRYING_MIN_TEMPERATURE:
            raise ValueError(f"drying needs at least {DRYING_MIN_TEMPERATURE} degC")
        if not _whole(hours):
            raise TypeError(f"hours must be a whole number, got {hours!r}")
        if not DRYING_HOURS[0] <= hours <= DRYING_HOURS[1]:
            raise ValueError(f"drying lasts {DRYING_HOURS[0]}-{DRYING_HOURS[1]} hours, got {hours}")
        return self._drying(ams_id, temperature, hours, mode=1, rotate_tray=bool(rotate_tray))

    def stop_drying(self, ams_id: int) -> Command:
        """Stop drying an AMS unit (`ams_filament_drying`, mode 0)."""
        return self._drying(_check_ams_id(ams_id), 0, 0, mode=0, rotate_tray=False)

    def _drying(
        self, ams_id: int, temperature: int, hours: int, *, mode: int, rotate_tray: bool
    ) -> Command:
        return self._build(
            "print",
            "ams_filament_drying",
            ams_id=ams_id,
            temp=temperature,
            cooling_temp=DRYING_MIN_TEMPERATURE,
            duration=hours,
            humidity=0,
            mode=mode,
            rotate_tray=rotate_tray,
            filament="",
            close_power_conflict=False,
        )

    def ledctrl(self, node: str, on: bool) -> Command:
        """Switch a light (`chamber_light`, `work_light`, ...) on or off.

        The blink fields are required by the firmware even for plain on/off.
        """
        if not isinstance(node, str) or not node or len(node) > _MAX_NODE:
            raise ValueError("light node must be a short non-empty string")
        return self._build(
            "system",
            "ledctrl",
            led_node=node,
            led_mode="on" if on else "off",
            led_on_time=500,
            led_off_time=500,
            loop_times=0,
            interval_time=0,
        )


def _failure_reason(body: Mapping[str, Any], result: Any) -> str:
    reason = body.get("reason")
    if isinstance(reason, str) and reason.strip():
        return reason.strip()
    if isinstance(result, str) and result.strip():
        return result.strip()
    for key in ("err_code", "errno", "error_code"):
        code = body.get(key)
        if (
            isinstance(code, int | str)
            and not isinstance(code, bool)
            and str(code) not in ("", "0")
        ):
            return f"error {code}"
    return "failed"


def _error_code(body: Mapping[str, Any]) -> bool:
    code = body.get("err_code")
    return isinstance(code, int) and not isinstance(code, bool) and code != 0


def _same_id(value: Any, sequence_id: str) -> bool:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    return str(value) == sequence_id


def match_reply(command: Command, report: Mapping[str, Any]) -> Reply | None:
    """Return the reply to `command` if `report` is it, else None.

    A reply has the command's module and sequence_id (and, when present, the same command
    name). `result` "success" (any case) means success; a missing result counts as success
    unless a non-zero `err_code` says otherwise. Failures carry the printer's `reason`, or the
    result text or error code when the reason is empty. Never raises on odd reports.
    """
    received: object = report
    body = received.get(command.module) if isinstance(received, Mapping) else None
    if not isinstance(body, Mapping) or not _same_id(body.get("sequence_id"), command.sequence_id):
        return None
    name = body.get("command")
    if name is not None and name != command.command:
        return None
    result = body.get("result")
    if isinstance(result, str):
        ok = result.strip().lower() == "success"
    else:
        ok = result is None and not _error_code(body)
    return Reply(ok=ok, reason=None if ok else _failure_reason(body, result), data=body)


def needs_authorization(command: Command) -> bool:
    """Whether firmware with authorization control on refuses this command from us."""
    return command.module in _SIGNED_MODULES


def refused_for_authorization(reason: str) -> bool:
    """Whether a refusal's reason (see `match_reply`) is authorization control's error."""
    return str(AUTHORIZATION_ERROR) in reason or _AUTHORIZATION_REASON in reason.lower()
