"""Issue 13: the views tell what real printers mean (dual nozzles, spools, humidity, door, drying).

Each case starts from a real capture; where a case needs another printer state, only the
fields a real printer of that kind reports differently are changed (the docs/protocol.md
sources say which real capture shows that state).
"""

from typing import Any

import pytest

from custom_components.bambu_printer.printer.models import AmsKind, PrinterModel
from custom_components.bambu_printer.printer.state import (
    EXTERNAL_SPOOL_NOZZLE,
    PrinterState,
    parsing,
)
from tests.captures import pushall_report, version_report

NOW = 1_750_000_000.0
LEFT_ACTIVE = 0x12  # device.extruder.state: 2 extruders, extruder 1 (left) in use
DOOR_BIT = 0x00800000


def state_of(name: str, print_changes: dict[str, Any] | None = None) -> PrinterState:
    """Return the state of a capture, its `print` object changed by `print_changes` first."""
    report = pushall_report(name)
    report["print"].update(print_changes or {})
    state = PrinterState()
    state.apply(version_report(name), now=NOW)
    state.apply(report, now=NOW)
    return state


def h2d_device(**extruder: Any) -> dict[str, Any]:
    """The H2D capture's `device` object with `device.extruder` fields replaced."""
    device: dict[str, Any] = pushall_report("MOCK-H2D")["print"]["device"]
    device["extruder"].update(extruder)
    return device


# ------------------------------------------------------------------------- dual nozzle


def test_generic_nozzle_follows_the_active_extruder() -> None:
    """The left extruder in use (as ha-bambulab's X2D and H2D Pro captures show)."""
    state = state_of("MOCK-H2D", {"device": h2d_device(state=LEFT_ACTIVE)})
    temps = state.temperatures
    assert temps.active_nozzle == 1
    left = next(nozzle for nozzle in temps.nozzles if nozzle.index == 1)
    assert (left.current, left.target) == (47.0, 0.0)
    # The top-level fields still carry 245 degC; the extruder in use is the left one.
    assert (temps.nozzle, temps.nozzle_target) == (47.0, 0.0)


def test_right_extruder_in_use_is_the_generic_nozzle() -> None:
    temps = state_of("MOCK-H2D").temperatures
    assert temps.active_nozzle == 0
    assert (temps.nozzle, temps.nozzle_target) == (245.0, 245.0)


def test_idle_extruder_snow_does_not_make_the_left_spool_active() -> None:
    """0xFEFF: unit 254 with slot 0xFF is nothing loaded, not the left external spool."""
    state = state_of("MOCK-H2D", {"device": h2d_device(state=LEFT_ACTIVE)})
    assert state.active_tray is None
    assert not any(spool.active for spool in state.external_spools)


def test_loaded_external_spool_is_active_and_its_amount_unknown() -> None:
    """snow 0xFF00 (unit 255, slot 0): the right nozzle's external spool feeds it."""
    info = pushall_report("MOCK-H2D")["print"]["device"]["extruder"]["info"]
    info[0]["snow"] = 0xFF00
    vir_slot = pushall_report("MOCK-H2D")["print"]["vir_slot"]
    vir_slot[1].update(tray_type="TPU", tray_color="9B9EA0FF", remain=0)
    state = state_of("MOCK-H2D", {"device": h2d_device(info=info), "vir_slot": vir_slot})
    tray = state.active_tray
    assert tray is not None
    assert (tray.ams_id, tray.tray_id, tray.type) == (None, 255, "TPU")
    assert tray.remain is None  # no RFID on an external spool: not 0 %
    assert [spool.active for spool in state.external_spools] == [False, True]


def test_external_spool_ids_belong_to_nozzles() -> None:
    assert EXTERNAL_SPOOL_NOZZLE == {255: 0, 254: 1}  # 0 right (main), 1 left (deputy)


@pytest.mark.parametrize("name", ["P1P", "MOCK-P1PNOAMS", "MOCK-A1"])
def test_single_external_spool_remain_is_unknown(name: str) -> None:
    (spool,) = state_of(name).external_spools
    assert spool.type is not None
    assert spool.remain is None


def test_transparent_filament_is_not_black() -> None:
    ams = pushall_report("MOCK-X1CMULTIAMS")["print"]["ams"]
    ams["ams"][0]["tray"][0].update(tray_color="00000000", cols=["00000000"])
    tray = state_of("MOCK-X1CMULTIAMS", {"ams": ams}).ams[0].trays[0]
    assert (tray.type, tray.alpha, tray.transparent) == ("PLA", 0, True)
    black = state_of("MOCK-X1CMULTIAMS").ams[1].trays[3]
    assert (black.color, black.alpha, black.transparent) == ("#87909A", 255, False)


# ------------------------------------------------------------------------- AMS units


def test_humidity_level_on_the_apps_scale() -> None:
    """Printer 5 = dry; Bambu Studio and the app show 1 = dry .. 5 = wet."""
    units = state_of("MOCK-X1CMULTIAMS").ams
    assert [unit.humidity_level for unit in units] == [1, 1, 2, 1]


def test_ams_ht_humidity_zero_is_unknown() -> None:
    ams = pushall_report("MOCK-X1CMULTIAMS")["print"]["ams"]
    ams["ams"][3]["humidity"] = "0"  # as ha-bambulab's H2D Pro capture shows for its AMS HT
    ht = state_of("MOCK-X1CMULTIAMS", {"ams": ams}).ams[3]
    assert (ht.id, ht.kind, ht.humidity_level, ht.humidity_percent) == (
        128,
        AmsKind.AMS_HT,
        None,
        8,
    )


