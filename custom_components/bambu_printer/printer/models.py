"""Printer models and what each one can do.

Home Assistant entities decide which sensors and controls to create from these capabilities
(and from which fields a printer actually reports), so an unknown or future model still works
as a generic printer.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any


class CameraKind(StrEnum):
    """How the chamber camera is reached."""

    RTSPS = "rtsps"  # rtsps://<ip>:322/streaming/live/1
    JPEG = "jpeg"  # JPEG frames over TLS on port 6000
    NONE = "none"


class AmsKind(StrEnum):
    """Filament systems a printer accepts."""

    AMS = "ams"
    AMS_LITE = "ams_lite"
    AMS_2_PRO = "ams_2_pro"
    AMS_HT = "ams_ht"

    @property
    def module_prefix(self) -> str:
        """Name of such a unit's get_version module before its "/<id>" ("ams", "n3f", ...)."""
        return next(prefix for prefix, kind in _AMS_PREFIXES.items() if kind is self)

    @property
    def drying_max(self) -> int | None:
        """The hottest such a unit dries filament at (degC); None for units that cannot dry."""
        return _DRYING_MAX.get(self)


class DoorSensor(StrEnum):
    """Where a printer reports its door: bit 0x00800000 of one status field."""

    STAT = "stat"  # the hex string `stat` (H2, P2S, X2D)
    HOME_FLAG = "home_flag"  # the integer `home_flag` (X1 Carbon, X1E)
    NONE = "none"


_CLASSIC_AMS = frozenset({AmsKind.AMS})
_AMS_LITE = frozenset({AmsKind.AMS_LITE})
# The X1 capture shows AMS 2 Pro and AMS HT units on an X1 Carbon next to classic AMS units.
_AMS_2 = frozenset({AmsKind.AMS, AmsKind.AMS_2_PRO, AmsKind.AMS_HT})
_AMS_2_ONLY = frozenset({AmsKind.AMS_2_PRO, AmsKind.AMS_HT})
# ha-bambulab's H2D capture with an external spool active shows classic AMS units on an H2D.
_H2 = _AMS_2
# BambuStudio's A2L entry (N9.json) lists AMS, AMS lite and N3F_S (an AMS 2 Pro).
_A2 = frozenset({AmsKind.AMS, AmsKind.AMS_LITE, AmsKind.AMS_2_PRO})
_ANY_AMS = frozenset(AmsKind)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    """What a model can do; the value of each `PrinterModel` member."""

    key: str  # short name, also the simulator's model name
    product_name: str  # as the cloud's dev_product_name says it
    camera: CameraKind
    chamber_sensor: bool
    aux_fan: bool
    chamber_fan: bool
    full_reports: bool
    ams_kinds: frozenset[AmsKind]
    nozzles: int = 1
    door: DoorSensor = DoorSensor.NONE
    door_since: tuple[int, ...] = ()  # first firmware reporting the door bit, if not all
    # Highest targets Bambu Studio offers (degC); chamber None: no chamber heater to set.
    nozzle_max: int = 300
    bed_max: int = 120
    chamber_max: int | None = None
    # Bambu's web pages name model families: the wiki's section with the model's HMS pages and
    # the model's firmware download page (None: no such page is known). X1, P1 and A1 printers
    # share the X1 wiki pages.
    wiki_section: str | None = None
    firmware_page: str | None = None


