"""Tests for the pure printer model: report shape, job progress, deltas, requests, determinism."""

import re
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from simulator.engine import (
    MODELS,
    REJECT_ERR_CODE,
    VirtualPrinter,
    merge_report,
    normalize_model,
)
from tests.captures import pushall_report, version_report

ALL_MODELS = tuple(MODELS)
DELTA_MODELS = ("P1P", "P1S", "A1", "A1MINI")
FULL_MODELS = ("X1C", "X1E", "P2S", "H2D")

# The capture each model's reports are compared with (same report family).
CAPTURE_FOR = {
    "X1C": "MOCK-X1CMULTIAMS",
    "X1E": "MOCK-X1CMULTIAMS",
    "P2S": "MOCK-X1CMULTIAMS",
    "H2D": "MOCK-H2D",
    "H2DPRO": "MOCK-H2D",  # the H2 family template; no capture of these in the shared set
    "H2C": "MOCK-H2D",
    "X2D": "MOCK-H2D",
    "A2L": "MOCK-A1",
    "P1P": "P1P",
    "P1S": "P1P",
    "A1": "MOCK-A1",
    "A1MINI": "MOCK-A1",
}
# Fields the simulator sends beyond the captures (docs/protocol.md, "Report fields").
EXTRA_FIELDS = {"gcode_start_time"}
ENVELOPE = {"command", "msg", "sequence_id"}


# --- helpers -------------------------------------------------------------------------------------
def merge(base: dict[str, Any], delta: Mapping[str, Any]) -> None:
    """Tiny client-side merge: dicts recursively, lists of objects with an id element-wise."""
    for key, value in delta.items():
        old = base.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            merge(old, value)
        elif (
            isinstance(value, list)
            and isinstance(old, list)
            and value
            and all(isinstance(v, dict) and "id" in v for v in value)
        ):
            by_id = {item["id"]: item for item in old}
            for item in value:
                if item["id"] in by_id:
                    merge(by_id[item["id"]], item)
                else:
                    old.append(item)
        else:
            base[key] = value


def shape_problems(ours: Any, real: Any, path: str = "") -> list[str]:
    """Compare key sets and leaf value types of a report with a real capture."""
    problems: list[str] = []
    if isinstance(real, dict):
        if not isinstance(ours, dict):
            return [f"{path}: {type(ours).__name__} instead of an object"]
        missing = set(real) - set(ours)
        extra = set(ours) - set(real) - (EXTRA_FIELDS if path == "print" else set())
        problems += [f"{path}.{key}: missing" for key in sorted(missing)]
        problems += [f"{path}.{key}: not in the capture" for key in sorted(extra)]
        for key in set(real) & set(ours):
            problems += shape_problems(ours[key], real[key], f"{path}.{key}")
    elif isinstance(real, list):
        if not isinstance(ours, list):
            return [f"{path}: {type(ours).__name__} instead of a list"]
        if real:
            reference = max(real, key=lambda v: len(v) if isinstance(v, dict) else 0)
            for index, item in enumerate(ours):
                problems += shape_problems(item, reference, f"{path}[{index}]")
    elif type(ours) is not type(real):
        problems.append(f"{path}: {type(ours).__name__} {ours!r} vs {type(real).__name__}")
    return problems


def run(vp: VirtualPrinter, seconds: float, step: float = 5.0) -> Iterator[dict[str, Any]]:
    """Advance in steps and yield the printer's full report after each one."""
    elapsed = 0.0
    while elapsed < seconds:
        vp.advance(step)
        elapsed += step
        yield vp.full_report()["print"]


def run_until(vp: VirtualPrinter, predicate: Any, limit: float = 20000, step: float = 1.0) -> None:
    elapsed = 0.0
    while not predicate(vp):
        vp.advance(step)
        elapsed += step
        assert elapsed < limit, f"condition not reached; state {vp.gcode_state} {vp.stage}"


def printing(vp: VirtualPrinter) -> bool:
    return vp.gcode_state == "RUNNING" and vp.stage == 0


def reply_body(report: Mapping[str, Any], module: str = "print") -> dict[str, Any]:
    body = report[module]
    assert isinstance(body, dict)
    return body


# --- construction --------------------------------------------------------------------------------
def test_model_names_are_normalized() -> None:
    assert normalize_model("a1 mini") == "A1MINI"
    assert normalize_model("A1_MINI") == "A1MINI"
    assert normalize_model("x1-carbon") == "X1C"
    assert VirtualPrinter("S", "p1s").model == "P1S"
    with pytest.raises(ValueError, match="unknown printer model"):
        VirtualPrinter("S", "K1")


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="speedup"):
        VirtualPrinter("S", "X1C", speedup=0)
    vp = VirtualPrinter("S", "X1C")
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite"):
            vp.advance(bad)
    with pytest.raises(ValueError, match="layer"):
        vp.start_job(layers=0)
    with pytest.raises(ValueError, match="not loaded"):
        vp.start_job(tray=12)


