"""The views control decisions read: firmware offers, authorization control, the job's times."""

from typing import Any

import pytest

from custom_components.bambu_printer.printer.state import Firmware, PrinterState
from tests.captures import CAPTURE_NAMES, pushall_report, version_report

NOW = 1_750_000_000.0


def loaded(name: str) -> PrinterState:
    state = PrinterState()
    state.apply(version_report(name), now=NOW)
    state.apply(pushall_report(name), now=NOW)
    return state


def delta(**fields: Any) -> dict[str, Any]:
    """A P1-style delta report."""
    return {"print": {"command": "push_status", "msg": 1, "sequence_id": "9", **fields}}


# --------------------------------------------------------------------------- firmware


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_captures_offer_no_update(name: str) -> None:
    """Every capture says `new_version_state` 0 or 2: nothing is offered."""
    firmware = loaded(name).firmware
    assert (firmware.update_available, firmware.new_version) == (False, None)
    assert firmware.ams_update_available is False


def test_a_different_version_without_the_printers_word_is_no_update() -> None:
    """Only `new_version_state` 1 means an update; a differing number alone does not."""
    state = loaded("MOCK-H2D")
    state.apply(
        delta(upgrade_state={"new_version_state": 2, "ota_new_version_number": "01.02.00.00"})
    )
    assert state.firmware == Firmware("01.01.01.00", False, None, False)


def test_p1_offer_of_main_firmware() -> None:
    """P1 firmware lists the offer per module in `new_ver_list`; "ota" is the printer's own."""
    state = loaded("P1P")
    offer = [{"name": "ota", "cur_ver": "01.07.00.00", "new_ver": "01.08.00.00"}]
    state.apply(delta(upgrade_state={"new_version_state": 1, "new_ver_list": offer}))
    assert state.firmware == Firmware("01.07.00.00", True, "01.08.00.00", False)


def test_p1_offer_for_the_ams_only() -> None:
    """An offer that lists only AMS modules is an AMS update, not a printer update."""
    state = loaded("P1P")
    offer = [{"name": "ams/0", "cur_ver": "00.00.06.44", "new_ver": "00.00.06.49"}]
    state.apply(delta(upgrade_state={"new_version_state": 1, "new_ver_list": offer}))
    assert state.firmware == Firmware("01.07.00.00", False, None, True)


def test_p1_offer_for_both() -> None:
    """An offer for the printer and an AMS is both."""
    state = loaded("P1P")
    offer = [
        {"name": "ota", "cur_ver": "01.07.00.00", "new_ver": "01.08.00.00"},
        {"name": "ams/0", "cur_ver": "00.00.06.44", "new_ver": "00.00.06.49"},
    ]
    state.apply(delta(upgrade_state={"new_version_state": 1, "new_ver_list": offer}))
    assert state.firmware == Firmware("01.07.00.00", True, "01.08.00.00", True)


def test_x1_offer_for_the_ams_only() -> None:
    """X1-family firmware names the offer in `ota_`/`ams_new_version_number` instead."""
    state = loaded("MOCK-X1CMULTIAMS")
    state.apply(
        delta(
            upgrade_state={
                "new_version_state": 1,
                "ota_new_version_number": "",
                "ams_new_version_number": "00.00.07.00",
            }
        )
    )
    firmware = state.firmware
    assert (firmware.update_available, firmware.new_version) == (False, None)
    assert firmware.ams_update_available is True


def test_x1_offer_of_main_firmware() -> None:
    state = loaded("MOCK-X1CMULTIAMS")
    state.apply(
        delta(upgrade_state={"new_version_state": 1, "ota_new_version_number": "01.09.00.00"})
    )
    firmware = state.firmware
    assert (firmware.update_available, firmware.new_version) == (True, "01.09.00.00")
    assert firmware.ams_update_available is False


def test_offer_that_names_no_module_counts_for_the_printer() -> None:
    """`new_version_state` 1 with nothing saying which module: the printer says an update waits."""
    state = loaded("MOCK-A1")
    state.apply(delta(upgrade_state={"new_version_state": 1}))
    firmware = state.firmware
    assert (firmware.update_available, firmware.new_version) == (True, None)
    assert firmware.ams_update_available is False


def test_odd_offer_entries_are_skipped() -> None:
    state = loaded("P1P")
    offer = ["ota", None, {"name": 5}, {"name": "ota", "new_ver": "01.08.00.00"}]
    state.apply(delta(upgrade_state={"new_version_state": 1, "new_ver_list": offer}))
    assert state.firmware == Firmware("01.07.00.00", True, "01.08.00.00", False)


def test_no_upgrade_state_is_unknown() -> None:
    assert PrinterState().firmware == Firmware(None, None, None, None)


# --------------------------------------------------------------------------- job times


