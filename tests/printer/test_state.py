"""PrinterState: every capture parses to hand-checked views; deltas merge correctly."""

import copy
import json
import logging
import time
from datetime import UTC, datetime
from fractions import Fraction
from math import ceil
from types import MappingProxyType
from typing import Any

import pytest

from custom_components.bambu_printer.printer import state as state_module
from custom_components.bambu_printer.printer.models import AmsKind, PrinterModel
from custom_components.bambu_printer.printer.state import (
    MAX_LIST,
    MAX_STRING,
    STAGE_OPTIONS,
    STAGES,
    VIEW_NAMES,
    AmsUnit,
    Camera,
    Fans,
    Firmware,
    GcodeState,
    HmsMessage,
    Nozzle,
    NozzleSpec,
    NozzleTemperature,
    PrintError,
    PrinterState,
    Speed,
    Temperatures,
    Tray,
    merge,
    parsing,
)
from tests.captures import CAPTURE_NAMES, pushall_report, version_report

NOW = 1_750_000_000.0
VIEWS = VIEW_NAMES


def loaded(name: str, *, version: bool = True) -> PrinterState:
    state = PrinterState()
    assert state.apply(pushall_report(name), now=NOW)
    if version:
        assert state.apply(version_report(name))
    return state


def delta(**fields: Any) -> dict[str, Any]:
    """A P1-style delta report."""
    return {"print": {"command": "push_status", "msg": 1, "sequence_id": "9", **fields}}


def colours(unit: AmsUnit) -> list[str | None]:
    return [tray.color for tray in unit.trays]


# --------------------------------------------------------------------------- captures


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_every_capture_parses(name: str) -> None:
    state = loaded(name)
    for view in VIEWS:
        getattr(state, view)
    assert state.revision == 2
    # The same reports again change nothing.
    assert not state.apply(pushall_report(name), now=NOW + 5)
    assert not state.apply(version_report(name))
    assert state.revision == 2
    json.dumps(dict(state.print_data))


def test_p1p() -> None:
    state = loaded("P1P")
    assert state.model is PrinterModel.P1P
    assert state.temperatures == Temperatures(
        nozzle=21.25,
        nozzle_target=0.0,
        bed=19.84375,
        bed_target=0.0,
        chamber=None,  # P1 reports chamber_temper 5, which is meaningless
        nozzles=(),
        active_nozzle=None,
    )
    job = state.job
    assert job.state is GcodeState.FAILED
    assert (job.stage_code, job.stage) == (0, "idle")
    # The stopped job's stale 759 minutes are not shown.
    assert (job.percent, job.remaining_minutes, job.end_time) == (0, None, None)
    assert (job.layer, job.total_layers) == (1, 70)
    assert (job.name, job.file, job.print_type) == ("Fidget Collection", None, "idle")
    assert state.speed == Speed(level=2, profile="standard", percent=100)
    assert state.fans == Fans(part_cooling=0, aux=0, chamber=0, heatbreak=0)
    assert state.wifi_dbm == -53
    assert dict(state.lights) == {"chamber_light": "off"}
    assert state.hms == ()
    assert state.print_error == PrintError(code=0, formatted="0000_0000")
    assert not state.print_error.active
    assert state.sdcard is True
    assert state.firmware == Firmware(
        version="01.07.00.00", update_available=False, new_version=None, ams_update_available=False
    )
    assert state.camera == Camera(  # no `rtsp_url`: P1 printers have no RTSPS stream
        rtsp_enabled=None, rtsp_url=None, recording=True, timelapse=False, resolution=None
    )
    assert state.nozzle == Nozzle(diameter=0.4, type="hardened_steel", nozzles=())
    (unit,) = state.ams
    assert (unit.id, unit.kind, unit.humidity_level, unit.humidity_percent) == (
        0,
        AmsKind.AMS,
        3,
        None,
    )
    assert (unit.temperature, unit.firmware) == (0.0, "00.00.06.49")
    assert colours(unit) == ["#D357FE"] * 4
    assert [tray.remain for tray in unit.trays] == [None] * 4  # remain -1 = unknown
    first = unit.trays[0]
    assert first == Tray(
        ams_id=0,
        tray_id=0,
        type="PLA",
        sub_brand=None,
        filament_id="GFL96",
        color="#D357FE",
        alpha=255,
        colors=("#D357FE",),
        remain=None,
        nozzle_temp_min=190,
        nozzle_temp_max=240,
        k=0.019999999552965164,
        active=True,  # tray_now "0"
        empty=False,
    )
    assert [tray.active for tray in unit.trays] == [True, False, False, False]
    assert state.active_tray is first
    (spool,) = state.external_spools
    assert (spool.ams_id, spool.tray_id, spool.type, spool.color, spool.remain) == (
        None,
        254,
        "PLA",
        "#161616",
        None,  # `remain` 0: an external spool has no RFID reading
    )
    assert not spool.active


def test_a1() -> None:
    state = loaded("MOCK-A1")
    assert state.model is PrinterModel.A1
    temps = state.temperatures
    assert (temps.nozzle, temps.bed, temps.chamber) == (27.8125, 29.75, None)
    job = state.job
    assert job.state is GcodeState.IDLE
    assert job.stage == "idle"  # stg_cur 0 while idle is not "printing"
    assert (job.percent, job.remaining_minutes, job.layer, job.total_layers) == (0, None, 0, 0)
    assert job.name is None
    assert state.wifi_dbm == -48
    (unit,) = state.ams
    assert unit.kind is AmsKind.AMS_LITE  # module ams_f1/0
    assert unit.firmware == "00.00.07.94"
    assert unit.humidity_level is None  # "5", but the AMS lite has no humidity sensor
    assert colours(unit) == ["#76D9F4", "#FFF144", "#FF80FF", "#0ACC38"]
    assert [tray.remain for tray in unit.trays] == [100] * 4
    assert [tray.filament_id for tray in unit.trays] == [
        "P8d19ba6",
        "P3a4d8cf",
        "P8d19ba6",
        "P3a4d8cf",
    ]
    assert state.active_tray is None  # tray_now 255
    assert not any(tray.active for tray in unit.trays)
    (spool,) = state.external_spools
    assert (spool.tray_id, spool.type, spool.color) == (254, "PLA", "#FFFFFF")
    assert state.firmware.version == "01.05.00.00"
    assert state.camera.resolution == "1080p"
    assert state.nozzle.type == "stainless_steel"