@pytest.mark.parametrize("model", ALL_MODELS)
def test_fresh_printer_is_idle_and_plausible(model: str) -> None:
    vp = VirtualPrinter("01S00A000000001", model, seed=3)
    report = vp.full_report()["print"]
    assert report["gcode_state"] == "IDLE"
    assert report["command"] == "push_status"
    assert report["mc_percent"] == 0
    assert 18 < report["nozzle_temper"] < 30
    assert 18 < report["bed_temper"] < 30
    assert report["nozzle_target_temper"] == 0
    assert report["stg"] == []
    assert re.fullmatch(r"-\d{2}dBm", report["wifi_signal"])
    assert vp.gcode_state == "IDLE"
    assert vp.layer == vp.total_layers == 0


# --- report shape --------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ALL_MODELS)
def test_reports_match_the_capture_shape_in_every_state(model: str) -> None:
    real = pushall_report(CAPTURE_FOR[model])
    profile = MODELS[model]
    if profile.ctc_only:  # as ha-bambulab's H2C, H2D Pro and X2D captures
        del real["print"]["chamber_temper"]
    if profile.has_msg:  # the H2C and X2D send `msg` where the H2D does not
        real["print"].setdefault("msg", 0)
    vp = VirtualPrinter("01S00A000000001", model, seed=7)
    snapshots = [vp.full_report()]
    vp.start_job(minutes=5, layers=20)
    vp.advance(2)
    snapshots.append(vp.full_report())  # PREPARE
    run_until(vp, lambda p: p.stage == 1)
    snapshots.append(vp.full_report())  # bed levelling
    run_until(vp, printing)
    vp.advance(60)
    snapshots.append(vp.full_report())  # printing
    vp.handle_request({"print": {"command": "pause", "sequence_id": "1"}})
    snapshots.append(vp.full_report())
    vp.handle_request({"print": {"command": "resume", "sequence_id": "2"}})
    run_until(vp, lambda p: p.gcode_state == "FINISH")
    snapshots.append(vp.full_report())
    for snapshot in snapshots:
        assert list(snapshot) == ["print"]
        if model == "H2D":  # the H2D capture has no "msg"
            assert "msg" not in real["print"]
        assert shape_problems(snapshot["print"], real["print"], "print") == []


@pytest.mark.parametrize("model", ALL_MODELS)
def test_string_fields_look_like_the_printer_sends_them(model: str) -> None:
    vp = VirtualPrinter("01S00A000000001", model, seed=11, printing=True)
    run_until(vp, printing)
    vp.advance(120)
    report = vp.full_report()["print"]
    for fan in ("cooling_fan_speed", "big_fan1_speed", "big_fan2_speed", "heatbreak_fan_speed"):
        assert report[fan] in {str(gear) for gear in range(16)}
    assert report["heatbreak_fan_speed"] == "15"
    assert report["cooling_fan_speed"] != "0"
    assert report["mc_print_stage"] == "2"
    assert report["gcode_file_prepare_percent"] == "100"
    assert report["gcode_start_time"] == str(1_750_000_000)
    for unit in report["ams"]["ams"]:
        assert unit["humidity"] in {"1", "2", "3", "4", "5"}
        assert re.fullmatch(r"\d+\.\d", unit["temp"])
        assert [tray["id"] for tray in unit["tray"]] == ["0", "1", "2", "3"]
        for tray in unit["tray"]:
            assert re.fullmatch(r"[0-9A-F]{8}", tray["tray_color"])
            assert isinstance(tray["remain"], int)
    assert isinstance(report["ams"]["tray_now"], str)


def test_camera_urls_per_model() -> None:
    x1 = VirtualPrinter("X1SERIAL", "X1C", ip="192.168.1.20").full_report()["print"]
    assert x1["ipcam"]["rtsp_url"] == "rtsps://192.168.1.20:322/streaming/live/1"
    assert x1["net"]["info"][0]["ip"] == int.from_bytes(bytes([192, 168, 1, 20]), "little")
    url = VirtualPrinter("S", "X1E").full_report()["print"]["ipcam"]["rtsp_url"]
    assert url.startswith("rtsps://127.0.0.1:322/")
    # ha-bambulab's P2S, H2C and X2D captures: "disable" until LAN liveview is switched on.
    for model in ("P2S", "H2C", "X2D", "H2DPRO"):
        other = VirtualPrinter("S", model)
        assert other.full_report()["print"]["ipcam"]["rtsp_url"] == "disable"
        other.set_lan_liveview(True)
        url = other.full_report()["print"]["ipcam"]["rtsp_url"]
        assert url.startswith("rtsps://127.0.0.1:322/")
    for model in ("P1P", "P1S", "A1", "A1MINI"):
        assert "rtsp_url" not in VirtualPrinter("S", model).full_report()["print"]["ipcam"]
    h2d = VirtualPrinter("H2DSERIAL", "H2D")
    assert h2d.full_report()["print"]["ipcam"]["rtsp_url"] == "disable"
    assert not h2d.lan_liveview
    h2d.set_lan_liveview(True)
    h2d.ip = "10.0.0.5"
    assert h2d.ip == "10.0.0.5"
    assert h2d.full_report()["print"]["ipcam"]["rtsp_url"] == (
        "rtsps://10.0.0.5:322/streaming/live/1"
    )