class PrinterModel(Enum):
    """Known printer models with their capabilities; docs/protocol.md gives each fact's source.

    A1 and A1 mini report `big_fan1_speed` and `big_fan2_speed` although they have neither an
    aux nor a chamber fan (both fields are in their captures), so the fan flags come from here.
    """

    _value_: ModelSpec

    X1C = ModelSpec(
        key="X1C",
        product_name="X1 Carbon",
        camera=CameraKind.RTSPS,
        chamber_sensor=True,
        aux_fan=True,
        chamber_fan=True,
        full_reports=True,
        ams_kinds=_AMS_2,
        door=DoorSensor.HOME_FLAG,
        door_since=(1, 7, 0, 0),
        wiki_section="x1",
        firmware_page="x1",
    )
    X1E = ModelSpec(
        key="X1E",
        product_name="X1E",
        camera=CameraKind.RTSPS,
        chamber_sensor=True,
        aux_fan=True,
        chamber_fan=True,
        full_reports=True,
        ams_kinds=_AMS_2,
        door=DoorSensor.HOME_FLAG,
        door_since=(1, 1, 2, 0),
        nozzle_max=320,
        bed_max=110,
        chamber_max=60,
        wiki_section="x1",
        firmware_page="x1e",
    )
    # The P1P ships without aux and chamber fans but takes them (the P1S upgrade kit): pybambu
    # and BambuStudio both treat both fans as present.
    P1P = ModelSpec(
        key="P1P",
        product_name="P1P",
        camera=CameraKind.JPEG,
        chamber_sensor=False,
        aux_fan=True,
        chamber_fan=True,
        full_reports=False,
        ams_kinds=_CLASSIC_AMS,
        bed_max=100,
        wiki_section="x1",
        firmware_page="p1",
    )
    P1S = ModelSpec(
        key="P1S",
        product_name="P1S",
        camera=CameraKind.JPEG,
        chamber_sensor=False,
        aux_fan=True,
        chamber_fan=True,
        full_reports=False,
        ams_kinds=_CLASSIC_AMS,
        bed_max=100,
        wiki_section="x1",
        firmware_page="p1",
    )
    A1 = ModelSpec(
        key="A1",
        product_name="A1",
        camera=CameraKind.JPEG,
        chamber_sensor=False,
        aux_fan=False,
        chamber_fan=False,
        full_reports=False,
        ams_kinds=_AMS_LITE,
        bed_max=100,
        wiki_section="x1",
        firmware_page="a1",
    )
    A1_MINI = ModelSpec(
        key="A1MINI",
        product_name="A1 mini",
        camera=CameraKind.JPEG,
        chamber_sensor=False,
        aux_fan=False,
        chamber_fan=False,
        full_reports=False,
        ams_kinds=_AMS_LITE,
        bed_max=80,
        wiki_section="x1",
        firmware_page="a1-mini",
    )
    P2S = ModelSpec(
        key="P2S",
        product_name="P2S",
        camera=CameraKind.RTSPS,
        chamber_sensor=True,  # in device.ctc only
        aux_fan=True,
        chamber_fan=True,
        full_reports=True,
        ams_kinds=_AMS_2_ONLY,
        door=DoorSensor.STAT,
        bed_max=110,
        wiki_section="p2s",
    )
    H2D = ModelSpec(
        key="H2D",
        product_name="H2D",
        camera=CameraKind.RTSPS,
        chamber_sensor=True,
        aux_fan=True,
        chamber_fan=True,
        full_reports=True,
        ams_kinds=_H2,
        nozzles=2,
        door=DoorSensor.STAT,
        nozzle_max=350,
        chamber_max=65,
        wiki_section="h2",
    )
    H2D_PRO = ModelSpec(
        key="H2DPRO",
        product_name="H2D Pro",
        camera=CameraKind.RTSPS,
        chamber_sensor=True,
        aux_fan=True,
        chamber_fan=True,
        full_reports=True,
        ams_kinds=_H2,
        nozzles=2,
        door=DoorSensor.STAT,
        nozzle_max=350,
        chamber_max=65,
        wiki_section="h2",
    )
    H2S = ModelSpec(
        key="H2S",
        product_name="H2S",
        camera=CameraKind.RTSPS,
        chamber_sensor=True,
        aux_fan=True,
        chamber_fan=True,
        full_reports=True,
        ams_kinds=_H2,
        door=DoorSensor.STAT,
        nozzle_max=350,
        chamber_max=65,
        wiki_section="h2",
    )
    H2C = ModelSpec(
        key="H2C",
        product_name="H2C",
        camera=CameraKind.RTSPS,
        chamber_sensor=True,
        aux_fan=True,
        chamber_fan=True,
        full_reports=True,
        ams_kinds=_H2,
        nozzles=2,
        door=DoorSensor.STAT,
        nozzle_max=350,
        chamber_max=65,
        wiki_section="h2",
    )
    X2D = ModelSpec(
        key="X2D",
        product_name="X2D",
        camera=CameraKind.RTSPS,
        chamber_sensor=True,
        aux_fan=True,
        chamber_fan=True,
        full_reports=True,
        ams_kinds=_H2,
        nozzles=2,
        door=DoorSensor.STAT,
        chamber_max=65,
        wiki_section="x2d",
        firmware_page="x2",
    )
    A2L = ModelSpec(
        key="A2L",
        product_name="A2L",
        camera=CameraKind.JPEG,
        chamber_sensor=False,
        aux_fan=False,
        chamber_fan=False,
        full_reports=False,
        ams_kinds=_A2,
        bed_max=80,
        firmware_page="a2",
    )
    # A printer we do not know: no camera assumed, fans exist when their fields are reported,
    # and reports are merged as deltas (which full reports survive unchanged).
    UNKNOWN = ModelSpec(
        key="UNKNOWN",
        product_name="Bambu Lab printer",
        camera=CameraKind.NONE,
        chamber_sensor=False,
        aux_fan=True,
        chamber_fan=True,
        full_reports=False,
        ams_kinds=_ANY_AMS,
    )

    @property
    def key(self) -> str:
        """Short model name ("X1C", "A1MINI", ...)."""
        return self._value_.key

    @property
    def product_name(self) -> str:
        """Human-readable product name ("X1 Carbon", "A1 mini", ...)."""
        return self._value_.product_name

    @property
    def camera(self) -> CameraKind:
        """How the camera is reached."""
        return self._value_.camera

    @property
    def chamber_sensor(self) -> bool:
        """Whether `chamber_temper` is a real measurement."""
        return self._value_.chamber_sensor

    @property
    def ams_kinds(self) -> frozenset[AmsKind]:
        """Filament systems the model accepts."""
        return self._value_.ams_kinds

    @property
    def aux_fan(self) -> bool:
        """Whether the printer has an auxiliary part-cooling fan (`big_fan1_speed`)."""
        return self._value_.aux_fan

    @property
    def chamber_fan(self) -> bool:
        """Whether the printer has a chamber exhaust fan (`big_fan2_speed`)."""
        return self._value_.chamber_fan

    @property
    def full_reports(self) -> bool:
        """Whether every `push_status` is the full object (X1/H2/P2S) rather than a delta."""
        return self._value_.full_reports

    @property
    def nozzles(self) -> int:
        """How many extruders the printer has (2 on the H2D)."""
        return self._value_.nozzles

    @property
    def nozzle_max(self) -> int:
        """Highest nozzle target the model takes (degC)."""
        return self._value_.nozzle_max

    @property
    def bed_max(self) -> int:
        """Highest bed target the model takes (degC)."""
        return self._value_.bed_max

    @property
    def chamber_max(self) -> int | None:
        """Highest chamber target (degC); None when the model has no chamber heater to set."""
        return self._value_.chamber_max

    @property
    def wiki_section(self) -> str | None:
        """The Bambu wiki's section holding this model's HMS pages ("x1", "h2", ...)."""
        return self._value_.wiki_section

    @property
    def firmware_page(self) -> str | None:
        """The name of this model's firmware download page at bambulab.com ("p1", ...)."""
        return self._value_.firmware_page

    @property
    def dual_nozzle(self) -> bool:
        """Whether the printer has two extruders (H2D, H2D Pro, H2C, X2D)."""
        return self._value_.nozzles == 2

    def door_sensor(self, firmware: str | None) -> DoorSensor:
        """Where this printer, running `firmware` (ota version), reports its door, if at all."""
        spec = self._value_
        if spec.door is DoorSensor.NONE or not spec.door_since:
            return spec.door
        version = _version_tuple(firmware)
        return spec.door if version is not None and version >= spec.door_since else DoorSensor.NONE