@pytest.mark.parametrize(
    ("name", "remaining"),
    [
        ("MOCK-H2D", 549),  # RUNNING: the printer's estimate
        ("MOCK-X1CMULTIAMS", 0),  # FINISH: nothing remains
        ("MOCK-P1PNOAMS", 0),  # FINISH
        ("P1P", None),  # FAILED (stopped) with a stale 759 minutes: no estimate any more
        ("MOCK-A1", None),  # IDLE: no job
    ],
)
def test_remaining_time_only_for_a_job(name: str, remaining: int | None) -> None:
    """The remaining time is the printer's estimate while a job runs, 0 once it finished."""
    job = loaded(name).job
    assert job.remaining_minutes == remaining
    assert (job.end_time is not None) is (name == "MOCK-H2D")


@pytest.mark.parametrize("ended", ["FAILED", "IDLE", "FINISH"])
def test_stopping_clears_the_estimate(ended: str) -> None:
    """After a stop the printer keeps its last remaining time; the view no longer shows it."""
    state = loaded("MOCK-H2D")
    state.apply(delta(gcode_state=ended), now=NOW + 60)
    job = state.job
    assert job.remaining_minutes == (0 if ended == "FINISH" else None)
    assert job.end_time is None


# --------------------------------------------------------------------------- authorization


@pytest.mark.parametrize(
    ("name", "required"),
    [
        ("MOCK-H2D", True),  # fun "1AFFF9CFF": bit 0x20000000 set
        ("MOCK-X1CMULTIAMS", True),  # fun "11A30F9CFB"
        ("P1P", None),  # older firmware sends no `fun`
        ("MOCK-A1", None),
        ("MOCK-P1PNOAMS", None),
    ],
)
def test_authorization_control_from_captures(name: str, required: bool | None) -> None:
    state = loaded(name)
    assert state.authorization_control is required
    assert state.reported.authorization_control is (required is not None)


@pytest.mark.parametrize(
    ("fun", "required"),
    [
        ("3EC1AFFF9CFF", True),  # pybambu's example with Developer mode off
        ("3EC18FFF9CFF", False),  # ... and with Developer mode on
        ("20000000", True),
        (" 0 ", False),
        (0x20000000, True),
        (5, False),
        ("", None),
        ("not hex", None),
        (True, None),
        (None, None),
        (["20000000"], None),
    ],
)
def test_authorization_control_bit(fun: Any, required: bool | None) -> None:
    state = PrinterState()
    state.apply(delta(fun=fun))
    assert state.authorization_control is required


def test_authorization_control_follows_the_printer() -> None:
    """Switching Developer mode on shows in the next report."""
    state = loaded("MOCK-H2D")
    assert state.apply(delta(fun="18FFF9CFF"))
    assert state.authorization_control is False


# --------------------------------------------------------------------------- what can be done


@pytest.mark.parametrize(
    ("gcode_state", "pause", "resume", "stop"),
    [
        ("RUNNING", True, False, True),
        ("PREPARE", False, False, True),
        ("SLICING", False, False, True),
        ("PAUSE", False, True, True),
        ("FINISH", False, False, False),
        ("FAILED", False, False, False),
        ("IDLE", False, False, False),
        ("INIT", False, False, False),
        ("OFFLINE", False, False, False),
        ("nonsense", False, False, False),
        (None, False, False, False),
    ],
)
def test_what_the_job_allows(
    gcode_state: str | None, pause: bool, resume: bool, stop: bool
) -> None:
    """Pause while printing, resume while paused, stop while a job is active (Bambu Studio)."""
    state = PrinterState()
    if gcode_state is not None:
        state.apply(delta(gcode_state=gcode_state))
    job = state.job
    assert (job.can_pause, job.can_resume, job.can_stop) == (pause, resume, stop)


# --------------------------------------------------------------------------- chamber lights


@pytest.mark.parametrize(
    ("name", "nodes"),
    [
        ("MOCK-H2D", ("chamber_light", "chamber_light2")),  # two light bars
        ("MOCK-X1CMULTIAMS", ("chamber_light",)),  # work_light is the toolhead's, not ours
        ("P1P", ("chamber_light",)),
        ("MOCK-A1", ("chamber_light",)),
    ],
)
def test_chamber_light_nodes_per_capture(name: str, nodes: tuple[str, ...]) -> None:
    assert loaded(name).chamber_light_nodes == nodes


@pytest.mark.parametrize(
    ("first", "second", "on"),
    [
        ("on", "on", True),
        ("off", "on", True),  # one bar lit: the light is on
        ("on", "off", True),
        ("off", "off", False),
        ("off", "flashing", True),
    ],
)
def test_second_chamber_light_counts(first: str, second: str, on: bool) -> None:
    """The light is on while either bar is (as pybambu reads H2 printers)."""
    state = loaded("MOCK-H2D")
    lights = [
        {"node": "chamber_light", "mode": first},
        {"node": "work_light", "mode": "flashing"},
        {"node": "chamber_light2", "mode": second},
    ]
    state.apply(delta(lights_report=lights))
    assert state.chamber_light is on


def test_only_a_second_light_reported() -> None:
    state = PrinterState()
    state.apply(delta(lights_report=[{"node": "chamber_light2", "mode": "off"}]))
    assert (state.chamber_light, state.chamber_light_nodes) == (False, ("chamber_light2",))
    assert PrinterState().chamber_light_nodes == ()