def test_ams_per_model_and_configurable() -> None:
    counts = {
        model: len(VirtualPrinter("S", model).full_report()["print"]["ams"]["ams"])
        for model in ALL_MODELS
    }
    assert counts == {
        "X1C": 1, "X1E": 1, "P1P": 0, "P1S": 1, "A1": 1, "A1MINI": 1, "P2S": 1, "H2D": 2,
        "H2DPRO": 1, "H2C": 1, "X2D": 1, "A2L": 1,
    }  # fmt: skip
    p1p = VirtualPrinter("S", "P1P")
    assert p1p.tray_now == "254"
    with_ams = VirtualPrinter("S", "P1P", ams_units=2).full_report()["print"]["ams"]
    assert [unit["id"] for unit in with_ams["ams"]] == ["0", "1"]
    assert with_ams["ams_exist_bits"] == "3"
    assert with_ams["tray_exist_bits"] == "ff"
    assert with_ams["tray_now"] == "255"


def test_h2d_dual_nozzle_packs_temperatures() -> None:
    vp = VirtualPrinter("H2D0001", "H2D", seed=5, printing=True)
    run_until(vp, printing)
    vp.advance(30)
    report = vp.full_report()["print"]
    extruders = report["device"]["extruder"]["info"]
    assert len(extruders) == 2
    packed = extruders[0]["temp"]
    assert packed >> 16 == int(report["nozzle_target_temper"])
    assert abs((packed & 0xFFFF) - report["nozzle_temper"]) <= 1
    assert extruders[1]["temp"] >> 16 == 0
    bed = report["device"]["bed"]["info"]["temp"]
    assert bed >> 16 == int(report["bed_target_temper"])
    assert report["3D"]["layer_num"] == report["layer_num"]
    assert report["device"]["ctc"]["info"]["temp"] == round(report["chamber_temper"])


# --- job -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ALL_MODELS)
def test_job_runs_through_all_stages_to_finish(model: str) -> None:
    vp = VirtualPrinter("01S00A000000001", model, seed=1)
    vp.start_job("Benchy", layers=120, minutes=20)
    states: list[str] = []
    stages: list[int] = []
    last_percent = last_layer = 0
    last_remaining = 10**9
    at_temp_while_printing = True
    for report in run(vp, 3000, step=3.0):
        state, stage = report["gcode_state"], report["stg_cur"]
        if not states or states[-1] != state:
            states.append(state)
        if state == "RUNNING" and (not stages or stages[-1] != stage):
            stages.append(stage)
        assert report["mc_percent"] >= last_percent
        assert report["layer_num"] >= last_layer or state == "FINISH"
        if state == "RUNNING" and stage == 0:
            assert report["mc_remaining_time"] <= last_remaining
            last_remaining = report["mc_remaining_time"]
            percent, layer = report["mc_percent"], report["layer_num"]
            assert 1 <= layer <= 120
            assert percent <= layer / 120 * 100 <= percent + 100 / 120 + 1
            expected_left = (100 - percent) / 100 * 20
            assert abs(report["mc_remaining_time"] - expected_left) <= 1.5
            at_temp_while_printing &= abs(report["nozzle_temper"] - 220) <= 2
            at_temp_while_printing &= abs(report["bed_temper"] - 55) <= 2
        last_percent, last_layer = report["mc_percent"], report["layer_num"]
    assert states == ["PREPARE", "RUNNING", "FINISH"]
    assert stages[0] == 2  # heatbed preheating first
    assert {13, 1, 7} <= set(stages)
    assert stages.index(7) < stages.index(0) == len(stages) - 1
    assert at_temp_while_printing
    final = vp.full_report()["print"]
    assert final["mc_percent"] == 100
    assert final["layer_num"] == final["total_layer_num"] == 120
    assert final["mc_remaining_time"] == 0
    assert final["nozzle_target_temper"] == final["bed_target_temper"] == 0
    assert final["subtask_name"] == "Benchy"
    assert final["mc_print_stage"] == "1"
    vp.advance(3600)
    assert vp.nozzle_temp < 27
    assert vp.bed_temp < 27
    assert vp.gcode_state == "FINISH"


def test_heating_ramps_realistically() -> None:
    vp = VirtualPrinter("S", "P1S", seed=2)
    vp.start_job(bed_temp=65)
    run_until(vp, lambda p: p.stage == 2)
    start = vp.bed_temp
    vp.advance(10)
    assert 0 < vp.bed_temp - start < 10  # ramps, does not jump
    assert vp.bed_target == 65
    run_until(vp, lambda p: p.stage == 7)
    assert vp.bed_temp >= 64
    assert vp.nozzle_target == 220
    nozzle = vp.nozzle_temp
    vp.advance(10)
    assert 10 < vp.nozzle_temp - nozzle <= 45
    run_until(vp, printing)
    assert vp.nozzle_temp >= 219