def _version_tuple(version: str | None) -> tuple[int, ...] | None:
    """Read "01.07.00.00" as (1, 7, 0, 0); None when it is not such a version."""
    if not isinstance(version, str) or len(version) > _MAX_NAME:
        return None
    try:
        return tuple(int(part) for part in version.strip().split("."))
    except ValueError:
        return None


# Normalised product names ("Bambu Lab X1-Carbon" -> "x1carbon") to models. Cloud
# `dev_product_name` and get_version `product_name` both end up here.
_BY_NAME: dict[str, PrinterModel] = {
    "x1carbon": PrinterModel.X1C,
    "x1c": PrinterModel.X1C,
    "x1": PrinterModel.X1C,  # the original X1: same capabilities as the X1 Carbon
    "x1e": PrinterModel.X1E,
    "p1p": PrinterModel.P1P,
    "p1s": PrinterModel.P1S,
    "a1": PrinterModel.A1,
    "a1mini": PrinterModel.A1_MINI,
    "p2s": PrinterModel.P2S,
    "h2d": PrinterModel.H2D,
    "h2dpro": PrinterModel.H2D_PRO,
    "h2s": PrinterModel.H2S,
    "h2c": PrinterModel.H2C,
    "x2d": PrinterModel.X2D,
    "a2l": PrinterModel.A2L,
}