def test_x1c_multi_ams() -> None:
    state = loaded("MOCK-X1CMULTIAMS")
    assert state.model is PrinterModel.X1C
    assert state.temperatures == Temperatures(
        nozzle=26.0,
        nozzle_target=0.0,
        bed=23.0,
        bed_target=0.0,
        chamber=25.0,  # no chamber_temper: device.ctc.info.temp
        nozzles=(NozzleTemperature(index=0, current=26.0, target=0.0),),
        active_nozzle=0,
        chamber_target=0.0,  # the high half of device.ctc.info.temp
    )
    job = state.job
    assert job.state is GcodeState.FINISH
    assert (job.stage_code, job.stage) == (-1, "idle")
    assert (job.percent, job.remaining_minutes, job.layer, job.total_layers) == (100, 0, 480, 480)
    assert job.file == "/data/Metadata/plate_1.gcode"
    assert job.name == "Garden Hose Healer: Male fitting"
    assert job.print_type is None  # ""
    assert job.end_time is None  # finished
    assert state.wifi_dbm == -66
    assert dict(state.lights) == {"chamber_light": "on", "work_light": "flashing"}
    units = state.ams
    assert [unit.id for unit in units] == [0, 1, 2, 128]
    assert [unit.kind for unit in units] == [
        AmsKind.AMS,
        AmsKind.AMS,
        AmsKind.AMS_2_PRO,
        AmsKind.AMS_HT,
    ]
    assert [unit.humidity_level for unit in units] == [1, 1, 2, 1]  # "5" "5" "4" "5": 5 = dry
    assert [unit.humidity_percent for unit in units] == [8, 4, 9, 8]
    assert [unit.temperature for unit in units] == [26.2, 25.4, 65.0, 45.2]
    assert [unit.dry_time_minutes for unit in units] == [0, 0, 583, 0]
    assert [unit.firmware for unit in units] == [
        "00.01.06.62",
        "00.01.06.62",
        "02.00.19.68",
        "02.00.19.67",
    ]
    assert colours(units[0]) == ["#000000", "#7D6556", "#4D3324", "#AE835B"]
    assert [tray.remain for tray in units[0].trays] == [93, 100, 100, 83]
    assert colours(units[1]) == ["#D32941", "#489FDF", "#FFFFFF", "#87909A"]
    assert [tray.remain for tray in units[1].trays] == [21, 20, 71, 100]
    assert [tray.type for tray in units[1].trays] == ["ABS"] * 4
    empty = units[2].trays[0]  # {"id": "0", "state": 0}
    assert empty.empty
    assert (empty.type, empty.color, empty.remain) == (None, None, None)
    assert colours(units[2])[1:] == ["#FF6A13", "#789D4A", "#000000"]
    (ht,) = units[3].trays
    assert (ht.type, ht.sub_brand, ht.color, ht.remain) == ("PA-CF", "PAHT-CF", "#000000", 100)
    assert (ht.nozzle_temp_min, ht.nozzle_temp_max) == (260, 290)
    assert ht.k is None  # newer firmware sends no k per tray
    assert state.active_tray is None  # tray_now 255
    (spool,) = state.external_spools  # vir_slot with one empty holder, id 255
    assert (spool.tray_id, spool.empty, spool.color) == (255, True, None)
    assert state.firmware == Firmware(
        version="01.09.00.01", update_available=False, new_version=None, ams_update_available=False
    )
    assert state.camera.rtsp_enabled
    assert state.camera.rtsp_url == "**REDACTED**"
    assert state.nozzle == Nozzle(
        diameter=0.4,
        type="hardened_steel",
        nozzles=(NozzleSpec(index=0, diameter=0.4, type="hardened_steel"),),
    )
    assert state.hms == ()


