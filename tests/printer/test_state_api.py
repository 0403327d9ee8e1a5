"""What the state package offers its callers besides the views' values.

`is_full_report` (shared with the client's first-report wait), the `reported` and
`chamber_light` views the entities' existence depends on, the one raw accessor diagnostics use,
and the view declarations every view is derived from.
"""

import copy
from dataclasses import fields
from typing import Any

import pytest

from custom_components.bambu_printer.printer.state import (
    CHAMBER_LIGHT_NODE,
    VIEW_NAMES,
    PrinterState,
    Reported,
    is_full_report,
)
from custom_components.bambu_printer.printer.state.view_cache import (
    View,
    ViewTable,
    path,
    present,
    state_value,
)
from simulator.engine import VirtualPrinter
from tests.captures import CAPTURE_NAMES, pushall_report, version_report


def delta(**fields: Any) -> dict[str, Any]:
    """A P1-style delta report."""
    return {"print": {"command": "push_status", "msg": 1, "sequence_id": "9", **fields}}


def loaded(name: str) -> PrinterState:
    state = PrinterState()
    assert state.apply(pushall_report(name), now=0.0)
    assert state.apply(version_report(name))
    return state


# --------------------------------------------------------------------------- full reports


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_every_captured_pushall_answer_is_a_full_report(name: str) -> None:
    assert is_full_report(pushall_report(name)["print"])


def test_h2d_full_report_has_no_msg() -> None:
    """The H2D capture carries no `msg` at all; it still counts as full."""
    body = pushall_report("MOCK-H2D")["print"]
    assert "msg" not in body
    assert is_full_report(body)


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_a_delta_is_not_a_full_report(name: str) -> None:
    body = pushall_report(name)["print"]
    assert not is_full_report({**body, "msg": 1})  # P1 deltas are marked msg 1
    assert not is_full_report({**body, "msg": "0"})
    for key in ("gcode_state", "ipcam", "lights_report", "upgrade_state", "wifi_signal"):
        partial = dict(body)
        del partial[key]
        assert not is_full_report(partial), key
    assert not is_full_report(delta(mc_percent=5)["print"])
    assert not is_full_report({})


@pytest.mark.parametrize("model", ["P1P", "A1", "A1MINI", "X1C", "X1E", "H2D", "P2S"])
def test_the_simulators_full_reports_are_full(model: str) -> None:
    """The client waits for a full report after connecting; the simulator must send one."""
    assert is_full_report(VirtualPrinter("01S00A000000001", model).full_report()["print"])


def test_full_report_reads_any_mapping() -> None:
    body = pushall_report("MOCK-X1CMULTIAMS")["print"]
    assert is_full_report(dict(body.items()))
    assert is_full_report(type("Report", (dict,), {})(body))


# --------------------------------------------------------------------------- reported readings


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_reported_readings_per_capture(name: str) -> None:
    # No capture carries gcode_start_time; only X1C and H2D firmware send `fun`.
    assert loaded(name).reported == Reported(
        start_time=False,
        part_cooling_fan=True,
        aux_fan=True,
        chamber_fan=True,
        heatbreak_fan=True,
        wifi_signal=True,
        print_error=True,
        sdcard=True,
        firmware_update=True,
        authorization_control=name in {"MOCK-X1CMULTIAMS", "MOCK-H2D"},
        nozzle_diameter=True,
        nozzle_type=True,
    )


@pytest.mark.parametrize(
    ("flag", "key"),
    [
        ("start_time", "gcode_start_time"),
        ("nozzle_type", "nozzle_type"),
        ("part_cooling_fan", "cooling_fan_speed"),
        ("aux_fan", "big_fan1_speed"),
        ("chamber_fan", "big_fan2_speed"),
        ("heatbreak_fan", "heatbreak_fan_speed"),
        ("wifi_signal", "wifi_signal"),
        ("print_error", "print_error"),
        ("sdcard", "sdcard"),
        ("firmware_update", "upgrade_state"),
    ],
)
def test_each_flag_tells_its_own_field(flag: str, key: str) -> None:
    """Each flag follows exactly its report field, and no other."""
    state = PrinterState()
    assert state.apply(delta(**{key: 0}))
    assert [item.name for item in fields(Reported) if getattr(state.reported, item.name)] == [flag]


def test_nothing_is_reported_before_the_first_report() -> None:
    assert PrinterState().reported == Reported(*(False,) * len(fields(Reported)))


def test_a_field_reported_later_is_seen() -> None:
    state = loaded("P1P")
    before = state.reported
    assert state.apply(delta(mc_percent=12, wifi_signal="-60dBm"))
    assert state.reported is before  # values changed, no new field: not even rebuilt
    assert state.apply(delta(gcode_start_time="1700000000", fun="18FFF9CFF"))
    assert state.reported.start_time
    assert state.reported == Reported(*(True,) * len(fields(Reported)))