def test_chamber_warms_on_x1_and_h2d() -> None:
    for model in ("X1C", "H2D"):
        vp = VirtualPrinter("S", model, seed=4, printing=True)
        before = vp.chamber_temp
        run_until(vp, printing)
        vp.advance(1800)
        assert vp.chamber_temp > before + 3
        report = vp.full_report()["print"]
        assert report["device"]["ctc"]["info"]["temp"] == round(vp.chamber_temp)


def test_ams_tray_active_and_remain_decreasing() -> None:
    vp = VirtualPrinter("S", "X1C", seed=9)
    vp.start_job(minutes=200, tray=2)
    start_remain = vp.full_report()["print"]["ams"]["ams"][0]["tray"][2]["remain"]
    assert vp.tray_now == "255"  # not loaded yet
    run_until(vp, printing)
    assert vp.tray_now == "2"
    remains = [report["ams"]["ams"][0]["tray"][2]["remain"] for report in run(vp, 12000, step=60)]
    assert remains == sorted(remains, reverse=True)
    assert start_remain - 7 <= remains[-1] <= start_remain - 5
    report = vp.full_report()["print"]
    assert report["gcode_state"] == "FINISH"
    assert report["ams"]["tray_now"] == "255"  # unloaded after the print
    assert report["ams"]["tray_pre"] == "2"


def test_external_spool_without_ams() -> None:
    vp = VirtualPrinter("S", "P1P", printing=True)
    run_until(vp, printing)
    assert vp.tray_now == "254"
    assert 4 not in vp.full_report()["print"]["stg"]  # no AMS filament change


def test_speedup_and_printing_flag() -> None:
    fast = VirtualPrinter("S", "A1", speedup=60, printing=True)
    assert fast.gcode_state == "PREPARE"
    fast.advance(60)  # one simulated hour
    assert fast.gcode_state == "FINISH"
    assert fast.elapsed == pytest.approx(3600)
    assert fast.now == pytest.approx(1_750_003_600)


def test_start_job_replaces_the_previous_one() -> None:
    vp = VirtualPrinter("S", "X1C", printing=True)
    run_until(vp, printing)
    vp.start_job("Second", layers=10, minutes=1)
    assert vp.gcode_state == "PREPARE"
    assert vp.job_name == "Second"
    assert vp.total_layers == 10


def test_large_advance_is_fast_and_settles() -> None:
    vp = VirtualPrinter("S", "H2D", printing=True)
    started = time.perf_counter()
    vp.advance(1_000_000)
    assert time.perf_counter() - started < 2
    assert vp.gcode_state == "FINISH"
    assert vp.chamber_temp < 30


# --- deltas --------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", DELTA_MODELS)
def test_deltas_merge_back_to_the_full_report(model: str) -> None:
    vp = VirtualPrinter("01S00A000000001", model, seed=21)
    merged = vp.full_report()
    previous = vp.full_report()["print"]
    vp.start_job(minutes=3, layers=15)
    sent = 0
    for second in range(900):
        vp.advance(1)
        report = vp.status_report()
        current = vp.full_report()["print"]
        if report is None:
            assert {k: v for k, v in current.items() if k not in ENVELOPE} == {
                k: v for k, v in previous.items() if k not in ENVELOPE
            }
            continue
        sent += 1
        delta = report["print"]
        assert set(delta) >= ENVELOPE
        assert delta["command"] == "push_status"
        for key in set(delta) - ENVELOPE:
            assert delta[key] != previous[key], f"{key} sent without a change"
        assert len(delta) < len(current)
        merge(merged["print"], delta)
        if second % 50 == 0 or vp.gcode_state == "FINISH":
            assert merged == vp.full_report()
        previous = current
    assert merged == vp.full_report()
    assert vp.gcode_state == "FINISH"
    assert 100 < sent <= 900


def test_delta_lists_carry_only_changed_elements() -> None:
    vp = VirtualPrinter("S", "P1S", seed=1)
    vp.start_job(minutes=600, tray=1)
    run_until(vp, printing)
    vp.status_report()
    before = vp.full_report()["print"]["ams"]["ams"][0]["tray"][1]["remain"]
    run_until(
        vp,
        lambda p: p.full_report()["print"]["ams"]["ams"][0]["tray"][1]["remain"] < before,
        step=30,
    )
    delta = vp.status_report()
    assert delta is not None
    units = delta["print"]["ams"]["ams"]
    assert units == [{"id": "0", "tray": [{"id": "1", "remain": before - 1}]}]


def test_no_change_gives_no_delta() -> None:
    vp = VirtualPrinter("S", "A1")
    vp.advance(10)
    vp.status_report()
    assert vp.status_report() is None


