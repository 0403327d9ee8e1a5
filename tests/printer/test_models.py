"""Model recognition from get_version replies and cloud product names."""

from typing import Any

import pytest

from custom_components.bambu_printer.printer.models import (
    SERIAL_PREFIXES,
    AmsKind,
    CameraKind,
    DoorSensor,
    PrinterModel,
    ams_kind_from_module,
    identify_from_product_name,
    identify_from_serial,
    identify_from_version,
)
from tests.captures import CAPTURE_NAMES, pushall_report, version_report

# Read out of each capture's get_version reply by hand.
EXPECTED_MODELS = {
    "P1P": PrinterModel.P1P,  # old firmware: ota/esp32 project_name C11, no product_name
    "MOCK-A1": PrinterModel.A1,  # project_name N2S (and an esp32 with hw AP05!)
    "MOCK-X1CMULTIAMS": PrinterModel.X1C,  # "Bambu Lab X1-Carbon", ap module hw AP05
    "MOCK-H2D": PrinterModel.H2D,  # "Bambu Lab H2D", also an ap module with hw AP05
    "MOCK-P1PNOAMS": PrinterModel.P1P,  # "Bambu Lab P1P"
}


def modules_of(name: str) -> list[dict[str, Any]]:
    modules: list[dict[str, Any]] = version_report(name)["info"]["module"]
    return modules


def test_every_capture_is_covered() -> None:
    assert set(EXPECTED_MODELS) == set(CAPTURE_NAMES)


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_identify_from_capture(name: str) -> None:
    assert identify_from_version(modules_of(name)) is EXPECTED_MODELS[name]


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_identify_accepts_reply_and_mapping(name: str) -> None:
    info = version_report(name)["info"]
    by_name = {module["name"]: module for module in info["module"]}
    assert identify_from_version(info) is EXPECTED_MODELS[name]
    assert identify_from_version(by_name) is EXPECTED_MODELS[name]


def test_product_name_beats_hardware_revision() -> None:
    # The H2D carries an `ap` module with hw AP05, as old X1 Carbon firmware did.
    modules = modules_of("MOCK-H2D")
    assert any(m["name"] == "ap" and m["hw_ver"] == "AP05" for m in modules)
    assert identify_from_version(modules) is PrinterModel.H2D
    # Without a product name an `ap` AP05 alone identifies nothing.
    for module in modules:
        module["product_name"] = ""
    assert identify_from_version(modules) is PrinterModel.UNKNOWN


@pytest.mark.parametrize(
    ("modules", "expected"),
    [
        ([{"name": "esp32", "project_name": "C11", "hw_ver": "AP04"}], PrinterModel.P1P),
        ([{"name": "esp32", "project_name": "C12", "hw_ver": "AP04"}], PrinterModel.P1S),
        ([{"name": "esp32", "project_name": "N1", "hw_ver": "AP05"}], PrinterModel.A1_MINI),
        ([{"name": "esp32", "project_name": "N2S", "hw_ver": "AP05"}], PrinterModel.A1),
        ([{"name": "rv1126", "hw_ver": "AP05", "sw_ver": "00.00.19.15"}], PrinterModel.X1C),
        ([{"name": "ap", "hw_ver": "AP02", "sw_ver": "00.00.32.14"}], PrinterModel.X1E),
        ([{"name": "ota", "product_name": "Bambu Lab A1 mini"}], PrinterModel.A1_MINI),
        ([{"name": "ota", "product_name": "Bambu Lab P1S"}], PrinterModel.P1S),
        ([{"name": "ota", "product_name": "Bambu Lab X1E"}], PrinterModel.X1E),
        ([{"name": "ota", "product_name": "Bambu Lab P2S"}], PrinterModel.P2S),
        ([{"name": "ota", "product_name": "Bambu Lab H2S"}], PrinterModel.H2S),
        # A printer product name on another module than ota.
        ([{"name": "mc", "product_name": "Bambu Lab P1S"}], PrinterModel.P1S),
        ([{"name": "ota", "product_name": "Bambu Lab Z9"}], PrinterModel.UNKNOWN),
        ([{"name": "ams/0", "product_name": "AMS (1)"}], PrinterModel.UNKNOWN),
        ([], PrinterModel.UNKNOWN),
    ],
)
def test_identify_older_firmware(modules: list[dict[str, Any]], expected: PrinterModel) -> None:
    assert identify_from_version(modules) is expected


