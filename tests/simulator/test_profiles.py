"""The simulator plays each model with the library's capabilities, and its reports agree."""

import pytest

from custom_components.bambu_printer.printer.models import (
    AmsKind,
    CameraKind,
    DoorSensor,
    PrinterModel,
    ams_kind_from_module,
    identify_from_version,
)
from custom_components.bambu_printer.printer.state import PrinterState
from simulator.engine import MODELS, VirtualPrinter, normalize_model
from simulator.printer.profiles import PROFILES

SIMULATED = tuple(PROFILES)


def running(model: PrinterModel) -> VirtualPrinter:
    """Return a printer of `model` a minute into printing its layers."""
    vp = VirtualPrinter("01S00A000000001", model.key, seed=5, printing=True)
    while not (vp.gcode_state == "RUNNING" and vp.stage == 0):
        vp.advance(5)
    vp.advance(60)
    return vp


def test_models_are_the_librarys() -> None:
    assert all(profile.model is model for model, profile in PROFILES.items())
    assert {model.key: profile for model, profile in PROFILES.items()} == MODELS
    assert PrinterModel.UNKNOWN not in PROFILES
    for model in SIMULATED:
        assert normalize_model(model.key) == model.key
        assert normalize_model(model.product_name) == model.key
    with pytest.raises(ValueError, match="unknown printer model"):
        normalize_model("H2S")  # known to the library, not simulated


# P2S, H2 and newer firmware always names the product; older-style lists exist for the others.
_NAMED_ONLY = {
    PrinterModel.P2S,
    PrinterModel.H2D,
    PrinterModel.H2D_PRO,
    PrinterModel.H2C,
    PrinterModel.X2D,
    PrinterModel.A2L,
}
VERSION_STYLES = [(model, False) for model in SIMULATED] + [
    (model, True) for model in SIMULATED if model not in _NAMED_ONLY
]


@pytest.mark.parametrize(("model", "legacy"), VERSION_STYLES)
def test_get_version_identifies_the_model(model: PrinterModel, legacy: bool) -> None:
    vp = VirtualPrinter("SERIAL", model.key, legacy_firmware=legacy, ams_units=2)
    modules = vp.version_report()["info"]["module"]
    assert identify_from_version(modules) is model
    kinds = {ams_kind_from_module(module["name"]) for module in modules} - {None}
    assert kinds == {PROFILES[model].ams_kind}
    assert kinds <= model.ams_kinds


@pytest.mark.parametrize("model", SIMULATED)
def test_reports_follow_the_capabilities(model: PrinterModel) -> None:
    vp = running(model)
    report = vp.full_report()["print"]
    if model.camera is CameraKind.RTSPS:
        vp.set_lan_liveview(True)
        assert vp.full_report()["print"]["ipcam"]["rtsp_url"].startswith("rtsps://")
    else:
        assert "rtsp_url" not in report["ipcam"]
    assert (report["big_fan1_speed"] != "0") is model.aux_fan
    assert (report["big_fan2_speed"] != "0") is model.chamber_fan
    extruders = report.get("device", {}).get("extruder", {}).get("info", [{}])
    assert len(extruders) == model.nozzles
    assert vp.full_reports is model.full_reports
    first, second = vp.status_report(), vp.status_report()
    assert first is not None
    if model.full_reports:
        assert second is not None
        assert set(second["print"]) == set(report)
    else:
        assert second is None  # nothing changed, so no delta


@pytest.mark.parametrize("model", SIMULATED)
def test_chamber_warms_only_where_measured(model: PrinterModel) -> None:
    vp = VirtualPrinter("S", model.key, seed=4, printing=True)
    before = vp.chamber_temp
    vp.advance(3600)
    assert (vp.chamber_temp > before + 3) is model.chamber_sensor


# ----------------------------------------------------------------- issue 13: real behaviour


def state_of(vp: VirtualPrinter) -> PrinterState:
    """Return what the library makes of the printer's get_version reply and full report."""
    state = PrinterState()
    state.apply(vp.version_report())
    state.apply(vp.full_report())
    return state


NEW_MODELS = (PrinterModel.H2C, PrinterModel.H2D_PRO, PrinterModel.X2D, PrinterModel.A2L)


@pytest.mark.parametrize("model", NEW_MODELS)
def test_new_models_are_simulated(model: PrinterModel) -> None:
    assert model in PROFILES
    vp = running(model)
    state = state_of(vp)
    assert state.model is model
    if model.dual_nozzle:
        assert len(state.temperatures.nozzles) == 2
    assert (state.temperatures.chamber is not None) is model.chamber_sensor