def test_h2d_dual_nozzle() -> None:
    state = loaded("MOCK-H2D")
    assert state.model is PrinterModel.H2D
    temps = state.temperatures
    # device.extruder.info[].temp packs (target << 16) | current: 16056565 = 245 / 245.
    assert temps.nozzles == (
        NozzleTemperature(index=0, current=245.0, target=245.0),
        NozzleTemperature(index=1, current=47.0, target=0.0),
    )
    assert temps.active_nozzle == 0  # extruder state 2: (2 >> 4) & 0xF
    assert (temps.nozzle, temps.nozzle_target) == (245.0, 245.0)
    assert (temps.bed, temps.bed_target, temps.chamber) == (70.0, 70.0, 36.0)
    job = state.job
    assert job.state is GcodeState.RUNNING
    assert (job.stage_code, job.stage) == (0, "printing")
    assert (job.percent, job.remaining_minutes) == (6, 549)
    assert (job.layer, job.total_layers) == (1, 200)
    assert job.end_time == datetime.fromtimestamp(NOW + 549 * 60, UTC)
    assert job.name == "T-pose - slim H2D dual AMS riser"
    assert job.print_type == "local"
    assert state.fans == Fans(part_cooling=0, aux=0, chamber=30, heatbreak=100)
    assert state.wifi_dbm == -46
    assert dict(state.lights) == {
        "chamber_light": "on",
        "work_light": "flashing",
        "chamber_light2": "on",
    }
    units = state.ams
    assert [(unit.id, unit.kind) for unit in units] == [
        (0, AmsKind.AMS_2_PRO),
        (1, AmsKind.AMS_2_PRO),
    ]
    assert [unit.humidity_percent for unit in units] == [1, 6]
    assert [unit.temperature for unit in units] == [27.0, 29.7]
    assert [tray.type for tray in units[0].trays] == ["PLA-S", "PLA", "PETG", "PLA"]
    assert [tray.remain for tray in units[0].trays] == [1, 31, 100, 100]
    assert colours(units[0]) == ["#FFFFFF"] * 4
    assert colours(units[1]) == ["#000000", "#000000", "#000000", "#ADB1B2"]
    assert [tray.remain for tray in units[1].trays] == [55, 100, 100, 51]
    # The active extruder's snow 259 = AMS 1, slot 3 (tray_now "3" alone would say AMS 0).
    active = state.active_tray
    assert active is units[1].trays[3]
    assert (active.type, active.sub_brand, active.color) == ("PETG", "PETG HF", "#ADB1B2")
    assert [spool.tray_id for spool in state.external_spools] == [254, 255]
    assert all(spool.empty for spool in state.external_spools)
    assert state.firmware.version == "01.01.01.00"
    # "HS01" on both: hardened steel, standard flow
    assert [spec.type for spec in state.nozzle.nozzles] == ["hardened_steel", "hardened_steel"]


def test_p1p_without_ams() -> None:
    state = loaded("MOCK-P1PNOAMS")
    assert state.model is PrinterModel.P1P
    assert state.ams == ()
    job = state.job
    assert job.state is GcodeState.FINISH
    assert (job.stage_code, job.stage) == (255, "idle")
    assert (job.layer, job.total_layers, job.percent) == (124, 124, 100)
    assert job.name == "sensor_altanlås_v2_v3"
    assert state.temperatures.nozzle == 25.90625
    assert state.temperatures.bed == 23.125
    assert state.wifi_dbm == -42
    # tray_now "254": the external spool feeds the printer.
    active = state.active_tray
    assert active is not None
    assert (active.ams_id, active.tray_id, active.type, active.color) == (
        None,
        254,
        "PETG",
        "#BCBCBC",
    )
    assert (active.nozzle_temp_min, active.nozzle_temp_max) == (230, 280)
    assert state.firmware == Firmware(
        version="01.08.02.00", update_available=False, new_version=None, ams_update_available=False
    )
    assert dict(state.lights) == {"chamber_light": "on"}


def test_chamber_before_model_is_known() -> None:
    """Until get_version answers, the P1 chamber value is shown (entities decide later)."""
    state = loaded("P1P", version=False)
    assert state.model is None
    assert state.temperatures.chamber == 5.0
    state.apply(version_report("P1P"))
    assert state.temperatures.chamber is None


def test_unknown_model_keeps_fields() -> None:
    state = PrinterState()
    state.apply({"info": {"command": "get_version", "module": [{"name": "ota", "sw_ver": "1"}]}})
    assert state.model is PrinterModel.UNKNOWN
    state.apply(delta(chamber_temper=31))
    assert state.temperatures.chamber == 31.0
    assert state.firmware.version == "1"


# --------------------------------------------------------------------------- deltas


def test_p1_delta_merges_into_full_state() -> None:
    state = loaded("P1P")
    revision = state.revision
    assert state.apply(delta(mc_percent=42, nozzle_temper=215.5, layer_num="12"), now=NOW)
    assert state.revision == revision + 1
    job = state.job
    assert (job.percent, job.layer, job.total_layers) == (42, 12, 70)
    assert state.temperatures.nozzle == 215.5
    assert state.temperatures.bed == 19.84375  # untouched
    assert state.job.name == "Fidget Collection"
    # Same values again, or only bookkeeping fields: no change.
    assert not state.apply(delta(mc_percent=42, nozzle_temper=215.5, layer_num="12"))
    assert not state.apply({"print": {"command": "push_status", "msg": 1, "sequence_id": "77"}})
    assert state.revision == revision + 1


def test_nested_objects_merge_recursively() -> None:
    state = loaded("P1P")
    upgrade = {
        "new_version_state": 1,
        "new_ver_list": [{"name": "ota", "cur_ver": "01.07.00.00", "new_ver": "01.08.00.00"}],
    }
    assert state.apply(delta(upgrade_state=upgrade))
    assert state.firmware == Firmware(
        version="01.07.00.00",
        update_available=True,
        new_version="01.08.00.00",
        ams_update_available=False,
    )
    merged = state.print_data["upgrade_state"]
    assert merged["status"] == "IDLE"  # kept from the full report
    assert merged["new_version_state"] == 1
    assert state.apply(delta(ipcam={"rtsp_url": "rtsps://192.0.2.1/streaming/live/1"}))
    camera = state.camera
    assert camera.rtsp_enabled
    assert camera.rtsp_url == "rtsps://192.0.2.1/streaming/live/1"
    assert camera.recording is True  # ipcam_record kept
    assert state.apply(delta(ipcam={"rtsp_url": "disable"}))
    assert not state.camera.rtsp_enabled


def test_other_lists_are_replaced() -> None:
    state = loaded("MOCK-X1CMULTIAMS")
    assert state.apply(delta(lights_report=[{"node": "work_light", "mode": "off"}]))
    assert dict(state.lights) == {"work_light": "off"}
    hms = [{"attr": 0x03000100, "code": 0x00010007}]
    assert state.apply(delta(hms=hms))
    assert len(state.hms) == 1
    assert state.apply(delta(hms=[]))
    assert len(state.hms) == 0