def test_pushall_resets_the_delta_baseline() -> None:
    vp = VirtualPrinter("S", "P1S", printing=True)
    vp.advance(30)
    (full,) = vp.handle_request({"pushing": {"command": "pushall", "sequence_id": "0"}})
    assert full == vp.full_report()
    assert vp.status_report() is None
    vp.advance(5)
    delta = vp.status_report()
    assert delta is not None
    assert int(delta["print"]["sequence_id"]) == int(full["print"]["sequence_id"]) + 1
    merge(full["print"], delta["print"])
    assert full == vp.full_report()


def test_merge_report_helper_matches_the_client_merge() -> None:
    base: dict[str, Any] = {"a": {"b": 1, "c": [1]}, "ams": [{"id": "0", "x": 1}]}
    merge_report(base, {"a": {"c": [2]}, "ams": [{"id": "0", "x": 2}, {"id": "1", "x": 3}]})
    assert base == {"a": {"b": 1, "c": [2]}, "ams": [{"id": "0", "x": 2}, {"id": "1", "x": 3}]}


@pytest.mark.parametrize("model", FULL_MODELS)
def test_full_models_always_send_everything(model: str) -> None:
    vp = VirtualPrinter("S", model)
    first = vp.status_report()
    second = vp.status_report()
    assert first is not None
    assert second is not None
    assert int(second["print"]["sequence_id"]) == int(first["print"]["sequence_id"]) + 1
    assert set(first["print"]) == set(vp.full_report()["print"])
    assert vp.full_reports


# --- requests ------------------------------------------------------------------------------------
def test_pause_resume_stop() -> None:
    vp = VirtualPrinter("S", "X1C", seed=1)
    (failed,) = vp.handle_request({"print": {"command": "pause", "sequence_id": "7"}})
    assert reply_body(failed) == {
        "command": "pause",
        "sequence_id": "7",
        "reason": "cannot pause: gcode_state is IDLE",
        "result": "failed",
    }
    vp.start_job(minutes=30)
    run_until(vp, printing)
    vp.advance(300)
    replies = vp.handle_request({"print": {"command": "pause", "param": "", "sequence_id": "8"}})
    assert len(replies) == 2
    assert reply_body(replies[0]) == {
        "command": "pause",
        "sequence_id": "8",
        "param": "",
        "reason": "",
        "result": "success",
    }
    status = replies[1]["print"]
    assert status["command"] == "push_status"
    assert status["gcode_state"] == "PAUSE"
    assert status["stg_cur"] == 16
    frozen = (vp.percent, vp.layer, vp.remaining_minutes)
    vp.advance(600)
    assert (vp.percent, vp.layer, vp.remaining_minutes) == frozen
    assert vp.full_report()["print"]["cooling_fan_speed"] == "0"
    (again,) = vp.handle_request({"print": {"command": "pause", "sequence_id": "9"}})
    assert reply_body(again)["result"] == "failed"

    replies = vp.handle_request({"print": {"command": "resume", "sequence_id": "10"}})
    assert reply_body(replies[0])["result"] == "success"
    assert replies[1]["print"]["gcode_state"] == "RUNNING"
    assert replies[1]["print"]["stg_cur"] == 0
    vp.advance(60)
    assert vp.percent > frozen[0]
    (bad_resume,) = vp.handle_request({"print": {"command": "resume", "sequence_id": "11"}})
    assert reply_body(bad_resume)["result"] == "failed"

    replies = vp.handle_request({"print": {"command": "stop", "sequence_id": "12"}})
    assert reply_body(replies[0])["result"] == "success"
    stopped = replies[1]["print"]
    assert stopped["gcode_state"] == "FAILED"
    assert stopped["nozzle_target_temper"] == stopped["bed_target_temper"] == 0.0
    assert 0 < stopped["mc_percent"] < 100
    assert stopped["mc_remaining_time"] > 0
    assert vp.tray_now == "0"  # a stopped print leaves the filament loaded
    vp.advance(600)
    assert vp.gcode_state == "FAILED"
    (bad_stop,) = vp.handle_request({"print": {"command": "stop", "sequence_id": "13"}})
    assert reply_body(bad_stop)["result"] == "failed"
    vp.start_job()
    assert vp.gcode_state == "PREPARE"


def test_pause_during_prepare_resumes_prepare() -> None:
    vp = VirtualPrinter("S", "P1S", printing=True)
    vp.advance(2)
    replies = vp.handle_request({"print": {"command": "pause", "sequence_id": "1"}})
    assert replies[1]["print"]["gcode_state"] == "PAUSE"
    vp.handle_request({"print": {"command": "resume", "sequence_id": "2"}})
    assert vp.gcode_state == "PREPARE"


