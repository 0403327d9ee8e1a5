"""The simulator plays each model with the library's capabilities, and its reports agree."""

import pytest

from custom_components.bambu_printer.printer.models import (
    CameraKind,
    PrinterModel,
    ams_kind_from_module,
    identify_from_version,
)
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


# P2S and H2D firmware always names the product; older-style lists exist for the others only.
VERSION_STYLES = [(model, False) for model in SIMULATED] + [
    (model, True) for model in SIMULATED if model not in (PrinterModel.P2S, PrinterModel.H2D)
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