def test_one_tray_of_one_unit_changes() -> None:
    state = loaded("MOCK-X1CMULTIAMS")
    before = state.ams
    change = {
        "ams": {"ams": [{"id": "1", "tray": [{"id": "2", "remain": 50, "tray_color": "FF0000FF"}]}]}
    }
    assert state.apply(delta(**change))
    after = state.ams
    assert [unit.id for unit in after] == [0, 1, 2, 128]
    tray = after[1].trays[2]
    assert (tray.remain, tray.color, tray.alpha) == (50, "#FF0000", 255)
    assert (tray.type, tray.sub_brand, tray.nozzle_temp_max) == ("ABS", "ABS", 270)  # merged
    assert after[1].trays[:2] == before[1].trays[:2]
    assert after[1].trays[3] == before[1].trays[3]
    assert after[1].humidity_percent == before[1].humidity_percent
    for index in (0, 2, 3):
        assert after[index] is before[index]  # untouched units are not even rebuilt
    assert after[1].trays[0] is before[1].trays[0]
    raw = state.print_data["ams"]["ams"][1]["tray"][2]
    assert raw["tray_uuid"] == "53274C367223430D9F1BDAE5E0B5C5D2"
    assert raw["remain"] == 50


def test_unit_level_delta_and_new_units() -> None:
    state = loaded("P1P")
    assert state.apply(delta(ams={"ams": [{"id": "0", "humidity": "1", "temp": "30.5"}]}))
    (unit,) = state.ams
    assert (unit.humidity_level, unit.temperature) == (5, 30.5)  # "1" = wet
    assert len(unit.trays) == 4  # trays kept
    new_unit = {"id": "1", "humidity": "4", "tray": [{"id": "0", "tray_type": "PETG"}]}
    assert state.apply(delta(ams={"ams": [new_unit]}))
    assert [unit.id for unit in state.ams] == [0, 1]
    assert state.ams[1].trays[0].type == "PETG"
    # A delta that does not list unit 1 keeps it; a full report (msg 0) without it drops it.
    assert not state.apply(delta(ams={"ams": [{"id": "0", "humidity": "1"}]}))
    assert [unit.id for unit in state.ams] == [0, 1]
    assert state.apply(pushall_report("P1P"))
    assert [unit.id for unit in state.ams] == [0]
    assert state.ams[0].humidity_level == 3  # "3"


def test_delta_marked_msg_0_keeps_unlisted_trays() -> None:
    """Only a report that looks full drops units and trays it does not list."""
    state = loaded("MOCK-X1CMULTIAMS")
    change = {"ams": {"ams": [{"id": "2", "tray": [{"id": "3", "remain": 5}]}]}, "msg": 0}
    assert state.apply({"print": {"command": "push_status", **change}})
    assert [unit.id for unit in state.ams] == [0, 1, 2, 128]
    assert [tray.remain for tray in state.ams[2].trays] == [None, 100, 62, 5]


def test_full_report_replaces_emptied_trays() -> None:
    state = loaded("MOCK-X1CMULTIAMS")
    report = pushall_report("MOCK-X1CMULTIAMS")
    report["print"]["ams"]["ams"][0]["tray"][1] = {"id": "1", "state": 0}  # spool taken out
    report["print"]["upgrade_state"].pop("message")
    assert state.apply(report)
    tray = state.ams[0].trays[1]
    assert (tray.empty, tray.type, tray.color, tray.remain) == (True, None, None, None)
    assert state.print_data["ams"]["ams"][0]["tray"][1] == {"id": "1", "state": 0}
    assert "message" not in state.print_data["upgrade_state"]
    assert state.ams[0].trays[0].type == "PLA"


def test_full_report_drops_removed_units_and_trays() -> None:
    state = loaded("MOCK-X1CMULTIAMS")
    report = pushall_report("MOCK-X1CMULTIAMS")
    units = report["print"]["ams"]["ams"]
    del units[3]  # the AMS HT was unplugged
    del units[0]["tray"][3]
    assert state.apply(report)
    assert [unit.id for unit in state.ams] == [0, 1, 2]
    assert len(state.ams[0].trays) == 3


def test_integer_ids_match_string_ids() -> None:
    state = loaded("P1P")
    assert state.apply(delta(ams={"ams": [{"id": 0, "tray": [{"id": 3, "remain": 7}]}]}))
    assert len(state.ams) == 1
    assert state.ams[0].trays[3].remain == 7


def test_list_without_ids_is_replaced() -> None:
    state = loaded("P1P")
    assert state.apply(delta(ams={"ams": [{"humidity": "2"}]}))
    assert state.ams == ()  # no usable unit ids
    assert state.print_data["ams"]["ams"] == [{"humidity": "2"}]


def test_messages_are_not_modified() -> None:
    report = pushall_report("MOCK-X1CMULTIAMS")
    pristine = copy.deepcopy(report)
    state = PrinterState()
    state.apply(report)
    change = delta(
        ams={"ams": [{"id": "0", "tray": [{"id": "1", "remain": 1}]}]}, device={"fan": 3}
    )
    change_copy = copy.deepcopy(change)
    state.apply(change)
    state.apply(delta(nozzle_temper=99, hms=[{"attr": 1, "code": 2}]))
    assert report == pristine
    assert change == change_copy
    assert state.print_data["ams"]["ams"][0]["tray"][1]["remain"] == 1


def test_print_data_and_views_are_read_only() -> None:
    state = loaded("P1P")
    with pytest.raises(TypeError):
        state.print_data["gcode_state"] = "IDLE"  # type: ignore[index]
    with pytest.raises(TypeError):
        state.lights["chamber_light"] = "on"  # type: ignore[index]
    with pytest.raises(TypeError):
        state.versions["ota"] = {}  # type: ignore[index]
    with pytest.raises(AttributeError):
        state.job.percent = 3  # type: ignore[misc]