def test_p1_replies_are_followed_by_a_delta() -> None:
    vp = VirtualPrinter("S", "P1S", printing=True)
    run_until(vp, printing)
    vp.status_report()
    reply, delta = vp.handle_request({"print": {"command": "pause", "sequence_id": "3"}})
    assert reply["print"]["result"] == "success"
    assert delta["print"]["gcode_state"] == "PAUSE"
    assert delta["print"]["stg_cur"] == 16
    assert "ams" not in delta["print"]


def test_print_speed() -> None:
    vp = VirtualPrinter("S", "P1S", printing=True)
    run_until(vp, printing)
    vp.advance(60)
    before = vp.remaining_minutes
    replies = vp.handle_request(
        {"print": {"command": "print_speed", "param": "4", "sequence_id": "5"}}
    )
    assert reply_body(replies[0])["result"] == "success"
    assert reply_body(replies[0])["param"] == "4"
    assert replies[1]["print"]["spd_lvl"] == 4
    assert replies[1]["print"]["spd_mag"] == 166
    assert vp.speed_level == 4
    assert vp.remaining_minutes < before
    for level, magnitude in ((1, 50), (2, 100), (3, 124)):
        vp.handle_request({"print": {"command": "print_speed", "param": str(level)}})
        assert vp.full_report()["print"]["spd_mag"] == magnitude
    for bad in ("9", "fast", None):
        (reply,) = vp.handle_request({"print": {"command": "print_speed", "param": bad}})
        assert reply_body(reply)["result"] == "failed"
    idle = VirtualPrinter("S", "P1S")
    (reply,) = idle.handle_request({"print": {"command": "print_speed", "param": "3"}})
    assert reply_body(reply)["reason"] == "cannot change speed: gcode_state is IDLE"


def test_gcode_line_sets_targets_and_fans() -> None:
    vp = VirtualPrinter("S", "X1C")
    replies = vp.handle_request(
        {
            "print": {
                "command": "gcode_line",
                "param": (
                    "M140 S60 ; bed\nM104 S200\nM106 P1 S255\nM106 P3 S128\nG28 X\nM104 Sx\n\n"
                ),
                "sequence_id": "4",
            }
        }
    )
    assert reply_body(replies[0])["result"] == "success"
    assert vp.bed_target == 60
    assert vp.nozzle_target == 200
    report = replies[1]["print"]
    assert report["cooling_fan_speed"] == "15"
    assert report["big_fan2_speed"] == "8"
    vp.advance(120)
    assert vp.nozzle_temp == pytest.approx(200, abs=0.5)
    vp.handle_request({"print": {"command": "gcode_line", "param": "M107\nM104 S0\nM140 S0"}})
    assert vp.full_report()["print"]["cooling_fan_speed"] == "0"
    assert vp.nozzle_target == vp.bed_target == 0
    (empty,) = vp.handle_request({"print": {"command": "gcode_line", "param": " "}})
    assert reply_body(empty)["result"] == "failed"
    h2d = VirtualPrinter("S", "H2D")
    h2d.handle_request({"print": {"command": "gcode_line", "param": "M104 T1 S180"}})
    assert h2d.full_report()["print"]["device"]["extruder"]["info"][1]["temp"] >> 16 == 180


def test_ledctrl() -> None:
    vp = VirtualPrinter("S", "P1S")
    assert vp.light_mode() == "off"
    request = {
        "system": {
            "command": "ledctrl",
            "led_node": "chamber_light",
            "led_mode": "on",
            "led_on_time": 500,
            "led_off_time": 500,
            "loop_times": 0,
            "interval_time": 0,
            "sequence_id": "20",
        }
    }
    reply, delta = vp.handle_request(request)
    assert reply["system"]["result"] == "success"
    assert reply["system"]["led_mode"] == "on"
    assert delta["print"]["lights_report"] == [{"node": "chamber_light", "mode": "on"}]
    assert vp.light_mode("chamber_light") == "on"
    assert vp.light_mode("work_light") is None
    (same,) = vp.handle_request(request)  # no change, so no status report follows
    assert same["system"]["result"] == "success"
    for node, mode in (("work_light", "on"), ("chamber_light", "blink")):
        bad = {"system": {"command": "ledctrl", "led_node": node, "led_mode": mode}}
        (reply,) = vp.handle_request(bad)
        assert reply["system"]["result"] == "failed"


def test_project_file_starts_a_job() -> None:
    vp = VirtualPrinter("S", "X1C")
    request = {
        "print": {
            "command": "project_file",
            "param": "Metadata/plate_1.gcode",
            "url": "file:///sdcard/Cable clip.3mf",
            "sequence_id": "30",
        }
    }
    replies = vp.handle_request(request)
    assert reply_body(replies[0])["result"] == "success"
    assert vp.gcode_state == "PREPARE"
    assert vp.job_name == "Cable clip"
    (busy,) = vp.handle_request(request)
    assert reply_body(busy)["result"] == "failed"
    other = VirtualPrinter("S", "P1S")
    other.handle_request({"print": {"command": "project_file", "subtask_name": "Named"}})
    assert other.job_name == "Named"