@pytest.mark.parametrize(
    "junk",
    [None, 5, "ota", b"ota", [None, 3, "x"], {"module": "x"}, [{"name": 5, "product_name": 7}]],
)
def test_identify_from_junk_is_unknown(junk: Any) -> None:
    assert identify_from_version(junk) is PrinterModel.UNKNOWN


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("X1 Carbon", PrinterModel.X1C),
        ("Bambu Lab X1-Carbon", PrinterModel.X1C),
        ("X1C", PrinterModel.X1C),
        ("X1E", PrinterModel.X1E),
        ("P1P", PrinterModel.P1P),
        ("P1S", PrinterModel.P1S),
        ("A1", PrinterModel.A1),
        ("A1 mini", PrinterModel.A1_MINI),
        ("A1 Mini", PrinterModel.A1_MINI),
        ("P2S", PrinterModel.P2S),
        ("H2D", PrinterModel.H2D),
        ("H2S", PrinterModel.H2S),
        ("  Bambu Lab   H2D ", PrinterModel.H2D),
        ("Bambu Lab H2D Pro", PrinterModel.H2D_PRO),
        ("Bambu Lab H2C", PrinterModel.H2C),
        ("Bambu Lab X2D", PrinterModel.X2D),
        ("Bambu Lab A2L", PrinterModel.A2L),
        ("O1E", PrinterModel.H2D_PRO),  # BambuStudio resources/printers model ids
        ("O1C", PrinterModel.H2C),
        ("O1C2", PrinterModel.H2C),
        ("N6", PrinterModel.X2D),
        ("N9", PrinterModel.A2L),
        ("C12", PrinterModel.P1S),  # model codes work too (cloud dev_model_name)
        ("N2S", PrinterModel.A1),
        ("BL-P001", PrinterModel.X1C),
        ("Ender 3", PrinterModel.UNKNOWN),
        ("", PrinterModel.UNKNOWN),
        ("x" * 1000, PrinterModel.UNKNOWN),
        (None, PrinterModel.UNKNOWN),
        (42, PrinterModel.UNKNOWN),
    ],
)
def test_identify_from_product_name(name: Any, expected: PrinterModel) -> None:
    assert identify_from_product_name(name) is expected


ENCLOSED_RTSPS = {
    PrinterModel.X1C,
    PrinterModel.X1E,
    PrinterModel.P2S,
    PrinterModel.H2D,
    PrinterModel.H2D_PRO,
    PrinterModel.H2S,
    PrinterModel.H2C,
    PrinterModel.X2D,
}
DUAL_NOZZLE = {PrinterModel.H2D, PrinterModel.H2D_PRO, PrinterModel.H2C, PrinterModel.X2D}


def test_capability_table() -> None:
    """Cameras, chamber sensors and AMS kinds as docs/protocol.md "Models" sources them."""
    assert {m for m in PrinterModel if m.camera is CameraKind.RTSPS} == ENCLOSED_RTSPS
    jpeg = {PrinterModel.P1P, PrinterModel.P1S, PrinterModel.A1, PrinterModel.A1_MINI}
    assert {m for m in PrinterModel if m.camera is CameraKind.JPEG} == jpeg | {PrinterModel.A2L}
    assert PrinterModel.UNKNOWN.camera is CameraKind.NONE
    # pybambu's CHAMBER_TEMPERATURE feature and BambuStudio's `support_chamber`: the P2S too.
    assert {m for m in PrinterModel if m.chamber_sensor} == ENCLOSED_RTSPS
    assert PrinterModel.A1.ams_kinds == frozenset({AmsKind.AMS_LITE})
    assert PrinterModel.A1_MINI.ams_kinds == frozenset({AmsKind.AMS_LITE})
    assert PrinterModel.P1S.ams_kinds == frozenset({AmsKind.AMS})
    assert AmsKind.AMS_HT in PrinterModel.H2D.ams_kinds
    assert AmsKind.AMS_2_PRO in PrinterModel.P2S.ams_kinds
    # The X1 capture has AMS 2 Pro and AMS HT units next to classic AMS units.
    assert {AmsKind.AMS, AmsKind.AMS_2_PRO, AmsKind.AMS_HT} <= PrinterModel.X1C.ams_kinds
    assert PrinterModel.H2D.dual_nozzle
    assert not PrinterModel.X1C.dual_nozzle
    assert PrinterModel.A1_MINI.key == "A1MINI"
    assert PrinterModel.A1_MINI.product_name == "A1 mini"
    assert len({m.key for m in PrinterModel}) == len(PrinterModel)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ams/0", AmsKind.AMS),
        ("ams_f1/0", AmsKind.AMS_LITE),
        ("n3f/2", AmsKind.AMS_2_PRO),
        ("n3s/128", AmsKind.AMS_HT),
        ("ota", None),
        ("ahb", None),
        (None, None),
    ],
)
def test_ams_kind_from_module(name: Any, expected: AmsKind | None) -> None:
    assert ams_kind_from_module(name) is expected