@pytest.mark.parametrize("with_versions", [True, False])
def test_ams_lite_numbered_16_has_no_humidity(with_versions: bool) -> None:
    """The A2L numbers its AMS lite 16 (module ams_f1/16) and reports humidity_raw "0"."""
    ams = pushall_report("MOCK-A1")["print"]["ams"]
    ams["ams"][0].update(id="16", humidity_raw="0")
    ams["tray_now"] = "255"
    report = pushall_report("MOCK-A1")
    report["print"]["ams"] = ams
    state = PrinterState()
    if with_versions:
        versions = version_report("MOCK-A1")
        for module in versions["info"]["module"]:
            if module["name"] == "ams_f1/0":
                module["name"] = "ams_f1/16"
        state.apply(versions, now=NOW)
    state.apply(report, now=NOW)
    (unit,) = state.ams
    assert (unit.id, unit.kind) == (16, AmsKind.AMS_LITE)
    assert (unit.humidity_level, unit.humidity_percent) == (None, None)


def test_drying_ams() -> None:
    """The X1C capture's AMS 2 Pro (unit 2) dries: dry_time 583 minutes left, 65 degC."""
    units = state_of("MOCK-X1CMULTIAMS").ams
    assert [(unit.drying, unit.dry_time_minutes) for unit in units] == [
        (False, 0),
        (False, 0),
        (True, 583),
        (False, 0),
    ]
    assert units[2].temperature == 65.0


# ------------------------------------------------------------------------- door


@pytest.mark.parametrize(
    ("name", "changes", "expected"),
    [
        ("MOCK-X1CMULTIAMS", {}, False),  # its `stat` has the bit set: not the X1's door
        ("MOCK-X1CMULTIAMS", {"home_flag": -1067070064 | DOOR_BIT}, True),
        ("MOCK-H2D", {}, False),
        ("MOCK-H2D", {"stat": f"{0x16382181F0 | DOOR_BIT:X}"}, True),
        ("P1P", {}, None),  # no door sensor
        ("MOCK-A1", {"stat": "FFFFFFFF"}, None),
    ],
)
def test_door(name: str, changes: dict[str, Any], expected: bool | None) -> None:
    assert state_of(name, changes).door_open is expected


def test_door_follows_deltas() -> None:
    state = state_of("MOCK-H2D")
    assert state.apply({"print": {"stat": f"{0x16382181F0 | DOOR_BIT:X}"}}, now=NOW)
    assert state.door_open is True


# ------------------------------------------------------------------------- chamber


def test_p2s_chamber_comes_from_ctc() -> None:
    """The P2S sends its chamber temperature only in device.ctc (ha-bambulab's P2S capture)."""
    versions = version_report("MOCK-X1CMULTIAMS")
    versions["info"]["module"][0]["product_name"] = "Bambu Lab P2S"
    report = pushall_report("MOCK-X1CMULTIAMS")
    assert "chamber_temper" not in report["print"]
    state = PrinterState()
    state.apply(versions, now=NOW)
    state.apply(report, now=NOW)
    assert state.model is PrinterModel.P2S
    assert state.temperatures.chamber == 25.0


# ------------------------------------------------------------------------- nozzle


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("MOCK-H2D", ("hardened_steel", 0.4)),  # device.nozzle "HS01" beats "stainless_steel"
        ("MOCK-X1CMULTIAMS", ("hardened_steel", 0.4)),  # "HX01"
        ("P1P", ("hardened_steel", 0.4)),
        ("MOCK-A1", ("stainless_steel", 0.4)),
    ],
)
def test_nozzle_type_and_diameter(name: str, expected: tuple[str, float]) -> None:
    nozzle = state_of(name).nozzle
    assert (nozzle.type, nozzle.diameter) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("HS00", "stainless_steel"),
        ("HS01", "hardened_steel"),
        ("HS05", "tungsten_carbide"),
        ("HH01", "high_flow_hardened_steel"),
        ("HE00", "high_flow_stainless_steel"),
        ("HU01", "tpu_high_flow"),
        ("HS01-0.4", "hardened_steel"),  # as ha-bambulab's H2C capture names it
        ("stainless_steel", "stainless_steel"),
        ("HS99", "unknown"),
        ("brass", "unknown"),
        ("", None),
        (None, None),
    ],
)
def test_nozzle_type_codes(code: Any, expected: str | None) -> None:
    assert parsing.nozzle_type_name(code) == expected


def test_nozzle_of_the_extruder_in_use() -> None:
    nozzle = pushall_report("MOCK-H2D")["print"]["device"]["nozzle"]
    nozzle["info"][1].update(type="HH01", diameter=0.6)
    state = state_of("MOCK-H2D", {"device": {**h2d_device(state=LEFT_ACTIVE), "nozzle": nozzle}})
    assert (state.nozzle.type, state.nozzle.diameter) == ("high_flow_hardened_steel", 0.6)
    assert [spec.type for spec in state.nozzle.nozzles] == [
        "hardened_steel",
        "high_flow_hardened_steel",
    ]


def test_single_extruder_keeps_the_precise_top_level_nozzle() -> None:
    """One extruder: `nozzle_temper` is it, with more precision than device's packed integer."""
    temps = state_of("MOCK-X1CMULTIAMS", {"nozzle_temper": 26.4375}).temperatures
    assert (temps.nozzle, temps.active_nozzle) == (26.4375, 0)


def test_single_extruder_falls_back_to_device() -> None:
    changes = {"nozzle_temper": None, "nozzle_target_temper": "x"}
    temps = state_of("MOCK-X1CMULTIAMS", changes).temperatures
    assert (temps.nozzle, temps.nozzle_target) == (26.0, 0.0)