def test_unknown_and_malformed_requests() -> None:
    vp = VirtualPrinter("S", "A1")
    (reply,) = vp.handle_request({"print": {"command": "fly", "sequence_id": "1"}})
    assert reply_body(reply) == {
        "command": "fly",
        "sequence_id": "1",
        "reason": "unsupported command: fly",
        "result": "failed",
    }
    (reply,) = vp.handle_request({"camera": {"command": "ipcam_record_set", "sequence_id": 2}})
    assert reply["camera"]["result"] == "failed"
    assert reply["camera"]["sequence_id"] == "2"
    junk: tuple[object, ...] = (
        [],
        "pause",
        None,
        {"print": "pause"},
        {"print": {"command": 5}},
        {},
    )
    for payload in junk:
        assert vp.handle_request(payload) == []


def fun_bit(vp: VirtualPrinter) -> bool | None:
    """Return the authorization-control bit of the printer's `fun`, None without `fun`."""
    fun = vp.full_report()["print"].get("fun")
    return None if fun is None else bool(int(fun, 16) & 0x20000000)


def test_reject_control_models_authorization_firmware() -> None:
    """Print control is refused with the firmware's error; the light still answers."""
    vp = VirtualPrinter("S", "X1C", printing=True)
    run_until(vp, printing)
    assert fun_bit(vp) is False  # Developer mode: the template's `fun` with the bit cleared
    vp.reject_control = True
    assert fun_bit(vp) is True
    for request in (
        {"print": {"command": "pause", "sequence_id": "1"}},
        {"print": {"command": "stop", "sequence_id": "2"}},
        {"print": {"command": "print_speed", "param": "3", "sequence_id": "3"}},
    ):
        (reply,) = vp.handle_request(request)
        body = reply["print"]
        assert body["result"] == "failed"
        assert "verify" in body["reason"]
        assert body["err_code"] == REJECT_ERR_CODE
    assert vp.gcode_state == "RUNNING"
    assert vp.speed_level == 2
    # ha-bambulab: with authorization control "the only functional control is the light".
    light = {"system": {"command": "ledctrl", "led_node": "chamber_light", "led_mode": "off"}}
    assert reply_body(vp.handle_request(light)[0], "system")["result"] == "success"
    assert vp.light_mode() == "off"
    (full,) = vp.handle_request({"pushing": {"command": "pushall", "sequence_id": "0"}})
    assert full["print"]["gcode_state"] == "RUNNING"
    (version,) = vp.handle_request({"info": {"command": "get_version", "sequence_id": "4"}})
    assert version["info"]["sequence_id"] == "4"
    vp.reject_control = False
    assert fun_bit(vp) is False
    replies = vp.handle_request({"print": {"command": "pause", "sequence_id": "5"}})
    assert reply_body(replies[0])["result"] == "success"


def test_authorization_control_per_printer() -> None:
    """Each printer can start with it on; firmware without `fun` gains it once it is on."""
    assert fun_bit(VirtualPrinter("S1", "H2D", authorization_control=True)) is True
    assert fun_bit(VirtualPrinter("S2", "H2D")) is False
    p1 = VirtualPrinter("S3", "P1P")
    assert fun_bit(p1) is None  # the P1 template's firmware predates authorization control
    p1.reject_control = True
    assert fun_bit(p1) is True
    delta = p1.status_report()
    assert delta is not None
    assert "fun" in delta["print"]  # P1 deltas carry the change
    assert fun_bit(VirtualPrinter("S4", "P1P", authorization_control=False)) is None
    p1.reject_control = False
    assert fun_bit(p1) is False  # once sent, `fun` stays


# --- get_version ---------------------------------------------------------------------------------
def module_keys(report: Mapping[str, Any]) -> dict[str, list[str]]:
    return {m["name"].split("/")[0]: sorted(m) for m in report["info"]["module"]}


@pytest.mark.parametrize(
    ("model", "capture", "legacy"),
    [
        ("X1C", "MOCK-X1CMULTIAMS", None),
        ("H2D", "MOCK-H2D", None),
        ("P1P", "P1P", None),
        ("P1S", "MOCK-P1PNOAMS", None),
        ("A1", "MOCK-A1", None),
        ("A1MINI", "MOCK-A1", True),
    ],
)
def test_version_report_mirrors_the_captures(model: str, capture: str, legacy: bool | None) -> None:
    vp = VirtualPrinter("SERIAL0001", model, legacy_firmware=legacy)
    ours = vp.handle_request({"info": {"command": "get_version", "sequence_id": "77"}})[0]
    real = version_report(capture)
    assert set(ours["info"]) == set(real["info"])
    assert ours["info"]["sequence_id"] == "77"
    real_keys = module_keys(real)
    for name, keys in module_keys(ours).items():
        if name in real_keys:
            assert keys == real_keys[name], name
    ota = ours["info"]["module"][0]
    assert ota["name"] == "ota"
    assert ota["sn"] == "SERIAL0001"