def test_fans_reports_and_nozzles() -> None:
    """Fans ("General", "Models") and full reports ("Report fields") per docs/protocol.md."""
    # pybambu (AUX_FAN / CHAMBER_FAN) and BambuStudio (support_aux_fan / support_chamber_fan):
    # only the A1, A1 mini and A2L lack both; the P1P has the ports for them.
    without_fans = {PrinterModel.A1, PrinterModel.A1_MINI, PrinterModel.A2L}
    assert {m for m in PrinterModel if not m.aux_fan} == without_fans
    assert {m for m in PrinterModel if not m.chamber_fan} == without_fans
    full = {m for m in PrinterModel if m.full_reports}
    assert full == ENCLOSED_RTSPS
    assert {m: m.nozzles for m in PrinterModel if m.nozzles != 1} == dict.fromkeys(DUAL_NOZZLE, 2)
    assert PrinterModel.H2D.dual_nozzle
    assert not PrinterModel.H2S.dual_nozzle
    # An unknown printer: fans exist when their fields are reported; its reports are merged.
    unknown = PrinterModel.UNKNOWN
    assert (unknown.aux_fan, unknown.chamber_fan, unknown.full_reports) == (True, True, False)


def test_fan_fields_without_fans_are_in_the_captures() -> None:
    # Why the fans are model facts: printers without them still report both fields.
    report = pushall_report("MOCK-A1")["print"]
    assert {"big_fan1_speed", "big_fan2_speed"} <= set(report)
    assert not PrinterModel.A1.aux_fan
    assert not PrinterModel.A1.chamber_fan


@pytest.mark.parametrize("kind", list(AmsKind))
def test_ams_module_prefix_names_the_kind(kind: AmsKind) -> None:
    assert ams_kind_from_module(f"{kind.module_prefix}/0") is kind


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        ("00M00A000000001", PrinterModel.X1C),
        ("03W00A000000001", PrinterModel.X1E),
        ("01S00A000000001", PrinterModel.P1P),
        ("01P00A000000001", PrinterModel.P1S),
        ("03000A000000001", PrinterModel.A1_MINI),
        ("03900A000000001", PrinterModel.A1),
        ("22E00A000000001", PrinterModel.P2S),
        ("09400A000000001", PrinterModel.H2D),
        ("09300A000000001", PrinterModel.H2S),
        ("23900A000000001", PrinterModel.H2D_PRO),
        ("31B00A000000001", PrinterModel.H2C),
        ("20P00A000000001", PrinterModel.X2D),
        ("26A00A000000001", PrinterModel.A2L),
        (" 31b00a000000001", PrinterModel.H2C),
        ("ZZZ00A000000001", PrinterModel.UNKNOWN),
        ("31", PrinterModel.UNKNOWN),
        (None, PrinterModel.UNKNOWN),
    ],
)
def test_identify_from_serial(serial: Any, expected: PrinterModel) -> None:
    assert identify_from_serial(serial) is expected


def test_every_known_model_has_a_serial_prefix() -> None:
    known = {identify_from_serial(prefix + "000000000000") for prefix in SERIAL_PREFIXES}
    assert known == set(PrinterModel) - {PrinterModel.UNKNOWN}


@pytest.mark.parametrize(
    ("model", "firmware", "expected"),
    [
        (PrinterModel.H2D, None, DoorSensor.STAT),
        (PrinterModel.H2C, None, DoorSensor.STAT),
        (PrinterModel.X2D, None, DoorSensor.STAT),
        (PrinterModel.P2S, None, DoorSensor.STAT),
        (PrinterModel.X1C, "01.09.00.01", DoorSensor.HOME_FLAG),
        (PrinterModel.X1C, "01.06.01.02", DoorSensor.NONE),  # older firmware: no door bit
        (PrinterModel.X1C, None, DoorSensor.NONE),
        (PrinterModel.X1E, "01.01.02.00", DoorSensor.HOME_FLAG),
        (PrinterModel.P1S, "01.08.02.00", DoorSensor.NONE),
        (PrinterModel.A2L, None, DoorSensor.NONE),
        (PrinterModel.UNKNOWN, None, DoorSensor.NONE),
    ],
)
def test_door_sensor(model: PrinterModel, firmware: str | None, expected: DoorSensor) -> None:
    """pybambu's DOOR_SENSOR feature: H2/P2/X2 always, X1 and X1E from a firmware version."""
    assert model.door_sensor(firmware) is expected