def test_views_are_cached_until_a_relevant_change() -> None:
    state = loaded("MOCK-X1CMULTIAMS")
    views = {name: getattr(state, name) for name in VIEWS}
    assert state.apply(delta(mc_percent=1))
    assert state.job is not views["job"]
    for name in VIEWS:
        if name != "job" and views[name] is not None:
            assert getattr(state, name) is views[name], name


# --------------------------------------------------------------------------- job details


def test_end_time_counts_from_when_remaining_time_was_reported() -> None:
    state = loaded("MOCK-H2D")
    first = datetime.fromtimestamp(NOW + 549 * 60, UTC)
    assert state.job.end_time == first
    # Other fields change later; the remaining time did not, so the end time stays.
    state.apply(delta(mc_percent=7), now=NOW + 30)
    assert state.job.end_time == first
    state.apply(delta(mc_remaining_time=500), now=NOW + 60)
    assert state.job.end_time == datetime.fromtimestamp(NOW + 60 + 500 * 60, UTC)
    state.apply(delta(gcode_state="PAUSE"))
    assert state.job.state is GcodeState.PAUSE
    assert state.job.end_time is not None
    state.apply(delta(gcode_state="FINISH"))
    assert state.job.end_time is None


def test_end_time_defaults_to_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_000.0)
    state = PrinterState()
    state.apply(delta(gcode_state="RUNNING", mc_remaining_time=2))
    assert state.job.end_time == datetime.fromtimestamp(1_120.0, UTC)


def test_start_time_and_layers() -> None:
    state = PrinterState()
    state.apply(delta(gcode_start_time="1700000000", layer_num=3, total_layer_num=9))
    assert state.job.start_time == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert (state.job.layer, state.job.total_layers) == (3, 9)
    state.apply(delta(**{"3D": {"layer_num": 4, "total_layer_num": 10}}))
    assert (state.job.layer, state.job.total_layers) == (4, 10)  # H2D's 3D object wins
    state.apply(delta(gcode_start_time="0"))
    assert state.job.start_time is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("RUNNING", GcodeState.RUNNING),
        ("running", GcodeState.RUNNING),
        (" PREPARE ", GcodeState.PREPARE),
        ("SLICING", GcodeState.SLICING),
        ("OFFLINE", GcodeState.OFFLINE),
        ("INIT", GcodeState.INIT),
        ("SOMETHING_NEW", GcodeState.UNKNOWN),
        (5, None),
    ],
)
def test_gcode_state(value: Any, expected: GcodeState | None) -> None:
    state = PrinterState()
    state.apply(delta(gcode_state=value))
    assert state.job.state is expected


@pytest.mark.parametrize(
    ("code", "gcode_state", "slug"),
    [
        (0, "RUNNING", "printing"),
        (0, "FINISH", "idle"),
        ("2", "PREPARE", "heatbed_preheating"),
        (1, "PREPARE", "auto_bed_leveling"),
        (6, "PAUSE", "paused_filament_runout"),
        (14, "PREPARE", "cleaning_nozzle_tip"),
        (16, "PAUSE", "paused_user"),
        (29, "PREPARE", "cooling_chamber"),
        (58, "PREPARE", "thermal_preconditioning"),
        (-1, "IDLE", "idle"),
        (255, "IDLE", "idle"),
        (999, "RUNNING", "unknown"),
        ("x", "RUNNING", None),
    ],
)
def test_stage(code: Any, gcode_state: str, slug: str | None) -> None:
    state = PrinterState()
    state.apply(delta(stg_cur=code, gcode_state=gcode_state))
    assert state.job.stage == slug


def test_stage_table() -> None:
    assert len(STAGES) >= 60
    assert set(STAGES.values()) | {"unknown"} == set(STAGE_OPTIONS)
    assert STAGES[-1] == STAGES[255] == "idle"


# --------------------------------------------------------------------------- field parsing


def expected_fan(gear: int) -> int:
    return ceil(Fraction(gear, 15) * 100 / 10) * 10


@pytest.mark.parametrize("gear", range(16))
def test_fan_percent(gear: int) -> None:
    state = PrinterState()
    state.apply(delta(cooling_fan_speed=str(gear), big_fan1_speed=gear, big_fan2_speed=f"{gear}.0"))
    fans = state.fans
    assert fans.part_cooling == fans.aux == fans.chamber == expected_fan(gear)
    assert fans.heatbreak is None


@pytest.mark.parametrize("value", ["16", -1, "abc", None, [], 2.5e300])
def test_fan_out_of_range(value: Any) -> None:
    state = PrinterState()
    state.apply(delta(cooling_fan_speed=value))
    assert state.fans.part_cooling is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("-48dBm", -48), ("-48DBM", -48), (-61, -61), ("-70", -70), ("dBm", None), ("x", None)],
)
def test_wifi(value: Any, expected: int | None) -> None:
    state = PrinterState()
    state.apply(delta(wifi_signal=value))
    assert state.wifi_dbm == expected


@pytest.mark.parametrize(
    ("level", "magnitude", "expected"),
    [
        (1, 50, Speed(1, "silent", 50)),
        ("3", "124", Speed(3, "sport", 124)),
        (4, 166, Speed(4, "ludicrous", 166)),
        (9, None, Speed(None, None, None)),
        (None, "x", Speed(None, None, None)),
    ],
)
def test_speed(level: Any, magnitude: Any, expected: Speed) -> None:
    state = PrinterState()
    state.apply(delta(spd_lvl=level, spd_mag=magnitude))
    assert state.speed == expected