def test_a_field_reported_as_null_is_still_reported() -> None:
    state = PrinterState()
    assert state.apply(delta(sdcard=None))
    assert state.reported.sdcard
    assert state.sdcard is None


# --------------------------------------------------------------------------- chamber light


def test_chamber_light_per_capture() -> None:
    assert loaded("P1P").chamber_light is False
    assert loaded("MOCK-X1CMULTIAMS").chamber_light is True
    assert loaded("MOCK-H2D").chamber_light is True


@pytest.mark.parametrize(
    ("lights", "on"),
    [
        ([{"node": CHAMBER_LIGHT_NODE, "mode": "on"}], True),
        ([{"node": CHAMBER_LIGHT_NODE, "mode": "flashing"}], True),
        ([{"node": CHAMBER_LIGHT_NODE, "mode": "off"}], False),
        ([{"node": "work_light", "mode": "on"}], None),
        ("junk", None),
    ],
)
def test_chamber_light_modes(lights: Any, on: bool | None) -> None:
    state = PrinterState()
    assert state.chamber_light is None
    state.apply(delta(lights_report=lights))
    assert state.chamber_light is on


# --------------------------------------------------------------------------- raw report


def test_raw_report_is_the_merged_report_and_versions_read_only() -> None:
    state = loaded("MOCK-H2D")
    raw = state.raw_report()
    assert set(raw) == {"print", "versions"}
    assert raw["print"] == state.print_data
    assert raw["versions"] == state.versions
    assert raw["print"]["gcode_state"] == pushall_report("MOCK-H2D")["print"]["gcode_state"]
    with pytest.raises(TypeError):
        raw["print"]["gcode_state"] = "IDLE"  # type: ignore[index]
    with pytest.raises(TypeError):
        raw["versions"]["ota"] = {}  # type: ignore[index]


def test_raw_report_follows_later_reports() -> None:
    state = PrinterState()
    raw = state.raw_report()
    assert dict(raw["print"]) == {}
    state.apply(delta(mc_percent=3))
    assert state.raw_report()["print"]["mc_percent"] == 3


# --------------------------------------------------------------------------- declarations


def test_view_names_list_every_public_view_once() -> None:
    public = [name for name, value in vars(PrinterState).items() if isinstance(value, View)]
    public = [name for name in public if not name.startswith("_")]
    assert list(VIEW_NAMES) == public
    assert isinstance(PrinterState.job, View)  # the declaration, read on the class
    assert {"reported", "chamber_light", "camera", "ams"} <= set(VIEW_NAMES)


def test_plain_fields_come_first() -> None:
    def build(*values: Any) -> tuple[Any, ...]:
        return values

    View(build, "a", "b", present("c"), doc="fine")
    with pytest.raises(TypeError, match="plain fields come before"):
        View(build, present("c"), "a", doc="fields after another input")


def test_views_on_a_host_of_their_own() -> None:
    """The generated input readers quote any field name and read every kind of input."""

    class Host:
        def __init__(self, report: dict[str, Any]) -> None:
            self._print = report
            self._built: list[list[Any]] = table.no_builds()
            self.extra = 7

        odd = View(lambda *values: values, "it's", 'say "x"', "\\n", doc="odd names")
        mixed = View(
            lambda *values: values,
            "a",
            path("b", "c"),
            present("d"),
            state_value(lambda host: host.extra),
            odd,
            doc="every kind of input",
        )
        nothing = View(lambda: "built", doc="no inputs at all")

    table = ViewTable.of(Host)
    host = Host({"it's": 1, 'say "x"': 2, "\\n": 3, "a": 4, "b": {"c": 5}})
    assert host.odd == (1, 2, 3)
    assert host.mixed == (4, 5, False, 7, (1, 2, 3))
    assert host.nothing == "built"
    assert table.stale_by_key["it's"] == ("odd", "mixed")
    assert table.new_field_views == ("mixed",)


def test_a_view_follows_the_keys_of_the_views_it_reads() -> None:
    declared: dict[str, View[Any]] = {
        name: value for name, value in vars(PrinterState).items() if isinstance(value, View)
    }
    assert declared["active_tray"].keys == {"ams", "device", "vt_tray", "vir_slot"}
    assert declared["temperatures"].keys >= {"nozzle_temper", "device"}
    assert declared["job"].keys >= {"mc_remaining_time", "gcode_state"}
    assert declared["active_tray"].uses_versions  # through the AMS units' kinds
    assert not declared["job"].uses_versions
    assert declared["reported"].uses_new_fields
    assert declared["reported"].keys == frozenset()


def test_a_version_reply_reaches_views_that_read_other_views() -> None:
    state = PrinterState()
    state.apply(pushall_report("MOCK-X1CMULTIAMS"))
    units = state.ams
    active = state.active_tray
    reply = copy.deepcopy(version_report("MOCK-X1CMULTIAMS"))
    assert state.apply(reply)
    assert state.ams != units  # kinds and firmware now known
    assert state.active_tray == active  # no tray is loaded in this capture
    assert state.temperatures.chamber is not None
