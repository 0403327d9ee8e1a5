"""How the simulator plays each model: report template, firmware modules, start G-code stages.

What a model can do (camera, chamber sensor, fans, full reports or deltas, nozzles, AMS kinds)
comes from the library's `PrinterModel`; this table adds only what a simulation needs on top.
The report templates (`simulator/templates/*.json`) are derived from real printer captures (the
MIT-licensed ha-bambulab test data), so field names, nesting and value types match a real
printer of the same family.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from custom_components.bambu_printer.printer.models import (
    AmsKind,
    CameraKind,
    PrinterModel,
    identify_from_product_name,
)

from .job import (
    STAGE_BED_LEVELING,
    STAGE_CALIBRATING_EXTRUSION,
    STAGE_CHANGING_FILAMENT,
    STAGE_CLEANING_NOZZLE,
    STAGE_HEATBED_PREHEATING,
    STAGE_HEATING_HOTEND,
    STAGE_HOMING,
    STAGE_VIBRATION_COMPENSATION,
)

type JsonDict = dict[str, Any]
type FirmwareModule = tuple[str, str, str, str]  # (name, hw_ver, sw_ver, loader_ver)

_TEMPLATE_DIR: Final = Path(__file__).resolve().parent.parent / "templates"
_FAMILIES: Final = ("x1", "h2d", "p1", "a1")


def _load_templates() -> dict[str, JsonDict]:
    templates: dict[str, JsonDict] = {}
    for name in _FAMILIES:
        data: JsonDict = json.loads((_TEMPLATE_DIR / f"{name}.json").read_text(encoding="utf-8"))
        templates[name] = data
    return templates


# Loaded once at import time so that building printers inside an event loop does no file I/O.
_TEMPLATES: Final = _load_templates()

# get_version `hw_ver` and `product_name` of the AMS units the simulator fits.
_AMS_HARDWARE: Final[Mapping[AmsKind, tuple[str, str]]] = {
    AmsKind.AMS: ("AMS08", "AMS"),
    AmsKind.AMS_LITE: ("AMS_F102", "AMS Lite"),
    AmsKind.AMS_2_PRO: ("N3F05", "AMS 2 Pro"),
}


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """The simulation-only data of one model; its capabilities are `model`'s."""

    model: PrinterModel
    family: str  # report template: "x1", "h2d", "p1", "a1"
    product_name: str  # `ota` module product_name on newer firmware
    project_name: str  # `esp32` project_name on older P1/A1 firmware ("" when not applicable)
    ams_kind: AmsKind  # the kind of AMS unit fitted (one of `model.ams_kinds`)
    ams_sw: str
    default_ams: int
    legacy_firmware: bool  # default get_version style (mirrors the captures)
    ota_version: str
    stages: tuple[int, ...]  # calibration stages of the start G-code, in order
    modules: tuple[FirmwareModule, ...]
    ams_first_id: int = 0  # the first unit's id: 16 for the A2L's AMS lite ("ams_f1/16")
    ctc_only: bool = False  # chamber only in device.ctc, no `chamber_temper` (as captured)
    msg: bool | None = None  # whether reports carry `msg`; None: as the family's template

    @property
    def has_msg(self) -> bool:
        """Whether this model's reports carry `msg` (the H2D's and H2D Pro's do not)."""
        return bool(self.template["has_msg"]) if self.msg is None else self.msg

    @property
    def liveview_switch(self) -> bool:
        """Whether RTSPS waits for "LAN liveview" (`rtsp_url` "disable" until then).

        ha-bambulab's P2S, H2C and X2D captures and our H2D capture say "disable"; the X1
        Carbon and X1E stream whenever the camera is on.
        """
        x1 = (PrinterModel.X1C, PrinterModel.X1E)
        return self.model.camera is CameraKind.RTSPS and self.model not in x1

    @property
    def code(self) -> str:
        """The model's short name ("X1C", "A1MINI")."""
        return self.model.key

    @property
    def rtsp(self) -> bool:
        """Whether the camera is RTSPS (`ipcam.rtsp_url`) rather than JPEG frames on :6000."""
        return self.model.camera is CameraKind.RTSPS

    @property
    def template(self) -> JsonDict:
        """The report template of the model's family (shared: copy before changing it)."""
        return _TEMPLATES[self.family]

    @property
    def dries(self) -> bool:
        """Whether the fitted AMS units dry filament (AMS 2 Pro, AMS HT)."""
        return self.ams_kind.drying_max is not None

    @property
    def ams_module(self) -> str:
        """get_version module prefix of the fitted AMS units ("ams", "ams_f1", "n3f")."""
        return self.ams_kind.module_prefix

    @property
    def ams_hw(self) -> str:
        """get_version `hw_ver` of the fitted AMS units."""
        return _AMS_HARDWARE[self.ams_kind][0]

    @property
    def ams_product(self) -> str:
        """get_version `product_name` of the fitted AMS units, before their number."""
        return _AMS_HARDWARE[self.ams_kind][1]


