"""Temperature and fan commands, and the state they set (docs/protocol.md, "Controls")."""

from typing import Any

import pytest

from custom_components.bambu_printer.printer.commands import (
    CommandFactory,
    Fan,
    fan_speed_value,
)
from custom_components.bambu_printer.printer.models import PrinterModel
from custom_components.bambu_printer.printer.state import PrinterState


@pytest.fixture
def factory() -> CommandFactory:
    return CommandFactory()


def test_single_nozzle_target_is_m104(factory: CommandFactory) -> None:
    command = factory.set_nozzle_temperature(215)
    body = {"sequence_id": command.sequence_id, "command": "gcode_line", "param": "M104 S215\n"}
    assert command.payload == {"print": body}


@pytest.mark.parametrize("extruder", [0, 1])
def test_dual_nozzle_target_is_set_nozzle_temp(factory: CommandFactory, extruder: int) -> None:
    """Bambu Studio's per-extruder command, with QoS 1."""
    command = factory.set_nozzle_temperature(250, extruder)
    assert command.payload == {
        "print": {
            "sequence_id": command.sequence_id,
            "command": "set_nozzle_temp",
            "extruder_index": extruder,
            "target_temp": 250,
        }
    }
    assert command.qos == 1


def test_bed_target_is_m140(factory: CommandFactory) -> None:
    assert factory.set_bed_temperature(60).payload["print"]["param"] == "M140 S60\n"


def test_chamber_target_is_set_ctt(factory: CommandFactory) -> None:
    command = factory.set_chamber_temperature(45)
    assert command.payload == {
        "print": {"sequence_id": command.sequence_id, "command": "set_ctt", "ctt_val": 45}
    }
    assert command.qos == 1