def test_strings_or_numbers_everywhere() -> None:
    state = PrinterState()
    state.apply(
        delta(
            nozzle_temper="215.5",
            bed_temper=60,
            gcode_state="RUNNING",
            mc_percent="12",
            mc_remaining_time=33.0,
            ams={
                "tray_now": 5,
                "ams": [
                    {
                        "id": 1,
                        "humidity": 2,
                        "temp": 24,
                        "tray": [{"id": 1, "tray_type": "PLA", "remain": "80"}],
                    }
                ],
            },
        )
    )
    assert (state.temperatures.nozzle, state.temperatures.bed) == (215.5, 60.0)
    assert (state.job.percent, state.job.remaining_minutes) == (12, 33)
    (unit,) = state.ams
    assert (unit.id, unit.humidity_level, unit.temperature) == (1, 4, 24.0)
    assert unit.trays[0].remain == 80
    assert unit.trays[0].active  # tray_now 5 = unit 1, slot 1
    assert state.active_tray is unit.trays[0]


def test_hms_codes_and_severity() -> None:
    state = PrinterState()
    hms = [
        {"attr": 0x03000100, "code": 0x00010007},
        {"attr": "117448704", "code": "131073"},  # 0x07002000 / 0x00020001 as strings
        {"attr": 0x0C000300, "code": 0x00030002},
        {"attr": 0x12000000, "code": 0x00040001},
        {"attr": 0x18000100, "code": 0x00020002},  # AMS HT
        {"attr": 0x05000000, "code": 0x00090001},
        {"attr": -1, "code": 0},  # signed 32-bit
        {"attr": "x", "code": 1},  # dropped
        "junk",
    ]
    state.apply(delta(hms=hms))
    assert state.hms == (
        HmsMessage(0x03000100, 0x00010007, "0300_0100_0001_0007", "fatal", "mc"),
        HmsMessage(0x07002000, 0x00020001, "0700_2000_0002_0001", "serious", "ams"),
        HmsMessage(0x0C000300, 0x00030002, "0C00_0300_0003_0002", "common", "xcam"),
        HmsMessage(0x12000000, 0x00040001, "1200_0000_0004_0001", "info", "ams"),
        HmsMessage(0x18000100, 0x00020002, "1800_0100_0002_0002", "serious", "ams"),
        HmsMessage(0x05000000, 0x00090001, "0500_0000_0009_0001", "unknown", "mainboard"),
        HmsMessage(0xFFFFFFFF, 0, "FFFF_FFFF_0000_0000", "unknown", "unknown"),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0x0300400C, PrintError(0x0300400C, "0300_400C")),
        ("50348044", PrintError(50348044, "0300_400C")),
        (0, PrintError(0, "0000_0000")),
        (None, None),
        ("x", None),
    ],
)
def test_print_error(value: Any, expected: PrintError | None) -> None:
    state = PrinterState()
    state.apply(delta(print_error=value))
    assert state.print_error == expected
    if expected is not None:
        assert expected.active is (expected.code != 0)


def test_tray_now_variants() -> None:
    state = loaded("MOCK-X1CMULTIAMS")
    state.apply(delta(ams={"tray_now": "128"}))
    active = state.active_tray
    assert active is not None
    assert (active.ams_id, active.tray_id, active.type) == (128, 0, "PA-CF")
    state.apply(delta(ams={"tray_now": "6"}))
    active = state.active_tray
    assert active is not None
    assert (active.ams_id, active.tray_id) == (1, 2)
    # "254" = the external spool; X1 firmware numbers its only holder 255.
    state.apply(delta(ams={"tray_now": "254"}))
    active = state.active_tray
    assert active is not None
    assert (active.ams_id, active.tray_id) == (None, 255)
    assert [unit for unit in state.ams if any(tray.active for tray in unit.trays)] == []
    state.apply(delta(ams={"tray_now": "9"}))  # unit 2, slot 1
    assert state.active_tray is state.ams[2].trays[1]
    state.apply(delta(ams={"tray_now": "13"}))  # no unit 3
    assert state.active_tray is None


def test_h2d_switching_extruders() -> None:
    state = loaded("MOCK-H2D")
    extruder = {"state": 0x12}  # two extruders, the left one (id 1) active
    assert state.apply(delta(device={"extruder": extruder}))
    assert state.temperatures.active_nozzle == 1
    # The left extruder's snow 0xFEFF: nothing loaded (not the external holder 254).
    assert state.active_tray is None
    # The active extruder's values, whatever the top-level nozzle fields say.
    assert (state.temperatures.nozzle, state.temperatures.nozzle_target) == (47.0, 0.0)
    info = [{"id": 0, "snow": 0xFF00}, {"id": 1, "snow": 0xFE00}]
    state.apply(delta(device={"extruder": {"info": info}}))
    active = state.active_tray  # slot 0 of holder 254: the left external spool
    assert active is not None
    assert (active.ams_id, active.tray_id) == (None, 254)
    info = [{"id": 0, "snow": 0x0002, "temp": 0}, {"id": 1, "snow": 0xFFFF, "temp": 0}]
    state.apply(delta(device={"extruder": {"info": info}}))
    assert state.active_tray is None  # nothing loaded in the left extruder
    state.apply(delta(device={"extruder": {"state": 0x02}}))
    assert state.active_tray is state.ams[0].trays[2]


def test_device_fallbacks() -> None:
    state = PrinterState()
    device = {"bed": {"info": {"temp": (90 << 16) | 88}}, "ctc": {"info": {"temp": 41}}}
    state.apply(delta(device=device))
    temps = state.temperatures
    assert (temps.bed, temps.bed_target, temps.chamber) == (88.0, 90.0, 41.0)
    state.apply(delta(device={"bed": None, "bed_temp": 60, "ctc": None, "cham_temp": 30}))
    temps = state.temperatures
    assert (temps.bed, temps.bed_target, temps.chamber) == (60.0, 0.0, 30.0)