@pytest.mark.parametrize("model", [m for m in SIMULATED if m.dual_nozzle])
def test_dual_nozzle_extruders_report_the_tray_in_use(model: PrinterModel) -> None:
    """The extruder in use (0, right) names the job's tray in `snow`; the idle one 0xFEFF."""
    vp = running(model)
    extruder = vp.full_report()["print"]["device"]["extruder"]
    assert extruder["state"] & 0xF == 2  # two extruders
    assert (extruder["state"] >> 4) & 0xF == 0  # the right one in use
    tray = int(vp.tray_now)
    assert extruder["info"][0]["snow"] == ((tray >> 2) << 8) | (tray & 3)
    assert extruder["info"][1]["snow"] == 0xFEFF
    state = state_of(vp)
    active = state.active_tray
    assert active is not None
    assert (active.ams_id, active.tray_id) == (tray >> 2, tray & 3)
    assert state.temperatures.nozzle == state.temperatures.nozzles[0].current


@pytest.mark.parametrize("model", SIMULATED)
def test_door(model: PrinterModel) -> None:
    vp = VirtualPrinter("S", model.key, seed=2)
    has_door = model.door_sensor(vp.profile.ota_version) is not DoorSensor.NONE
    assert state_of(vp).door_open is (False if has_door else None)
    vp.set_door_open(True)
    assert state_of(vp).door_open is (True if has_door else None)
    vp.set_door_open(False)
    assert state_of(vp).door_open is (False if has_door else None)


def test_drying_ams_counts_down() -> None:
    vp = VirtualPrinter("S", "H2D", seed=3, ams_units=2)
    vp.start_drying(1, hours=2, temperature=65)
    unit = state_of(vp).ams[1]
    assert (unit.drying, unit.dry_time_minutes, unit.temperature) == (True, 120, 65.0)
    assert state_of(vp).ams[0].drying is False
    vp.advance(3600)
    assert state_of(vp).ams[1].dry_time_minutes == 60
    vp.advance(3600)
    unit = state_of(vp).ams[1]
    assert (unit.drying, unit.dry_time_minutes) == (False, 0)
    assert unit.temperature is not None
    assert unit.temperature < 65.0


@pytest.mark.parametrize("model", [PrinterModel.X1C, PrinterModel.P1S, PrinterModel.A1])
def test_only_ams_2_pro_and_ht_dry(model: PrinterModel) -> None:
    vp = VirtualPrinter("S", model.key, seed=3, ams_units=1)
    first = state_of(vp).ams[0].id
    with pytest.raises(ValueError, match="cannot dry"):
        vp.start_drying(first, hours=1, temperature=50)


def test_a2l_numbers_its_ams_lite_16() -> None:
    vp = running(PrinterModel.A2L)
    modules = [module["name"] for module in vp.version_report()["info"]["module"]]
    assert "ams_f1/16" in modules
    state = state_of(vp)
    (unit,) = state.ams
    assert (unit.id, unit.kind, unit.humidity_level, unit.humidity_percent) == (
        16,
        AmsKind.AMS_LITE,
        None,
        None,
    )
    active = state.active_tray
    assert active is not None
    assert active.ams_id == 16


@pytest.mark.parametrize(
    "model", [PrinterModel.P2S, PrinterModel.H2C, PrinterModel.H2D_PRO, PrinterModel.X2D]
)
def test_chamber_in_ctc_only(model: PrinterModel) -> None:
    """ha-bambulab's captures of these models carry device.ctc and no chamber_temper."""
    vp = running(model)
    report = vp.full_report()["print"]
    assert "chamber_temper" not in report
    assert state_of(vp).temperatures.chamber == report["device"]["ctc"]["info"]["temp"]


@pytest.mark.parametrize(
    ("model", "has_msg"),
    [
        (PrinterModel.H2D, False),  # our H2D capture, and ha-bambulab's H2D Pro capture
        (PrinterModel.H2D_PRO, False),
        (PrinterModel.H2C, True),  # ha-bambulab's H2C and X2D captures: msg 0
        (PrinterModel.X2D, True),
    ],
)
def test_full_reports_carry_msg_as_captured(model: PrinterModel, has_msg: bool) -> None:
    vp = VirtualPrinter("S", model.key, seed=1)
    vp.status_report()
    report = vp.handle_request({"pushing": {"command": "pushall", "sequence_id": "1"}})[0]
    assert ("msg" in report["print"]) is has_msg
