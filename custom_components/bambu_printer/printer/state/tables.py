"""Fixed facts of the report format: size limits, job states, stage codes, named codes."""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

MAX_STRING: Final = 64 * 1024  # longer strings inside a report are dropped
MAX_LIST: Final = 1000  # longer lists inside a report are dropped
MAX_KEYS: Final = 1000  # objects with more keys are dropped; state objects stop growing there
MAX_DEPTH: Final = 32  # real reports nest about 6 levels
MAX_KEY_LENGTH: Final = 1024  # field names are short; longer keys are dropped


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


# Job states in which a job is under way: Bambu Studio lets it be stopped in these.
ACTIVE_JOB_STATES: Final = frozenset(
    {GcodeState.PREPARE, GcodeState.RUNNING, GcodeState.PAUSE, GcodeState.SLICING}
)
# The same without SLICING: the job is on the printer, under its name and file.
PRINTER_JOB_STATES: Final = ACTIVE_JOB_STATES - {GcodeState.SLICING}
# How the printer says a job ended: FINISH done, FAILED stopped (by a fault or the user).
ENDED_JOB_STATES: Final = frozenset({GcodeState.FINISH, GcodeState.FAILED})


STAGE_IDLE: Final = "idle"
STAGE_UNKNOWN: Final = "unknown"
# `stg_cur` codes: Bambu Studio's stage list (`get_stage_string`), with the slugs ha-bambulab's
# pybambu established (spelling included), so users' automations keep working; -1 (X1) and
# 255 (P1) mean no stage. tests/printer/test_state_stages.py holds the reference table.
STAGES: Final[Mapping[int, str]] = MappingProxyType(
    {
        -1: STAGE_IDLE,
        255: STAGE_IDLE,
        0: "printing",
        1: "auto_bed_leveling",
        2: "heatbed_preheating",
        3: "sweeping_xy_mech_mode",
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
        44: "check_plaform",
        45: "check_birdeye_camera_position",
        46: "calibrate_birdeye_camera",
        47: "bed_level_phase_1",
        48: "bed_level_phase_2",
        49: "heating_chamber",
        50: "heated_bedcooling",
        51: "print_calibration_lines",
        52: "check_material",
        53: "calibrating_live_view_camera",
        54: "waiting_for_heatbed_temperature",
        55: "check_material_position",
        56: "calibrating_cutter_model_offset",
        57: "measuring_surface",
        58: "thermal_preconditioning",
        59: "homing_blade_holder",
        60: "calibrating_camera_offset",
        61: "calibrating_blade_holder_position",
        62: "hotend_pick_place_test",
        63: "waiting_chamber_temperature_equalize",
        64: "preparing_hotend",
        65: "calibrating_detection_nozzle_clumping",
        66: "purifying_chamber_air",
        67: "measuring_rotary_attachment",
        68: "moving_toolhead_above_purge_chute",
        69: "cooling_nozzle",
        70: "moving_toolhead_to_center_of_heatbed",
        71: "active_arc_fitting",
        72: "hotend_type_detection",
        73: "build_plate_alignment_detection",
        74: "heatbed_surface_foreign_object_detection",
        75: "heatbed_underside_foreign_object_detection",
        76: "pre_extrusion_before_printing",
        77: "preparing_ams",
    }
)
# Every value `Job.stage` can take, for an enum sensor's options.
STAGE_OPTIONS: Final = tuple(sorted({*STAGES.values(), STAGE_UNKNOWN}))

# `device.airduct` mode ids.
AIRDUCT_MODES: Final[Mapping[int, str]] = MappingProxyType({0: "cooling", 1: "heating", 2: "laser"})
SPEED_PROFILES: Final[Mapping[int, str]] = MappingProxyType(
    {1: "silent", 2: "standard", 3: "sport", 4: "ludicrous"}
)

# HMS severity is the high 16 bits of `code`; the module is the high byte of `attr`.
HMS_SEVERITIES: Final[Mapping[int, str]] = MappingProxyType(
    {1: "fatal", 2: "serious", 3: "common", 4: "info"}
)
HMS_MODULES: Final[Mapping[int, str]] = MappingProxyType(
    {
        0x03: "mc",
        0x05: "mainboard",
        0x07: "ams",
        0x08: "toolhead",
        0x0C: "xcam",
        0x12: "ams",
        0x18: "ams",
    }
)

EXTERNAL_TRAY_IDS: Final = (254, 255)  # vt_tray / vir_slot ids
AMS_HT_FIRST_ID: Final = 128  # AMS HT units are numbered from here; AMS units from 0

# The chamber light's node name, in `lights_report` and in `ledctrl` commands; H2 printers
# have a second light bar, switched on its own.
CHAMBER_LIGHT_NODE: Final = "chamber_light"
CHAMBER_LIGHT2_NODE: Final = "chamber_light2"
CHAMBER_LIGHT_NODES: Final = (CHAMBER_LIGHT_NODE, CHAMBER_LIGHT2_NODE)

# The bit of `fun` (a hex string) that is set while the firmware's authorization control is
# on: control commands not signed by Bambu's own apps are refused (Developer mode clears it).
FUN_AUTHORIZATION_CONTROL: Final = 0x20000000

# Which extruder an external spool feeds on dual-nozzle printers: 255 the main (right, 0),
# 254 the deputy (left, 1). BambuStudio's VIRTUAL_TRAY_MAIN_ID / VIRTUAL_TRAY_DEPUTY_ID.
EXTERNAL_SPOOL_NOZZLE: Final[Mapping[int, int]] = MappingProxyType({255: 0, 254: 1})
AMS_LITE_FIRST_ID: Final = 16  # the A2L numbers its AMS lite 16 (module "ams_f1/16")
DOOR_OPEN_BIT: Final = 0x00800000  # in `stat` (H2, P2S, X2D) or `home_flag` (X1)