def test_external_spool_colour_and_remaining_edge_cases() -> None:
    state = PrinterState()
    spool = {
        "id": "254",
        "tray_type": "TPU",
        "tray_color": "12AB",
        "remain": 140,
        "cols": ["00FF00", "zz"],
    }
    state.apply(delta(vt_tray=spool, ams={"tray_now": "254"}))
    (tray,) = state.external_spools
    assert (tray.color, tray.alpha, tray.remain, tray.colors) == (None, None, None, ("#00FF00",))
    assert tray.active
    state.apply(delta(vt_tray={"tray_color": "00FF0080"}))
    assert (state.external_spools[0].color, state.external_spools[0].alpha) == ("#00FF00", 128)


def test_sdcard_and_camera_flags() -> None:
    state = PrinterState()
    state.apply(delta(sdcard="false", ipcam={"timelapse": "enable", "ipcam_record": 1}))
    assert state.sdcard is False
    assert state.camera == Camera(None, None, True, True, None)  # rtsp_url not reported
    state.apply(delta(sdcard=[], ipcam="junk"))
    sdcard: bool | None = state.sdcard
    assert sdcard is None
    assert state.camera == Camera(None, None, None, None, None)


@pytest.mark.parametrize(
    ("rtsp_url", "enabled"),
    [
        ("rtsps://192.0.2.1/streaming/live/1", True),
        ("disable", False),
        (" Disabled ", False),
        ("", False),
        (None, False),
        (1, False),
    ],
)
def test_liveview_is_unknown_until_rtsp_url_is_reported(rtsp_url: Any, enabled: bool) -> None:
    state = PrinterState()
    state.apply(delta(ipcam={"ipcam_record": "enable"}))
    assert state.camera.rtsp_enabled is None
    state.apply(delta(ipcam={"rtsp_url": rtsp_url}))
    assert state.camera.rtsp_enabled is enabled
    assert state.camera.rtsp_url == (rtsp_url if enabled else None)


def test_firmware_update_from_version_number_field() -> None:
    state = loaded("MOCK-H2D")
    state.apply(
        delta(upgrade_state={"ota_new_version_number": "01.02.00.00", "new_version_state": 1})
    )
    assert state.firmware == Firmware("01.01.01.00", True, "01.02.00.00", False)
    empty = PrinterState()
    assert empty.firmware == Firmware(None, None, None, None)


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "message",
    [
        None,
        5,
        "print",
        [],
        {},
        {"print": None},
        {"print": "x"},
        {"print": [1, 2]},
        {"print": {"command": "pause", "sequence_id": "1", "result": "success"}},
        {"system": {"command": "ledctrl", "led_node": "chamber_light"}},
        {"info": {"command": "get_version", "module": "x"}},
        {"info": {"command": "other", "module": []}},
        {"info": {"command": "get_version", "module": [None, {"name": 5}, {"name": ""}]}},
        {"info": "x"},
    ],
)
def test_ignored_messages(message: Any) -> None:
    state = PrinterState()
    assert state.apply(message) is False
    assert state.revision == 0
    for view in VIEWS:
        getattr(state, view)


def test_mapping_that_is_not_a_dict() -> None:
    state = PrinterState()
    assert state.apply(MappingProxyType({"print": MappingProxyType({"mc_percent": 3})}))
    assert state.job.percent == 3


def test_oversized_values_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    state = loaded("P1P")
    huge = "x" * (MAX_STRING + 1)
    long_list = list(range(MAX_LIST + 1))
    with caplog.at_level(logging.DEBUG, logger=state_module.__name__):
        assert not state.apply(delta(subtask_name=huge, hms=long_list))
        assert state.apply(
            delta(
                new_field={"keep": 1, "big": huge, "items": long_list, "ok": [1, huge]},
                gcode_file="a.gcode",
            )
        )
    assert state.job.name == "Fidget Collection"  # never replaced by the huge string
    assert state.hms == ()
    assert state.print_data["new_field"] == {"keep": 1, "ok": [1]}
    assert state.job.file == "a.gcode"
    assert "string of" in caplog.text
    assert huge not in caplog.text


def test_deep_and_wide_values_are_bounded() -> None:
    state = PrinterState()
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100):
        node["n"] = {}
        node = node["n"]
    wide = {str(index): index for index in range(2000)}
    assert state.apply(delta(deep=deep, wide=wide, ok=1))
    depth = 0
    node = state.print_data["deep"]
    while node:
        node = node["n"]
        depth += 1
    assert depth < 40
    assert "wide" not in state.print_data
    assert not state.apply({"print": {str(index): index for index in range(2000)}})


def test_state_stops_growing() -> None:
    state = PrinterState()
    for batch in range(3):
        state.apply(delta(**{f"k{batch}_{index}": index for index in range(600)}))
    assert len(state.print_data) == 1000
    assert not state.apply(delta(one_more=1))
    nested = PrinterState()
    assert nested.apply(delta(nest={f"a{index}": 1 for index in range(900)}))
    assert nested.apply(delta(nest={f"b{index}": 1 for index in range(900)}))
    assert len(nested.print_data["nest"]) == 1000
    # An object too large to merge leaves the stored one alone.
    assert not nested.apply(delta(nest={f"c{index}": 1 for index in range(1001)}))


