"""The library's temperature and fan commands against the simulator: what they set, refusals."""

from collections.abc import Callable
from typing import Any

import pytest

from custom_components.bambu_printer.printer.commands import (
    Command,
    CommandFactory,
    Fan,
    match_reply,
)
from custom_components.bambu_printer.printer.state import AirDuct, PrinterState
from simulator.engine import VirtualPrinter


def send(vp: VirtualPrinter, command: Command) -> tuple[bool, str | None, PrinterState]:
    """Send a library command; return whether the reply says success, and the state after it."""
    replies = vp.handle_request(command.payload)
    reply = match_reply(command, replies[0])
    assert reply is not None
    state = PrinterState()
    state.apply(vp.handle_request({"pushing": {"command": "pushall", "sequence_id": "0"}})[0])
    return reply.ok, reply.reason, state


def test_single_nozzle_and_bed_targets() -> None:
    vp = VirtualPrinter("S", "P1S")
    factory = CommandFactory()
    ok, _, state = send(vp, factory.set_nozzle_temperature(220))
    assert ok
    assert state.temperatures.nozzle_target == 220
    ok, _, state = send(vp, factory.set_bed_temperature(65))
    assert ok
    assert state.temperatures.bed_target == 65


@pytest.mark.parametrize("extruder", [0, 1])
def test_each_nozzle_of_a_dual_nozzle_printer(extruder: int) -> None:
    vp = VirtualPrinter("S", "H2D")
    ok, _, state = send(vp, CommandFactory().set_nozzle_temperature(240, extruder))
    assert ok
    targets = {nozzle.index: nozzle.target for nozzle in state.temperatures.nozzles}
    assert targets == {extruder: 240, 1 - extruder: 0}


def test_chamber_target_warms_the_chamber() -> None:
    vp = VirtualPrinter("S", "H2D")
    ok, _, state = send(vp, CommandFactory().set_chamber_temperature(50))
    assert ok
    assert state.temperatures.chamber_target == 50
    vp.advance(6 * 3600)
    ok, _, state = send(vp, CommandFactory().set_chamber_temperature(0))
    assert state.temperatures.chamber == pytest.approx(50, abs=1)
    assert state.temperatures.chamber_target == 0


@pytest.mark.parametrize(
    ("fan", "field"),
    [(Fan.PART_COOLING, "part_cooling"), (Fan.AUX, "aux"), (Fan.CHAMBER, "chamber")],
)
def test_fans(fan: Fan, field: str) -> None:
    vp = VirtualPrinter("S", "X1C")
    ok, _, state = send(vp, CommandFactory().set_fan(fan, 60))
    assert ok
    assert getattr(state.fans, field) == 60


def test_invalid_extruder_is_refused() -> None:
    vp = VirtualPrinter("S", "P1S")
    command = CommandFactory().set_nozzle_temperature(200, 1)  # the P1S has one extruder
    ok, reason, _ = send(vp, command)
    assert not ok
    assert reason == "invalid extruder_index: 1"


@pytest.mark.parametrize(
    "build",
    [
        lambda f: f.set_nozzle_temperature(200),
        lambda f: f.set_nozzle_temperature(200, 0),
        lambda f: f.set_bed_temperature(60),
        lambda f: f.set_chamber_temperature(40),
        lambda f: f.set_fan(Fan.AUX, 50),
        lambda f: f.print_speed(3),
        lambda f: f.gcode_line("G28"),
    ],
)
def test_authorization_control_refuses_every_control(
    build: Callable[[CommandFactory], Command],
) -> None:
    """Under authorization control these `print` commands are refused with its error code."""
    vp = VirtualPrinter("S", "H2D")
    vp.reject_control = True
    ok, reason, state = send(vp, build(CommandFactory()))
    assert not ok
    assert reason is not None
    assert "verify failed" in reason
    assert state.temperatures.bed_target == 0


def _raw(vp: VirtualPrinter, body: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = vp.handle_request({"print": {"sequence_id": "1", **body}})[0]
    return reply["print"]  # type: ignore[no-any-return]


def test_malformed_values_are_refused() -> None:
    vp = VirtualPrinter("S", "H2D")
    bad_temp = _raw(vp, {"command": "set_nozzle_temp", "extruder_index": 0, "target_temp": "x"})
    assert bad_temp["result"] == "failed"
    assert _raw(vp, {"command": "set_ctt", "ctt_val": None})["result"] == "failed"


def test_drying_starts_and_stops() -> None:
    """An AMS 2 Pro unit dries on request (`dry_time` counts down) and stops on request."""
    vp = VirtualPrinter("S", "H2D")
    ok, _, state = send(vp, CommandFactory().start_drying(0, 60, 2))
    assert ok
    assert state.ams[0].dry_time_minutes == 120
    vp.advance(600)
    ok, _, state = send(vp, CommandFactory().stop_drying(0))
    assert ok
    assert state.ams[0].dry_time_minutes == 0


def test_drying_refused_where_impossible() -> None:
    """Classic AMS units cannot dry; an absent unit is refused too."""
    ok, reason, _ = send(VirtualPrinter("S", "X1C"), CommandFactory().start_drying(0, 60, 2))
    assert not ok
    assert reason == "an AMS cannot dry filament"
    ok, reason, _ = send(VirtualPrinter("S", "H2D"), CommandFactory().start_drying(3, 60, 2))
    assert not ok
    assert reason == "no AMS unit 3"
    bad = _raw(VirtualPrinter("S", "H2D"), {"command": "ams_filament_drying", "ams_id": 0})
    assert bad["result"] == "failed"
    assert _raw(VirtualPrinter("S", "H2D"), {"command": "ams_filament_drying"})["result"] == (
        "failed"
    )


def test_airduct_mode() -> None:
    """The H2D switches its air duct to a mode of its list; others are refused."""
    vp = VirtualPrinter("S", "H2D")
    ok, _, state = send(vp, CommandFactory().set_airduct(1))
    assert ok
    assert state.airduct == AirDuct(mode=1, modes=(0, 1, 2))
    ok, reason, _ = send(vp, CommandFactory().set_airduct(7))
    assert (ok, reason) == (False, "invalid modeId: 7")
    ok, reason, _ = send(VirtualPrinter("S", "X1C"), CommandFactory().set_airduct(0))
    assert (ok, reason) == (False, "no air duct")