_X1_STAGES: Final = (
    STAGE_HEATBED_PREHEATING,
    STAGE_HOMING,
    STAGE_CHANGING_FILAMENT,
    STAGE_CLEANING_NOZZLE,
    STAGE_BED_LEVELING,
    STAGE_VIBRATION_COMPENSATION,
    STAGE_HEATING_HOTEND,
    STAGE_CALIBRATING_EXTRUSION,
)
_P1_STAGES: Final = _X1_STAGES[:-1]

PROFILES: Final[Mapping[PrinterModel, ModelProfile]] = {
    profile.model: profile
    for profile in (
        ModelProfile(
            PrinterModel.X1C, "x1", "Bambu Lab X1-Carbon", "", AmsKind.AMS, "00.01.06.62",
            1, False, "01.09.00.01", _X1_STAGES,
            (("mc", "MC07", "00.00.32.89", "00.00.00.28"),
             ("mc-sub", "N/A", "00.00.32.89", "00.00.00.00"),
             ("th", "TH09", "00.00.07.12", "00.00.00.14"),
             ("ap", "AP05", "00.00.50.76", "00.00.01.08")),
        ),
        ModelProfile(
            PrinterModel.X1E, "x1", "Bambu Lab X1E", "", AmsKind.AMS, "00.01.06.62",
            1, False, "01.02.00.00", _X1_STAGES,
            (("mc", "MC07", "00.00.32.89", "00.00.00.28"),
             ("mc-sub", "N/A", "00.00.32.89", "00.00.00.00"),
             ("th", "TH09", "00.00.07.12", "00.00.00.14"),
             ("ap", "AP02", "00.00.50.76", "00.00.01.08")),
        ),
        ModelProfile(
            PrinterModel.P1P, "p1", "Bambu Lab P1P", "C11", AmsKind.AMS, "00.00.06.49",
            0, True, "01.07.00.00", _P1_STAGES,
            (("esp32", "AP04", "01.11.32.89", "00.00.00.00"),
             ("mc", "MC07", "00.00.29.75", "00.00.00.23"),
             ("th", "TH09", "00.00.09.95", "00.00.00.14")),
        ),
        ModelProfile(
            PrinterModel.P1S, "p1", "Bambu Lab P1S", "C12", AmsKind.AMS, "00.00.06.49",
            1, False, "01.08.02.00", _P1_STAGES,
            (("esp32", "AP04", "01.11.35.64", "00.00.00.00"),
             ("mc", "MC07", "00.01.32.85", "00.00.00.23"),
             ("th", "TH09", "00.00.09.95", "00.00.00.14")),
        ),
        ModelProfile(
            PrinterModel.A1, "a1", "Bambu Lab A1", "N2S", AmsKind.AMS_LITE, "00.00.07.94",
            1, True, "01.05.00.00", _P1_STAGES,
            (("esp32", "AP05", "01.13.33.99", "00.00.00.00"),
             ("mc", "MC02", "00.01.29.83", "00.00.00.32"),
             ("th", "TH01", "00.00.07.69", "00.00.00.26")),
        ),
        ModelProfile(
            PrinterModel.A1_MINI, "a1", "Bambu Lab A1 mini", "N1", AmsKind.AMS_LITE,
            "00.00.07.94", 1, False, "01.04.00.00", _P1_STAGES,
            (("esp32", "AP05", "01.13.33.99", "00.00.00.00"),
             ("mc", "MC02", "00.01.29.83", "00.00.00.32"),
             ("th", "TH01", "00.00.07.69", "00.00.00.26")),
        ),
        ModelProfile(
            PrinterModel.P2S, "x1", "Bambu Lab P2S", "", AmsKind.AMS_2_PRO, "02.00.19.47",
            1, False, "01.02.00.00", _X1_STAGES,
            (("mc", "MC09", "02.02.56.50", "02.02.56.50"),
             ("th", "TH08", "02.00.17.46", "00.00.17.22"),
             ("ap", "AP05", "00.00.50.02", "00.00.01.11")),
        ),
        ModelProfile(
            PrinterModel.H2D, "h2d", "Bambu Lab H2D", "", AmsKind.AMS_2_PRO, "02.00.19.47",
            2, False, "01.01.01.00", _X1_STAGES,
            (("ahb", "AHB02", "00.00.09.75", "00.00.00.21"),
             ("mc", "MC09", "02.02.56.50", "02.02.56.50"),
             ("mc-sub", "N/A", "02.02.56.50", "02.02.56.50"),
             ("th", "TH08", "02.00.17.46", "00.00.17.22"),
             ("ext", "EXT07", "00.00.08.18", "00.00.01.00"),
             ("smc", "SMC09", "02.00.11.79", "00.00.09.26"),
             ("ap", "AP05", "00.00.50.02", "00.00.01.11")),
        ),
        # Module names and hardware revisions as ha-bambulab's captures of these models list
        # them; firmware versions are the simulation's own.
        ModelProfile(
            PrinterModel.H2D_PRO, "h2d", "Bambu Lab H2D Pro", "", AmsKind.AMS_2_PRO,
            "02.00.19.47", 1, False, "01.01.02.00", _X1_STAGES,
            (("ahb", "AHB02", "00.00.09.75", "00.00.00.21"),
             ("mc", "MC09", "02.02.56.50", "02.02.56.50"),
             ("mc-sub", "N/A", "02.02.56.50", "02.02.56.50"),
             ("th", "TH08", "02.00.17.46", "00.00.17.22"),
             ("ext", "EXT07", "00.00.08.18", "00.00.01.00"),
             ("smc", "SMC09", "02.00.11.79", "00.00.09.26"),
             ("ap", "AP01", "00.00.50.02", "00.00.01.11")),
            ctc_only=True,
        ),
        ModelProfile(
            PrinterModel.H2C, "h2d", "Bambu Lab H2C", "", AmsKind.AMS_2_PRO, "02.00.19.47",
            1, False, "01.01.50.00", _X1_STAGES,
            (("ahb", "AHB03", "00.00.09.75", "00.00.00.21"),
             ("mc-sub", "N/A", "02.02.56.50", "02.02.56.50"),
             ("th", "TH08", "02.00.17.46", "00.00.17.22"),
             ("ext", "EXT07", "00.00.08.18", "00.00.01.00"),
             ("smc", "SMC09", "02.00.11.79", "00.00.09.26")),
            ctc_only=True,
            msg=True,
        ),
        ModelProfile(
            PrinterModel.X2D, "h2d", "Bambu Lab X2D", "", AmsKind.AMS_2_PRO, "02.00.19.47",
            1, False, "01.00.00.00", _X1_STAGES,
            (("ahb", "AHB-N602", "00.00.09.75", "00.00.00.21"),
             ("th", "TH06", "02.00.17.46", "00.00.17.22"),
             ("smc", "SMC03", "02.00.11.79", "00.00.09.26"),
             ("mc", "MC12", "02.02.56.50", "02.02.56.50"),
             ("ap2", "AP04", "00.00.50.02", "00.00.01.11")),
            ctc_only=True,
            msg=True,
        ),
        ModelProfile(
            PrinterModel.A2L, "a1", "Bambu Lab A2L", "", AmsKind.AMS_LITE, "00.00.07.94",
            1, False, "01.01.00.00", _P1_STAGES,
            (("ap", "AP03", "01.13.33.99", "00.00.00.00"),
             ("mc", "MC04", "00.01.29.83", "00.00.00.32"),
             ("th", "TH03", "00.00.07.69", "00.00.00.26"),
             ("smc", "SMC03", "00.00.07.69", "00.00.00.26")),
            ams_first_id=16,
        ),
    )
}  # fmt: skip

# The simulated models by short name ("X1C", "A1MINI"), for command lines and tests.
MODELS: Final[Mapping[str, ModelProfile]] = {profile.code: profile for profile in PROFILES.values()}


def normalize_model(model: str) -> str:
    """Return the simulated model's short name ("A1 mini", "a1_mini" -> "A1MINI").

    Names are recognised the way the library recognises product names; a model the simulator
    does not play raises ValueError.
    """
    profile = PROFILES.get(identify_from_product_name(str(model)))
    if profile is None:
        raise ValueError(f"unknown printer model {model!r}; known: {', '.join(MODELS)}")
    return profile.code