# Internal model ids: get_version `project_name` on older firmware and the cloud's
# `dev_model_name`, as BambuStudio's resources/printers/<id>.json name them.
_BY_CODE: dict[str, PrinterModel] = {
    "C11": PrinterModel.P1P,
    "C12": PrinterModel.P1S,
    "N1": PrinterModel.A1_MINI,
    "N2S": PrinterModel.A1,
    "C13": PrinterModel.X1E,
    "BL-P001": PrinterModel.X1C,
    "BL-P002": PrinterModel.X1C,
    "O1D": PrinterModel.H2D,
    "O1S": PrinterModel.H2S,
    "O1E": PrinterModel.H2D_PRO,
    "O1C": PrinterModel.H2C,
    "O1C2": PrinterModel.H2C,
    "N6": PrinterModel.X2D,
    "N7": PrinterModel.P2S,
    "N9": PrinterModel.A2L,
}

# Each model's code as printers announce it on the LAN (the first listed where it has two).
MODEL_CODES: Mapping[PrinterModel, str] = MappingProxyType(
    {model: code for code, model in reversed(tuple(_BY_CODE.items()))}
)

# The first three characters of a serial number, for a printer that does not name itself.
# Sources per prefix in docs/protocol.md (BambuStudio's `sn_prefix`, community tables).
SERIAL_PREFIXES: Mapping[str, PrinterModel] = MappingProxyType(
    {
        "00M": PrinterModel.X1C,
        "00W": PrinterModel.X1C,  # the original X1
        "03W": PrinterModel.X1E,
        "01S": PrinterModel.P1P,
        "01P": PrinterModel.P1S,
        "030": PrinterModel.A1_MINI,
        "039": PrinterModel.A1,
        "26A": PrinterModel.A2L,
        "22E": PrinterModel.P2S,
        "094": PrinterModel.H2D,
        "239": PrinterModel.H2D_PRO,
        "093": PrinterModel.H2S,
        "31B": PrinterModel.H2C,
        "20P": PrinterModel.X2D,
    }
)
_PREFIX_LENGTH = 3

_NAME_NOISE = re.compile(r"[\s_\-]+")
_MAX_NAME = 200


def _normalise(name: str) -> str:
    text = _NAME_NOISE.sub("", name.strip().lower())
    return text.removeprefix("bambulab")


