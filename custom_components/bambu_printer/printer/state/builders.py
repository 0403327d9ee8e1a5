"""Building the views from report values: one function per view, one parameter per input.

A builder's parameters are exactly what it reads, so a cached view rebuilt only when its
inputs differ cannot miss a change. Builders run on the event loop after reports: they are
written for speed (exact type checks, positional dataclass calls) and never raise.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from ..models import DoorSensor, PrinterModel
from .parsing import (
    dict_or_none,
    fan_percent,
    float_or_none,
    format_code,
    int_in_range,
    int_or_none,
    list_or_empty,
    nested,
    nonempty_str,
    nozzle_type_name,
    parse_flag,
    unpack_temp,
    utc_from_epoch,
)
from .tables import (
    ACTIVE_JOB_STATES,
    CHAMBER_LIGHT_NODES,
    DOOR_OPEN_BIT,
    FUN_AUTHORIZATION_CONTROL,
    HMS_MODULES,
    HMS_SEVERITIES,
    SPEED_PROFILES,
    STAGE_IDLE,
    STAGE_UNKNOWN,
    STAGES,
    GcodeState,
)
from .views import (
    AirDuct,
    Camera,
    Fans,
    Firmware,
    HmsMessage,
    Job,
    Nozzle,
    NozzleSpec,
    NozzleTemperature,
    PrintError,
    Speed,
    Temperatures,
)

_GCODE_STATES: Final = {state.value.upper(): state for state in GcodeState}
_DONE_STATES: Final = frozenset({GcodeState.IDLE, GcodeState.FINISH, GcodeState.FAILED})
_UPDATE_OFFERED: Final = 1  # `upgrade_state.new_version_state`: 1 offered, 2 (or 0) none
# `upgrade_state.status` values meaning an update is being downloaded or written.
_UPDATING: Final = frozenset(
    {"DOWNLOADING", "FLASHING", "UPGRADE_REQUEST", "PRE_FLASH_START", "PRE_FLASH_SUCCESS"}
)
_LIGHT_OFF: Final = "off"  # `lights_report` modes: "on", "off", "flashing"
_MISSING: Final[Any] = object()


class DeviceTemps(NamedTuple):
    """Temperatures found in the `device` object (X1/H2 firmware)."""

    nozzles: tuple[NozzleTemperature, ...]
    active: int | None
    bed: float | None
    bed_target: float | None
    chamber: float | None
    chamber_target: float | None


def build_device_temps(device: Any) -> DeviceTemps:
    """Read the temperatures of `device.extruder`, `device.bed` and `device.ctc` (H2D)."""
    if type(device) is not dict:
        return _NO_DEVICE_TEMPS
    extruder = device.get("extruder")
    nozzles = []
    active = None
    if type(extruder) is dict:
        for position, item in enumerate(list_or_empty(extruder.get("info"))):
            if type(item) is not dict:
                continue
            index = int_in_range(item.get("id"), 0, 255)
            current, target = unpack_temp(item.get("temp"))
            nozzles.append(NozzleTemperature(position if index is None else index, current, target))
        state = int_or_none(extruder.get("state"))
        if state is not None and state >= 0 and nozzles:
            wanted = (state >> 4) & 0xF
            if any(nozzle.index == wanted for nozzle in nozzles):
                active = wanted
    packed = nested(device.get("bed"), "info", "temp")
    bed_current, bed_goal = unpack_temp(device.get("bed_temp") if packed is None else packed)
    packed = nested(device.get("ctc"), "info", "temp")
    chamber, chamber_goal = unpack_temp(device.get("cham_temp") if packed is None else packed)
    return DeviceTemps(tuple(nozzles), active, bed_current, bed_goal, chamber, chamber_goal)


_NO_DEVICE_TEMPS: Final = DeviceTemps((), None, None, None, None, None)


def build_temperatures(  # noqa: PLR0917
    nozzle_temper: Any,
    nozzle_target: Any,
    bed_temper: Any,
    bed_target: Any,
    chamber_temper: Any,
    device: DeviceTemps,
    model: PrinterModel | None,
) -> Temperatures:
    """Take the nozzle in use from `device.extruder` on dual-nozzle printers.

    With one extruder the classic fields are it (and more precise than the packed integers);
    `device` fills in whatever they lack.
    """
    nozzle = target = None
    active = device.active
    in_use = None
    if active is not None:
        for item in device.nozzles:
            if item.index == active:
                in_use = item
                break
    if in_use is not None and len(device.nozzles) > 1:
        nozzle, target = in_use.current, in_use.target
    if nozzle is None:
        nozzle = float_or_none(nozzle_temper)
        if nozzle is None and in_use is not None:
            nozzle = in_use.current
    if target is None:
        target = float_or_none(nozzle_target)
        if target is None and in_use is not None:
            target = in_use.target
    bed = float_or_none(bed_temper)
    bed_goal = float_or_none(bed_target)
    chamber = float_or_none(chamber_temper)
    if chamber is None:
        chamber = device.chamber
    chamber_target = device.chamber_target
    if model is not None and model is not PrinterModel.UNKNOWN and not model.chamber_sensor:
        chamber = chamber_target = None  # P1/A1 report a meaningless chamber value
    return Temperatures(  # positional: keyword calls cost more here
        nozzle,  # nozzle
        target,  # nozzle_target
        device.bed if bed is None else bed,  # bed
        device.bed_target if bed_goal is None else bed_goal,  # bed_target
        chamber,  # chamber
        device.nozzles,  # nozzles
        active,  # active_nozzle
        chamber_target,  # chamber_target
    )


def build_door(
    stat: Any, home_flag: Any, model: PrinterModel | None, versions: Mapping[str, Mapping[str, Any]]
) -> bool | None:
    """Whether the door is open, from the field this model reports it in; None without one."""
    if model is None:
        return None
    ota = versions.get("ota")
    source = model.door_sensor(nonempty_str(ota.get("sw_ver")) if ota is not None else None)
    flags: int | None = None
    if source is DoorSensor.STAT:
        if type(stat) is str and 0 < len(stat) <= _MAX_FLAG_DIGITS:
            try:
                flags = int(stat, 16)
            except ValueError:
                flags = None
    elif source is DoorSensor.HOME_FLAG:
        flags = int_or_none(home_flag)
    return None if flags is None else bool(flags & DOOR_OPEN_BIT)


_MAX_FLAG_DIGITS: Final = 32


def build_job(  # noqa: PLR0917
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
    """Read the job; the end time counts from when the remaining time was last reported.

    The remaining time is the printer's estimate while a job is active, 0 once it finished,
    and None otherwise (idle, stopped or failed), as is the end time outside an active job.
    """
    state = None
    if type(gcode_state) is str:
        state = _GCODE_STATES.get(gcode_state)
        if state is None:
            state = _GCODE_STATES.get(gcode_state.strip().upper(), GcodeState.UNKNOWN)
    code = int_or_none(stg_cur)
    stage: str | None = None
    if code is not None:
        if code == 0 and state in _DONE_STATES:
            stage = STAGE_IDLE  # an idle printer reports stage 0 ("printing") too
        else:
            stage = STAGES.get(code, STAGE_UNKNOWN)
    # Printers keep their last estimate after a stop and while idle: show it only for a job.
    remaining = None
    end_time = None
    if state in ACTIVE_JOB_STATES:
        remaining = int_in_range(mc_remaining_time, 0, 10**7)
        if remaining is not None and remaining_at is not None:
            end_time = utc_from_epoch(remaining_at + remaining * 60)
    elif state is GcodeState.FINISH:
        remaining = 0
    start = int_or_none(gcode_start_time)
    layers = dict_or_none(layers_3d)
    if layers is not None:
        layer = int_in_range(layers.get("layer_num", layer_num), 0, 10**6)
        total = int_in_range(layers.get("total_layer_num", total_layer_num), 0, 10**6)
    else:
        layer = int_in_range(layer_num, 0, 10**6)
        total = int_in_range(total_layer_num, 0, 10**6)
    return Job(  # positional: keyword calls cost more here
        state,  # state
        code,  # stage_code
        stage,  # stage
        int_in_range(mc_percent, 0, 100),  # percent
        remaining,  # remaining_minutes
        end_time,  # end_time
        utc_from_epoch(start) if start is not None and start > 0 else None,  # start_time
        layer,  # layer
        total,  # total_layers
        nonempty_str(gcode_file),  # file
        nonempty_str(subtask_name),  # name
        nonempty_str(print_type),  # print_type
    )


def build_speed(spd_lvl: Any, spd_mag: Any) -> Speed:
    """Read the speed level (1-4) and percentage."""
    level = int_or_none(spd_lvl)
    profile = SPEED_PROFILES.get(level) if level is not None else None
    return Speed(
        level=level if profile is not None else None,
        profile=profile,
        percent=int_in_range(spd_mag, 0, 1000),
    )


def build_fans(cooling: Any, aux: Any, chamber: Any, heatbreak: Any) -> Fans:
    """Convert the four fan gears to percent."""
    return Fans(
        fan_percent(cooling), fan_percent(aux), fan_percent(chamber), fan_percent(heatbreak)
    )


def build_airduct(airduct: Any) -> AirDuct | None:
    """Read `device.airduct`: `modeCur` and the `modeId` of each `modeList` entry."""
    if type(airduct) is not dict:
        return None
    modes = []
    for item in list_or_empty(airduct.get("modeList")):
        if type(item) is dict:
            mode = int_in_range(item.get("modeId"), 0, 255)
            if mode is not None and mode not in modes:
                modes.append(mode)
    return AirDuct(int_in_range(airduct.get("modeCur"), 0, 255), tuple(modes))


def build_lights(report: Any) -> Mapping[str, str]:
    """Map each light node in `lights_report` to its mode."""
    lights: dict[str, str] = {}
    for item in list_or_empty(report):
        if type(item) is dict:
            node = nonempty_str(item.get("node"))
            mode = nonempty_str(item.get("mode"))
            if node is not None and mode is not None:
                lights[node] = mode
    return MappingProxyType(lights)


def build_chamber_light(lights: Mapping[str, str]) -> bool | None:
    """Whether a chamber light bar is on (or flashing); None when the printer has none."""
    modes = [lights[node] for node in CHAMBER_LIGHT_NODES if node in lights]
    return any(mode != _LIGHT_OFF for mode in modes) if modes else None


def build_chamber_light_nodes(lights: Mapping[str, str]) -> tuple[str, ...]:
    """Return the chamber light nodes the printer reports (two light bars on H2 printers)."""
    return tuple(node for node in CHAMBER_LIGHT_NODES if node in lights)


def build_hms(report: Any) -> tuple[HmsMessage, ...]:
    """Decode `hms[]` into messages with their wiki code, severity and module."""
    messages = []
    for item in list_or_empty(report):
        if type(item) is not dict:
            continue
        attr = int_or_none(item.get("attr"))
        code = int_or_none(item.get("code"))
        if attr is None or code is None:
            continue
        attr &= 0xFFFFFFFF
        code &= 0xFFFFFFFF
        full = f"{format_code(attr)}_{format_code(code)}"
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


def build_print_error(value: Any) -> PrintError | None:
    """Decode `print_error`; None when not reported."""
    code = int_or_none(value)
    if code is None:
        return None
    code &= 0xFFFFFFFF
    return PrintError(code, format_code(code))


def build_camera(ipcam: Any) -> Camera:
    """Read `ipcam`: RTSPS is on unless `rtsp_url` is "disable" (or not a string)."""
    cam = dict_or_none(ipcam) or {}
    url = cam.get("rtsp_url", _MISSING)
    enabled: bool | None = None  # the printer has not said
    if url is not _MISSING:
        enabled = type(url) is str and url.strip().lower() not in ("", "disable", "disabled")
    return Camera(
        rtsp_enabled=enabled,
        rtsp_url=url if enabled else None,
        recording=parse_flag(cam.get("ipcam_record")),
        timelapse=parse_flag(cam.get("timelapse")),
        resolution=nonempty_str(cam.get("resolution")),
    )


def build_nozzle(diameter: Any, nozzle_type: Any, nozzle: Any, device: DeviceTemps) -> Nozzle:
    """Read each of `device.nozzle.info[]`; the installed nozzle is the extruder in use's."""
    specs = []
    if type(nozzle) is dict:
        for position, item in enumerate(list_or_empty(nozzle.get("info"))):
            if type(item) is dict:
                index = int_in_range(item.get("id"), 0, 255)
                specs.append(
                    NozzleSpec(
                        index=position if index is None else index,
                        diameter=float_or_none(item.get("diameter")),
                        type=nozzle_type_name(item.get("type")),
                    )
                )
    wanted = 0 if device.active is None else device.active
    spec = next((spec for spec in specs if spec.index == wanted), None)
    if spec is not None and (spec.diameter is not None or spec.type is not None):
        return Nozzle(spec.diameter, spec.type, tuple(specs))
    return Nozzle(float_or_none(diameter), nozzle_type_name(nozzle_type), tuple(specs))


