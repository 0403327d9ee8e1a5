"""PrinterState: a printer's reports merged into one state, and the views declared on it."""

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import fields
from types import MappingProxyType
from typing import Any, Final

from ..models import PrinterModel, identify_from_version
from .builders import (
    build_airduct,
    build_authorization_control,
    build_camera,
    build_chamber_light,
    build_chamber_light_nodes,
    build_device_temps,
    build_door,
    build_fans,
    build_firmware,
    build_hms,
    build_job,
    build_lights,
    build_nozzle,
    build_print_error,
    build_speed,
    build_temperatures,
)
from .filament import (
    AmsViews,
    build_active_slot,
    build_ams_modules,
    build_external_spools,
    find_active_tray,
)
from .merge import SCALAR_TYPES, merge_report
from .parsing import parse_flag, parse_id_list, parse_wifi_dbm
from .tables import MAX_LIST
from .view_cache import Build, View, ViewTable, path, present, state_value
from .views import REPORT_FIELD, Reported

_LOGGER = logging.getLogger(__name__)

# The field whose every change stamps the time the estimated end time counts from.
_REMAINING_TIME: Final = "mc_remaining_time"
# View inputs the state keeps itself, beside the report.
_MODEL: Final = state_value(lambda state: state._model, versions=True)
_VERSIONS: Final = state_value(lambda state: state._versions_view, versions=True)
_REMAINING_AT: Final = state_value(lambda state: state._remaining_at, keys=(_REMAINING_TIME,))
_AMS_VIEWS: Final = state_value(lambda state: state._ams_views)  # never replaced but by a reset


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
        self._model: PrinterModel | None = None
        self._revision = 0
        self._remaining_at: float | None = None
        self._built: list[Build] = _VIEWS.no_builds()
        self._ams_views = AmsViews()

    # ---------------------------------------------------------------- views

    _device_temps = View(build_device_temps, "device", doc="Temperatures in `device` (H2D).")
    temperatures = View(
        build_temperatures,
        "nozzle_temper",
        "nozzle_target_temper",
        "bed_temper",
        "bed_target_temper",
        "chamber_temper",
        _device_temps,
        _MODEL,
        doc="Nozzle, bed and chamber temperatures (and H2D's two nozzles).",
    )
    job = View(
        build_job,
        "gcode_state",
        "stg_cur",
        "mc_percent",
        _REMAINING_TIME,
        "layer_num",
        "total_layer_num",
        "3D",
        "gcode_file",
        "subtask_name",
        "gcode_start_time",
        "print_type",
        _REMAINING_AT,
        doc="Job state, stage, progress, layers, times and names.",
    )
    speed = View(build_speed, "spd_lvl", "spd_mag", doc="Speed profile and percentage.")
    fans = View(
        build_fans,
        "cooling_fan_speed",
        "big_fan1_speed",
        "big_fan2_speed",
        "heatbreak_fan_speed",
        doc="Fan speeds in percent.",
    )
    airduct = View(
        build_airduct,
        path("device", "airduct"),
        doc="The air duct's mode and the modes offered; None on printers without one.",
    )
    wifi_dbm = View(parse_wifi_dbm, "wifi_signal", doc="Wi-Fi signal strength in dBm.")
    lights = View(
        build_lights, "lights_report", doc='Light node -> mode ("on", "off", "flashing").'
    )
    chamber_light = View(
        build_chamber_light, lights, doc="Whether a chamber light bar is on; None without one."
    )
    chamber_light_nodes = View(
        build_chamber_light_nodes, lights, doc="The chamber light nodes, switched together."
    )
    hms = View(build_hms, "hms", doc="Current health-management messages.")
    print_error = View(
        build_print_error,
        "print_error",
        doc="The current print error (code 0 = none); None when not reported.",
    )
    sdcard = View(parse_flag, "sdcard", doc="Whether an SD card is inserted.")
    skipped_objects = View(
        parse_id_list, "s_obj", doc="Ids of the current job's objects skipped (skip_objects)."
    )
    door_open = View(
        build_door,
        "stat",
        "home_flag",
        _MODEL,
        _VERSIONS,
        doc="Whether the door is open; None on models without a door sensor.",
    )
    camera = View(build_camera, "ipcam", doc="Camera settings (RTSPS state).")
    nozzle = View(
        build_nozzle,
        "nozzle_diameter",
        "nozzle_type",
        path("device", "nozzle"),
        _device_temps,
        doc="Installed nozzle (the extruder in use's) diameter and type, and each extruder's.",
    )
    firmware = View(
        build_firmware,
        "upgrade_state",
        _VERSIONS,
        doc="Main firmware version and update availability.",
    )
    _active_slot = View(
        build_active_slot,
        "vt_tray",
        "vir_slot",
        path("ams", "tray_now"),
        path("device", "extruder"),
        doc="The slot feeding the extruder in use: (ams id, tray id) or (None, spool id).",
    )
    _ams_modules = View(build_ams_modules, _VERSIONS, doc="AMS unit id -> (kind, firmware).")
    ams = View(
        AmsViews.build,
        _AMS_VIEWS,
        path("ams", "ams"),
        _active_slot,
        _ams_modules,
        doc="AMS units with their trays, in report order.",
    )
    external_spools = View(
        build_external_spools,
        "vt_tray",
        "vir_slot",
        _active_slot,
        doc="External spool holders (`vt_tray`, or H2D's `vir_slot[]`).",
    )
    active_tray = View(
        find_active_tray,
        _active_slot,
        ams,
        external_spools,
        doc="The AMS tray or external spool feeding the extruder in use, if known.",
        by_identity=True,
    )
    authorization_control = View(
        build_authorization_control,
        "fun",
        doc="Whether the printer refuses unsigned control commands; None when it does not say.",
    )
    reported = View(
        Reported,
        *(present(flag.metadata[REPORT_FIELD]) for flag in fields(Reported)),
        doc="Which optional readings the printer reports at all.",
    )

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

    def raw_report(self) -> dict[str, Mapping[str, Any]]:
        """Return the merged `print` object and the get_version modules, read-only (diagnostics)."""
        return {"print": self._print_view, "versions": self._versions_view}

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
            self._forget_views(_VIEWS.names)
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
        report = self._print
        fields = len(report)
        changed = merge_report(report, body)
        if not changed:
            return False
        if len(report) != fields:
            self._forget_views(_VIEWS.new_field_views)
        cached = self.__dict__
        stale_by_key = _VIEWS.stale_by_key
        for key in changed:
            for name in stale_by_key.get(key, ()):
                cached.pop(name, None)
        if _REMAINING_TIME in changed:
            self._remaining_at = time.time() if now is None else now
        return True

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
                and (type(value) in SCALAR_TYPES or (type(value) is str and len(value) <= 256))
            }
            versions[name] = MappingProxyType(fields)
        if not versions or versions == self._versions:
            return False
        self._versions = versions
        self._versions_view = MappingProxyType(versions)
        self._model = identify_from_version(versions)
        self._forget_views(_VIEWS.version_views)
        return True

    def _forget_views(self, names: Iterable[str]) -> None:
        """Make views stale: the next read rebuilds each whose inputs changed."""
        cached = self.__dict__
        for name in names:
            cached.pop(name, None)

    def _drop_view_caches(self) -> None:
        """Forget every cached view (worst-case benchmarks, cache-consistency tests)."""
        self._forget_views(_VIEWS.names)
        self._built = _VIEWS.no_builds()
        self._ams_views = AmsViews()


# Derived from the declarations above: which report keys and replies make which views stale.
_VIEWS: Final = ViewTable.of(PrinterState)
# The typed views of PrinterState, for callers that read (or compare) all of them.
VIEW_NAMES: Final = _VIEWS.public
