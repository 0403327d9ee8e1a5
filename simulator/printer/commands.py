"""Control requests (`print.*`, `system.ledctrl`): what each does and the replies printers send."""

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeGuard

from .process import SPEED_MAGNITUDE, PrintProcess
from .reports import JsonDict
from .thermals import Thermals

# Firmware "authorization control" (2025): the reply real printers send to unsigned commands.
REJECT_REASON: Final = "mqtt message verify failed"
REJECT_ERR_CODE: Final = 84033543  # 0x0502_4007, HMS 0500_0500_0001_0007 on the screen
# Its bit in `fun` (hex text), and the `fun` of firmware whose template has none (pybambu's
# example of a printer in Developer mode) once authorization control is switched on.
FUN_AUTHORIZATION_CONTROL: Final = 0x20000000
_FUN_WITHOUT_TEMPLATE: Final = "3EC18FFF9CFF"
# Under authorization control the light still answers; print control is refused.
_SIGNED_MODULES: Final = frozenset({"print"})

_LED_MODES: Final = ("on", "off", "flashing")
_FAN_BY_INDEX: Final[Mapping[int, str]] = {1: "part", 2: "aux", 3: "chamber"}  # M106 P<n>
_MAX_GEAR: Final = 15

type _Command = Callable[["Commands", Mapping[str, Any]], str | None]


def _is_number(value: object) -> TypeGuard[int | float]:
    """Whether a request field is a JSON number (not a boolean)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: object) -> TypeGuard[int]:
    """Whether a request field is a whole JSON number (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool)


def failure(module: str, command: str, sequence_id: str, reason: str) -> JsonDict:
    """Return the reply to a refused request."""
    return {
        module: {
            "command": command,
            "sequence_id": sequence_id,
            "reason": reason,
            "result": "failed",
        }
    }


def success(module: str, command: str, sequence_id: str, body: Mapping[str, Any]) -> JsonDict:
    """Return the reply to a carried-out request: its scalar fields echoed, then the result."""
    reply: JsonDict = {"command": command, "sequence_id": sequence_id}
    for key, value in body.items():
        if key not in reply and isinstance(value, str | int | float | bool):
            reply[key] = value
    reply |= {"reason": "", "result": "success"}
    return {module: reply}


def light_mode(report: JsonDict, node: str) -> str | None:
    """Return the mode ("on", "off", "flashing") of a light node, None if absent."""
    for light in report.get("lights_report", []):
        if light.get("node") == node:
            return str(light.get("mode"))
    return None


