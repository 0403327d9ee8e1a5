"""The printer's state, merged from its MQTT reports, with typed read-only views.

`PrinterState.apply()` merges every report, full or delta, into one state (`merge`) and tells
the caller whether anything changed, so Home Assistant writes entity state only when needed.
Views are frozen dataclasses (`views`) built from report values (`parsing`, `builders`,
`filament`), each declared once on PrinterState (`view_cache`): computed on first access,
cached, and rebuilt only when one of their inputs changed, so a four-field delta costs a few
microseconds.

Reports come from the network: nothing here raises on malformed input. Absent or malformed
fields give None; oversized strings and lists are dropped, never merged.
"""

from .merge import is_full_report
from .parsing import NOZZLE_TYPES, format_code
from .printer_state import VIEW_NAMES, PrinterState
from .tables import (
    ACTIVE_JOB_STATES,
    AIRDUCT_MODES,
    AMS_HT_FIRST_ID,
    AMS_LITE_FIRST_ID,
    CHAMBER_LIGHT2_NODE,
    CHAMBER_LIGHT_NODE,
    CHAMBER_LIGHT_NODES,
    ENDED_JOB_STATES,
    EXTERNAL_SPOOL_NOZZLE,
    EXTERNAL_TRAY_IDS,
    FUN_AUTHORIZATION_CONTROL,
    HMS_MODULES,
    HMS_SEVERITIES,
    MAX_DEPTH,
    MAX_KEY_LENGTH,
    MAX_KEYS,
    MAX_LIST,
    MAX_STRING,
    PRINTER_JOB_STATES,
    SPEED_PROFILES,
    STAGE_IDLE,
    STAGE_OPTIONS,
    STAGE_UNKNOWN,
    STAGES,
    GcodeState,
)
from .view_cache import View
from .views import (
    AirDuct,
    AmsUnit,
    Camera,
    Fans,
    Firmware,
    HmsMessage,
    Job,
    Nozzle,
    NozzleSpec,
    NozzleTemperature,
    PrintError,
    Reported,
    Speed,
    Temperatures,
    Tray,
)

__all__ = [
    "ACTIVE_JOB_STATES",
    "AIRDUCT_MODES",
    "AMS_HT_FIRST_ID",
    "AMS_LITE_FIRST_ID",
    "CHAMBER_LIGHT2_NODE",
    "CHAMBER_LIGHT_NODE",
    "CHAMBER_LIGHT_NODES",
    "ENDED_JOB_STATES",
    "EXTERNAL_SPOOL_NOZZLE",
    "EXTERNAL_TRAY_IDS",
    "FUN_AUTHORIZATION_CONTROL",
    "HMS_MODULES",
    "HMS_SEVERITIES",
    "MAX_DEPTH",
    "MAX_KEYS",
    "MAX_KEY_LENGTH",
    "MAX_LIST",
    "MAX_STRING",
    "NOZZLE_TYPES",
    "PRINTER_JOB_STATES",
    "SPEED_PROFILES",
    "STAGES",
    "STAGE_IDLE",
    "STAGE_OPTIONS",
    "STAGE_UNKNOWN",
    "VIEW_NAMES",
    "AirDuct",
    "AmsUnit",
    "Camera",
    "Fans",
    "Firmware",
    "GcodeState",
    "HmsMessage",
    "Job",
    "Nozzle",
    "NozzleSpec",
    "NozzleTemperature",
    "PrintError",
    "PrinterState",
    "Reported",
    "Speed",
    "Temperatures",
    "Tray",
    "View",
    "format_code",
    "is_full_report",
]