def identify_from_product_name(name: Any) -> PrinterModel:
    """Recognise a model from a product name such as "Bambu Lab P1S" or the cloud's "X1 Carbon".

    Model codes ("C12", "N2S") are accepted too. Anything else gives `PrinterModel.UNKNOWN`.
    """
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME:
        return PrinterModel.UNKNOWN
    model = _BY_NAME.get(_normalise(name))
    if model is not None:
        return model
    return _BY_CODE.get(name.strip().upper(), PrinterModel.UNKNOWN)


def identify_from_serial(serial: Any) -> PrinterModel:
    """Guess the model from a serial number's prefix; the fallback when no name is known."""
    if not isinstance(serial, str) or len(serial) > _MAX_NAME:
        return PrinterModel.UNKNOWN
    text = serial.strip().upper()
    if len(text) <= _PREFIX_LENGTH:
        return PrinterModel.UNKNOWN
    return SERIAL_PREFIXES.get(text[:_PREFIX_LENGTH], PrinterModel.UNKNOWN)


def _module_list(
    modules: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]] | Any,
) -> list[Mapping[str, Any]]:
    if isinstance(modules, Mapping):
        # A whole get_version reply, or name -> module as PrinterState.versions.
        modules = modules["module"] if isinstance(modules.get("module"), list) else modules.values()
    if isinstance(modules, str | bytes) or not isinstance(modules, Iterable):
        return []
    return [module for module in modules if isinstance(module, Mapping)]


def _text(module: Mapping[str, Any], key: str) -> str:
    value = module.get(key)
    return value.strip() if isinstance(value, str) and len(value) <= _MAX_NAME else ""


def identify_from_version(
    modules: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]] | Any,
) -> PrinterModel:
    """Recognise a model from a get_version reply's `module[]` list.

    Accepts the list itself, a name -> module mapping, or the whole `info` object. The `ota`
    module's `product_name` wins (H2D and X1 Carbon both carry an `ap` module with hw AP05);
    then project codes (esp32 `C11`/`C12`/`N1`/`N2S`), then hardware revisions of older
    firmware (rv1126 AP05 = X1 Carbon, ap AP02 = X1E). Unknown printers give `UNKNOWN`.
    """
    items = _module_list(modules)
    by_name = {_text(module, "name"): module for module in items}

    ota = by_name.get("ota")
    if ota is not None:
        model = identify_from_product_name(_text(ota, "product_name"))
        if model is not PrinterModel.UNKNOWN:
            return model
    for module in items:  # a printer product name on another module
        product = _text(module, "product_name")
        if product.lower().startswith("bambu lab"):
            model = identify_from_product_name(product)
            if model is not PrinterModel.UNKNOWN:
                return model
    for name in ("ota", "esp32", "mc", "th"):
        coded = by_name.get(name)
        if coded is not None:
            model = _BY_CODE.get(_text(coded, "project_name").upper(), PrinterModel.UNKNOWN)
            if model is not PrinterModel.UNKNOWN:
                return model
    rv1126 = by_name.get("rv1126")
    if rv1126 is not None and _text(rv1126, "hw_ver").upper() == "AP05":
        return PrinterModel.X1C
    ap = by_name.get("ap")
    if ap is not None and _text(ap, "hw_ver").upper() == "AP02":
        return PrinterModel.X1E
    return PrinterModel.UNKNOWN


def ams_kind_from_module(name: Any) -> AmsKind | None:
    """Tell the AMS kind from a get_version module name: "ams/0", "ams_f1/0", "n3f/2", "n3s/128"."""
    if not isinstance(name, str):
        return None
    prefix = name.partition("/")[0]
    return _AMS_PREFIXES.get(prefix)


_AMS_PREFIXES: dict[str, AmsKind] = {
    "ams": AmsKind.AMS,
    "ams_f1": AmsKind.AMS_LITE,
    "n3f": AmsKind.AMS_2_PRO,
    "n3s": AmsKind.AMS_HT,
}
# AMS 2 Pro and AMS HT units dry filament (classic AMS and AMS lite do not), up to (degC):
_DRYING_MAX: dict[AmsKind, int] = {AmsKind.AMS_2_PRO: 65, AmsKind.AMS_HT: 85}