@pytest.mark.parametrize(
    ("fan", "percent", "param"),
    [
        (Fan.PART_COOLING, 100, "M106 P1 S255\n"),
        (Fan.AUX, 50, "M106 P2 S128\n"),
        (Fan.CHAMBER, 0, "M106 P3 S0\n"),
        (Fan.PART_COOLING, 34, "M106 P1 S77\n"),  # 30 %: the 10 % steps the gears show
    ],
)
def test_fan_is_m106(factory: CommandFactory, fan: Fan, percent: int, param: str) -> None:
    assert factory.set_fan(fan, percent).payload["print"]["param"] == param


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda f: f.set_nozzle_temperature(-1), ValueError),
        (lambda f: f.set_nozzle_temperature(401), ValueError),
        (lambda f: f.set_nozzle_temperature(200.5), TypeError),
        (lambda f: f.set_nozzle_temperature(True), TypeError),
        (lambda f: f.set_nozzle_temperature(200, 2), ValueError),
        (lambda f: f.set_nozzle_temperature(200, True), ValueError),
        (lambda f: f.set_bed_temperature(500), ValueError),
        (lambda f: f.set_chamber_temperature(-5), ValueError),
        (lambda f: f.set_fan(Fan.AUX, 101), ValueError),
        (lambda f: f.set_fan(Fan.AUX, 50.0), ValueError),
        (lambda f: f.set_fan(7, 50), ValueError),
    ],
)
def test_out_of_range_values_are_not_built(
    factory: CommandFactory, call: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        call(factory)


def test_fan_speed_value_bounds() -> None:
    assert [fan_speed_value(p) for p in (0, 4, 5, 96, 100)] == [0, 0, 26, 255, 255]


def test_model_limits_follow_bambu_studio() -> None:
    """Nozzle, bed and chamber maxima as BambuStudio's printer profiles give them."""
    limits = {model: (model.nozzle_max, model.bed_max, model.chamber_max) for model in PrinterModel}
    assert limits[PrinterModel.X1C] == (300, 120, None)
    assert limits[PrinterModel.X1E] == (320, 110, 60)
    assert limits[PrinterModel.A1_MINI] == (300, 80, None)
    assert limits[PrinterModel.P1S] == (300, 100, None)
    assert limits[PrinterModel.P2S] == (300, 110, None)
    assert limits[PrinterModel.H2D] == (350, 120, 65)
    assert limits[PrinterModel.X2D] == (300, 120, 65)
    assert limits[PrinterModel.UNKNOWN] == (300, 120, None)


def _state(print_body: dict[str, Any]) -> PrinterState:
    state = PrinterState()
    state.apply({"print": {"command": "push_status", **print_body}})
    return state


def test_chamber_target_is_the_high_half_of_ctc() -> None:
    state = _state({"device": {"ctc": {"info": {"temp": (45 << 16) | 38}}}})
    assert (state.temperatures.chamber, state.temperatures.chamber_target) == (38.0, 45.0)


@pytest.mark.parametrize(
    ("upgrade", "updating", "progress"),
    [
        ({"status": "DOWNLOADING", "progress": "37"}, True, 37),
        ({"status": "FLASHING", "progress": 80}, True, 80),
        ({"status": "UPGRADE_SUCCESS", "progress": "100"}, False, None),
        ({"status": "IDLE", "progress": ""}, False, None),
        ({"status": "DOWNLOADING", "progress": "junk"}, True, None),
        ({}, False, None),
        ({"status": ["DOWNLOADING"], "progress": "5"}, False, None),  # odd type: no crash
    ],
)
def test_firmware_update_progress(
    upgrade: dict[str, Any], updating: bool, progress: int | None
) -> None:
    """Only the in-progress statuses carry a progress; a finished one keeps saying 100."""
    firmware = _state({"upgrade_state": {"new_version_state": 2, **upgrade}}).firmware
    assert (firmware.updating, firmware.progress) == (updating, progress)


def test_start_drying(factory: CommandFactory) -> None:
    """pybambu's drying request: mode 1, cooling temperature 45 (else ignored), hours."""
    command = factory.start_drying(128, 80, 6, rotate_tray=True)
    assert command.payload == {
        "print": {
            "sequence_id": command.sequence_id,
            "command": "ams_filament_drying",
            "ams_id": 128,
            "temp": 80,
            "cooling_temp": 45,
            "duration": 6,
            "humidity": 0,
            "mode": 1,
            "rotate_tray": True,
            "filament": "",
            "close_power_conflict": False,
        }
    }


def test_stop_drying(factory: CommandFactory) -> None:
    body = factory.stop_drying(2).payload["print"]
    assert (body["command"], body["ams_id"], body["mode"]) == ("ams_filament_drying", 2, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda f: f.start_drying(0, 44, 2),
        lambda f: f.start_drying(0, 60, 0),
        lambda f: f.start_drying(0, 60, 25),
        lambda f: f.start_drying(0, 60, 2.5),
        lambda f: f.start_drying(-1, 60, 2),
        lambda f: f.start_drying(256, 60, 2),
        lambda f: f.stop_drying(True),
    ],
)
def test_impossible_drying_is_not_built(factory: CommandFactory, call: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        call(factory)


def test_set_airduct(factory: CommandFactory) -> None:
    """Bambu Studio's request: the mode id and submode -1."""
    command = factory.set_airduct(1)
    assert command.payload == {
        "print": {
            "sequence_id": command.sequence_id,
            "command": "set_airduct",
            "modeId": 1,
            "submode": -1,
        }
    }
    with pytest.raises(ValueError):
        factory.set_airduct(-1)


@pytest.mark.parametrize(
    ("airduct", "expected"),
    [
        ({"modeCur": 0, "modeList": [{"modeId": 0}, {"modeId": 1}, {"modeId": 2}]}, (0, (0, 1, 2))),
        ({"modeCur": "1", "modeList": [{"modeId": 1}, {"modeId": 1}, "x", {}]}, (1, (1,))),
        ({"modeList": "junk"}, (None, ())),
    ],
)
def test_airduct_view(airduct: dict[str, Any], expected: tuple[Any, ...]) -> None:
    view = _state({"device": {"airduct": airduct}}).airduct
    assert view is not None
    assert (view.mode, view.modes) == expected


def test_no_airduct() -> None:
    assert _state({"device": {"ctc": {}}}).airduct is None