class Commands:
    """Carries out control requests on one printer's job, heaters, fans and lights."""

    def __init__(
        self,
        process: PrintProcess,
        thermals: Thermals,
        report: JsonDict,
        start_job: Callable[[str], None],
        dry: Callable[[int, float, float], str | None],
    ) -> None:
        self._process = process
        self._dry = dry
        self._thermals = thermals
        self._report = report
        self._start_job = start_job
        self._authorization_control = False
        if "fun" in report:
            self._write_fun()

    @property
    def authorization_control(self) -> bool:
        """Whether print control needs Bambu's signature (off: Developer mode, or old firmware)."""
        return self._authorization_control

    @authorization_control.setter
    def authorization_control(self, value: bool) -> None:
        self._authorization_control = bool(value)
        self._write_fun()

    def _write_fun(self) -> None:
        """Show the setting in `fun` the way the firmware does: one bit of a hex number."""
        if "fun" not in self._report and not self._authorization_control:
            return  # firmware from before authorization control sends no `fun`
        fun = int(str(self._report.get("fun", _FUN_WITHOUT_TEMPLATE)), 16)
        if self._authorization_control:
            fun |= FUN_AUTHORIZATION_CONTROL
        else:
            fun &= ~FUN_AUTHORIZATION_CONTROL
        self._report["fun"] = format(fun, "X")

    def refuses(self, module: str) -> bool:
        """Whether a request of this module is refused for want of Bambu's signature."""
        return self._authorization_control and module in _SIGNED_MODULES

    @staticmethod
    def supports(module: str, command: str) -> bool:
        """Whether the printer knows this control request."""
        return (module, command) in _COMMANDS

    def run(self, module: str, command: str, body: Mapping[str, Any]) -> str | None:
        """Carry out a supported request; return why it failed, or None."""
        return _COMMANDS[module, command](self, body)

    def _pause(self, body: Mapping[str, Any]) -> str | None:
        return self._process.pause()

    def _resume(self, body: Mapping[str, Any]) -> str | None:
        return self._process.resume()

    def _stop(self, body: Mapping[str, Any]) -> str | None:
        return self._process.stop()

    def _print_speed(self, body: Mapping[str, Any]) -> str | None:
        try:
            level = int(str(body.get("param", "")).strip())
        except ValueError:
            level = 0
        if level not in SPEED_MAGNITUDE:
            return f"invalid speed level: {body.get('param')!r}"
        return self._process.set_speed(level)

    def _gcode_line(self, body: Mapping[str, Any]) -> str | None:
        param = body.get("param")
        if not isinstance(param, str) or not param.strip():
            return "empty gcode"
        for raw in param.replace("\\n", "\n").splitlines():
            self._run_gcode(raw.split(";", 1)[0].split())
        return None

    def _run_gcode(self, words: list[str]) -> None:
        """Run the heater and fan G-codes (M104/M109, M140/M190, M106/M107); ignore the rest."""
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
        thermals = self._thermals
        if code in ("M104", "M109") and value is not None:
            nozzle = int(args.get("T", 0)) % len(thermals.nozzles)
            thermals.nozzle_targets[nozzle] = max(0.0, value)
        elif code in ("M140", "M190") and value is not None:
            thermals.bed_target = max(0.0, value)
        elif code in ("M106", "M107"):
            fan = _FAN_BY_INDEX.get(int(args.get("P", 1)))
            gear = (
                0 if code == "M107" or value is None else round(min(255, value) / 255 * _MAX_GEAR)
            )
            if fan is not None:
                self._process.fan_override[fan] = max(0, gear)

    def _set_nozzle_temp(self, body: Mapping[str, Any]) -> str | None:
        index, target = body.get("extruder_index"), body.get("target_temp")
        nozzles = self._thermals.nozzle_targets
        if not _is_integer(index) or not 0 <= index < len(nozzles):
            return f"invalid extruder_index: {index!r}"
        if not _is_number(target):
            return f"invalid target_temp: {target!r}"
        nozzles[index] = max(0.0, float(target))
        return None

    def _set_ctt(self, body: Mapping[str, Any]) -> str | None:
        value = body.get("ctt_val")
        if not _is_number(value):
            return f"invalid ctt_val: {value!r}"
        self._thermals.chamber_target = max(0.0, float(value))
        return None

    def _ams_filament_drying(self, body: Mapping[str, Any]) -> str | None:
        ams_id, mode = body.get("ams_id"), body.get("mode")
        if not _is_integer(ams_id):
            return f"invalid ams_id: {ams_id!r}"
        if mode == 0:
            return self._dry(ams_id, 0.0, 0.0)
        temp, hours = body.get("temp"), body.get("duration")
        if mode != 1 or not _is_number(temp) or not _is_number(hours):
            return f"invalid drying request: mode {mode!r}, temp {temp!r}, duration {hours!r}"
        return self._dry(ams_id, float(hours), float(temp))

    def _set_airduct(self, body: Mapping[str, Any]) -> str | None:
        mode = body.get("modeId")
        device = self._report.get("device")
        airduct = device.get("airduct") if isinstance(device, dict) else None
        if not isinstance(airduct, dict):
            return "no air duct"
        offered = [item.get("modeId") for item in airduct.get("modeList", [])]
        if isinstance(mode, bool) or mode not in offered:
            return f"invalid modeId: {mode!r}"
        airduct["modeCur"] = mode
        return None

    def _project_file(self, body: Mapping[str, Any]) -> str | None:
        if self._process.active:
            return f"cannot start a job: gcode_state is {self._process.state}"
        name = body.get("subtask_name")
        if not isinstance(name, str) or not name:
            url = str(body.get("url", "") or body.get("param", ""))
            name = url.rsplit("/", 1)[-1].removesuffix(".3mf").removesuffix(".gcode") or "job"
        self._start_job(name)
        return None

    def _skip_objects(self, body: Mapping[str, Any]) -> str | None:
        """Stop printing the listed objects; the report's `s_obj` lists every skipped id."""
        job = self._process.job
        if job is None or not self._process.active:
            return f"cannot skip objects: gcode_state is {self._process.state}"
        ids = body.get("obj_list")
        if not isinstance(ids, list) or not ids or not all(type(i) is int for i in ids):
            return "invalid obj_list"
        job.skipped[:] = sorted({*job.skipped, *ids})
        return None

    def _ledctrl(self, body: Mapping[str, Any]) -> str | None:
        node, mode = body.get("led_node"), body.get("led_mode")
        if mode not in _LED_MODES:
            return f"invalid led_mode: {mode!r}"
        for light in self._report.get("lights_report", []):
            if light.get("node") == node:
                light["mode"] = mode
                return None
        return f"invalid led_node: {node!r}"


_COMMANDS: Final[Mapping[tuple[str, str], _Command]] = {
    ("print", "pause"): Commands._pause,
    ("print", "resume"): Commands._resume,
    ("print", "stop"): Commands._stop,
    ("print", "print_speed"): Commands._print_speed,
    ("print", "gcode_line"): Commands._gcode_line,
    ("print", "set_nozzle_temp"): Commands._set_nozzle_temp,
    ("print", "set_ctt"): Commands._set_ctt,
    ("print", "ams_filament_drying"): Commands._ams_filament_drying,
    ("print", "set_airduct"): Commands._set_airduct,
    ("print", "project_file"): Commands._project_file,
    ("print", "skip_objects"): Commands._skip_objects,
    ("system", "ledctrl"): Commands._ledctrl,
}