def build_firmware(upgrade_state: Any, versions: Mapping[str, Mapping[str, Any]]) -> Firmware:
    """Read the printer's offer: `new_version_state` 1 means one, the modules say for what."""
    ota = versions.get("ota")
    version = nonempty_str(ota.get("sw_ver")) if ota is not None else None
    upgrade = dict_or_none(upgrade_state) or {}
    status = upgrade.get("status")
    updating = type(status) is str and status in _UPDATING
    progress = int_in_range(upgrade.get("progress"), 0, 100) if updating else None
    offered = int_or_none(upgrade.get("new_version_state"))
    if offered is None:
        return Firmware(version, None, None, None, updating, progress)
    if offered != _UPDATE_OFFERED:
        return Firmware(version, False, None, False, updating, progress)
    new_version = None
    ams = nonempty_str(upgrade.get("ams_new_version_number")) is not None
    for item in list_or_empty(upgrade.get("new_ver_list")):
        if type(item) is not dict:
            continue
        name = item.get("name")
        if name == "ota":
            new_version = nonempty_str(item.get("new_ver"))
        elif type(name) is str and name.startswith("ams"):
            ams = True
    if new_version is None:
        new_version = nonempty_str(upgrade.get("ota_new_version_number"))
    # An offer naming no module at all is taken for the printer's own firmware.
    main = new_version != version if new_version is not None else not ams
    return Firmware(version, main, new_version if main else None, ams, updating, progress)


def build_authorization_control(fun: Any) -> bool | None:
    """Read the authorization-control bit of `fun` (hex text); None when not reported."""
    if type(fun) is str:
        try:
            value = int(fun.strip(), 16)
        except ValueError:
            return None
    elif type(fun) is int:
        value = fun
    else:
        return None
    return bool(value & FUN_AUTHORIZATION_CONTROL)