def test_non_json_values_and_keys_are_dropped() -> None:
    state = PrinterState()
    odd: dict[Any, Any] = {
        1: "int key",
        "tuple": (1, 2),
        "set": {1, 2},
        "bytes": b"x",
        "object": object(),
        "nested": {
            "ok": 1,
            "bad": object(),
            2: "int key",
            "list": [1, object(), "x"],
            "n" * 2000: 1,
        },
        "k" * 2000: "huge key",
        "nozzle_temper": 10**400,  # too large for a float
        "bed_temper": 60,
    }
    assert state.apply({"print": odd})
    assert set(state.print_data) == {"nested", "nozzle_temper", "bed_temper"}
    assert state.print_data["nested"] == {"ok": 1, "list": [1, "x"]}
    assert state.temperatures.nozzle is None
    assert state.temperatures.bed == 60.0
    assert state.apply(delta(nested={"ok": 2, 3: "int key", "bad": object(), "m" * 2000: 1}))
    assert state.print_data["nested"] == {"ok": 2, "list": [1, "x"]}


def test_colour_parsing_and_cache() -> None:
    assert parsing.parse_color("GGGGGGFF") == (None, None)
    assert parsing.parse_color("00ff00") == ("#00FF00", 255)
    for value in range(parsing._MAX_COLORS + 10):
        parsing.parse_color(f"{value:06X}FF")
    assert len(parsing._COLORS) <= parsing._MAX_COLORS


def test_id_list_edge_cases() -> None:
    state = loaded("P1P")
    # A changed tray whose only change is too large: nothing changes.
    assert not state.apply(
        delta(ams={"ams": [{"id": "0", "tray": [{"id": "1", "x": "y" * (MAX_STRING + 1)}]}]})
    )
    # New elements that cannot be stored are skipped; a full list stops growing.
    assert state.apply(
        delta(
            ams={
                "ams": [
                    {"id": "5", "tray": [{"id": "9", "tray_type": "PLA"}]},
                    {"id": "6", "x": object()},
                ]
            }
        )
    )
    assert [unit.id for unit in state.ams] == [0, 5, 6]
    many = [{"id": str(index)} for index in range(MAX_LIST)]
    assert state.apply(delta(ams={"ams": many}))
    assert len(state.print_data["ams"]["ams"]) == MAX_LIST
    # Elements replacing a non-object element with the same position are adopted whole.
    odd = PrinterState()
    odd.apply(delta(ams={"ams": ["x", {"id": "1"}]}))
    assert odd.apply(delta(ams={"ams": [{"id": "1", "humidity": "2"}, {"id": "2"}]}))
    assert [unit.id for unit in odd.ams] == [1, 2]


def test_deep_id_lists_are_replaced_not_merged() -> None:
    state = PrinterState()
    deep: Any = [{"id": "0"}]
    for _ in range(40):
        deep = {"tray": [{"id": "0", "x": deep}]}
    state.apply(delta(ams=deep))
    assert state.apply(delta(ams=deep | {"x": 1}))


def test_odd_extruder_lists() -> None:
    state = PrinterState()
    info = ["junk", {"id": 1, "temp": 30, "snow": 0x0001}, {"id": 0, "temp": (200 << 16) | 190}]
    state.apply(delta(device={"extruder": {"state": 0x02, "info": info}}))
    temps = state.temperatures
    assert [nozzle.index for nozzle in temps.nozzles] == [1, 0]
    assert temps.active_nozzle == 0
    assert (temps.nozzle, temps.nozzle_target) == (190.0, 200.0)
    assert state.active_tray is None  # extruder 0 has no snow
    state.apply(delta(device={"extruder": {"state": 0x52}}))  # extruder 5 does not exist
    assert state.temperatures.active_nozzle is None
    assert state.active_tray is None


def test_new_version_list_with_other_modules() -> None:
    state = loaded("P1P")
    versions = [
        {"name": "ams/0", "new_ver": "00.00.07.00"},
        {"name": "ota", "new_ver": "01.07.00.00"},
    ]
    state.apply(delta(upgrade_state={"new_ver_list": versions, "new_version_state": 2}))
    assert state.firmware == Firmware("01.07.00.00", False, None, False)  # nothing offered


def test_unexpected_errors_never_escape(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    state = loaded("P1P")
    job = state.job

    def broken(*_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(merge, "_merge_value", broken)
    assert state.apply(delta(upgrade_state={"status": "x"})) is True
    assert "Unexpected error" in caplog.text
    monkeypatch.undo()
    assert state.job == job  # views were invalidated and still compute


def test_drop_view_caches_rebuilds_equal_views() -> None:
    state = loaded("MOCK-X1CMULTIAMS")
    before = {name: getattr(state, name) for name in VIEWS}
    state._drop_view_caches()
    after = {name: getattr(state, name) for name in VIEWS}
    assert before == after
    assert after["ams"] is not before["ams"]


def test_ams_kind_without_version_reply() -> None:
    state = loaded("MOCK-X1CMULTIAMS", version=False)
    assert [unit.kind for unit in state.ams] == [None, None, None, AmsKind.AMS_HT]
    assert [unit.firmware for unit in state.ams] == [None] * 4


@pytest.mark.parametrize("name", ["MOCK-A1", "MOCK-H2D", "MOCK-P1PNOAMS"])
def test_skipped_objects_from_s_obj(name: str) -> None:
    """`s_obj` is empty in the captures; a delta listing ids shows them, junk is dropped."""
    state = loaded(name)
    assert state.skipped_objects == frozenset()
    assert state.apply(delta(s_obj=[202, 101]), now=NOW + 1)
    assert state.skipped_objects == {101, 202}
    state.apply(delta(s_obj="202"), now=NOW + 2)
    assert state.skipped_objects == frozenset()
    state.apply(delta(s_obj=[1, "x", -3, True, 4]), now=NOW + 3)
    assert state.skipped_objects == {1, 4}