def test_version_identifies_each_model() -> None:
    expected = {
        "X1C": "Bambu Lab X1-Carbon",
        "X1E": "Bambu Lab X1E",
        "P1S": "Bambu Lab P1S",
        "A1MINI": "Bambu Lab A1 mini",
        "P2S": "Bambu Lab P2S",
        "H2D": "Bambu Lab H2D",
    }
    for model, product in expected.items():
        modules = VirtualPrinter("S", model).version_report()["info"]["module"]
        assert modules[0]["product_name"] == product
    legacy = {"P1P": "C11", "A1": "N2S", "P1S": "C12", "A1MINI": "N1"}
    for model, project in legacy.items():
        vp = VirtualPrinter("S", model, legacy_firmware=True)
        modules = {m["name"]: m for m in vp.version_report()["info"]["module"]}
        assert "product_name" not in modules["ota"]
        assert modules["esp32"]["project_name"] == project
    x1 = {
        m["name"]: m
        for m in VirtualPrinter("S", "X1C", legacy_firmware=True).version_report()["info"]["module"]
    }
    assert "product_name" not in x1["ota"]
    assert x1["rv1126"]["hw_ver"] == "AP05"
    x1e = {m["name"]: m for m in VirtualPrinter("S", "X1E").version_report()["info"]["module"]}
    assert x1e["ap"]["hw_ver"] == "AP02"
    amss = [m["name"] for m in VirtualPrinter("S", "H2D").version_report()["info"]["module"]]
    assert {"n3f/0", "n3f/1"} <= set(amss)
    a1 = list(VirtualPrinter("S", "A1").version_report()["info"]["module"])
    assert a1[-1]["name"] == "ams_f1/0"
    assert a1[-1]["hw_ver"] == "AMS_F102"


# --- errors and determinism ----------------------------------------------------------------------
def test_hms_and_print_error_helpers() -> None:
    vp = VirtualPrinter("S", "A1")
    vp.set_hms([(0x0C000300, 0x00020002)])
    vp.set_print_error(0x0300400C)
    delta = vp.status_report()
    assert delta is not None
    assert delta["print"]["hms"] == [{"attr": 0x0C000300, "code": 0x00020002}]
    assert delta["print"]["print_error"] == 50348044


def exercise(vp: VirtualPrinter) -> list[Any]:
    out: list[Any] = [vp.full_report(), vp.version_report()]
    vp.start_job(minutes=4, layers=12)
    for second in range(0, 900, 3):
        vp.advance(3)
        out.append(vp.status_report())
        if second == 300:
            out.append(vp.handle_request({"print": {"command": "pause", "sequence_id": "1"}}))
        if second == 330:
            out.append(vp.handle_request({"print": {"command": "resume", "sequence_id": "2"}}))
    return out


@pytest.mark.parametrize("model", ["X1C", "P1S"])
def test_same_seed_same_reports(model: str) -> None:
    first = exercise(VirtualPrinter("S1", model, seed=42))
    assert first == exercise(VirtualPrinter("S1", model, seed=42))
    assert first != exercise(VirtualPrinter("S1", model, seed=43))
    # Without a seed the serial decides, so a farm's printers differ but repeat themselves.
    assert exercise(VirtualPrinter("S2", model)) == exercise(VirtualPrinter("S2", model))
    assert VirtualPrinter("S2", model).seed != VirtualPrinter("S3", model).seed


def test_wifi_signal_jitters_a_little() -> None:
    vp = VirtualPrinter("S", "X1C", seed=8)
    values = set()
    for _ in range(60):
        vp.advance(4)
        values.add(int(vp.full_report()["print"]["wifi_signal"].removesuffix("dBm")))
    assert 2 <= len(values) <= 5
    assert max(values) - min(values) <= 4


@pytest.mark.parametrize("model", ["X1C", "H2D", "P1S", "A1"])
def test_status_report_is_fast(model: str) -> None:
    vp = VirtualPrinter("S", model, printing=True)
    started = time.perf_counter()
    for _ in range(500):
        vp.advance(1)
        vp.status_report()
    traced = sys.gettrace() is not None or sys.monitoring.get_tool(sys.monitoring.COVERAGE_ID)
    budget = 0.01 if traced else 0.001  # coverage tracing slows everything down
    assert (time.perf_counter() - started) / 500 < budget


def test_second_chamber_light() -> None:
    """The H2D has two light bars, each switched by its own node."""
    vp = VirtualPrinter("S", "H2D")
    assert (vp.light_mode("chamber_light"), vp.light_mode("chamber_light2")) == ("on", "on")
    request = {"system": {"command": "ledctrl", "led_node": "chamber_light2", "led_mode": "off"}}
    (reply, *_) = vp.handle_request(request)
    assert reply_body(reply, "system")["result"] == "success"
    assert (vp.light_mode("chamber_light"), vp.light_mode("chamber_light2")) == ("on", "off")
    assert VirtualPrinter("S", "P1P").light_mode("chamber_light2") is None
