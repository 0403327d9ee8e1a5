"""EventTracker: each job and error transition named once, from the simulator's reports.

The simulated printer (`simulator.engine.VirtualPrinter`) plays each transition the way the
real printers report it; the tracker reads the merged state as the integration does.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.bambu_printer.printer.events import (
    EventTracker,
    EventType,
    PrinterEvent,
)
from custom_components.bambu_printer.printer.state import PrinterState, format_code
from simulator.engine import VirtualPrinter

SERIAL = "01P00A000000001"
CANCELED = 0x0300400C
HOMING_FAILED = 0x03004000  # Bambu: "Z axis homing failed; the task has been stopped."
HEATBED = (0x03000100, 0x00010007)  # fatal


class Clock:
    """The tracker's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Watch:
    """A simulated printer, the merged state of its reports, and the tracker reading it."""

    def __init__(self, model: str = "P1S") -> None:
        self.printer = VirtualPrinter(SERIAL, model, seed=1)
        self.state = PrinterState()
        self.clock = Clock()
        self.tracker = EventTracker(now=self.clock)
        self.state.apply({"print": self.printer.full_report()["print"]})
        assert self.tracker.update(self.state) == []

    def report(self) -> list[PrinterEvent]:
        """Merge the printer's next report and return the events it made."""
        report = self.printer.status_report()
        if report is not None:
            self.state.apply(report)
        return self.tracker.update(self.state)

    def advance(self, seconds: float) -> list[PrinterEvent]:
        """Let time pass report by report (one a second); return every event on the way."""
        events: list[PrinterEvent] = []
        for _ in range(int(seconds)):
            self.printer.advance(1.0)
            self.clock.now += timedelta(seconds=1)
            events.extend(self.report())
        return events

    def request(self, command: str) -> list[PrinterEvent]:
        """Send a print command and merge what the printer answers."""
        events: list[PrinterEvent] = []
        for message in self.printer.handle_request(
            {"print": {"command": command, "sequence_id": "7", "param": ""}}
        ):
            self.state.apply(message)
            events.extend(self.tracker.update(self.state))
        return events


def kinds(events: list[PrinterEvent]) -> list[EventType]:
    """Return the events' types in order."""
    return [event.type for event in events]


def start(watch: Watch, minutes: float = 2.0) -> None:
    """Start a job and let it reach printing, checking the start was named once."""
    watch.printer.start_job("Benchy", layers=10, minutes=minutes)
    events = watch.advance(2)
    assert kinds(events) == [EventType.PRINT_STARTED]
    assert events[0].job_name == "Benchy"


@pytest.mark.parametrize("model", ["P1S", "X1C", "H2D"])
def test_a_whole_print_is_started_then_finished_once(model: str) -> None:
    """Start and finish, each once, with the job's name and how long it took."""
    watch = Watch(model)
    start(watch)
    events = watch.advance(2000)
    assert kinds(events) == [EventType.PRINT_FINISHED]
    assert events[0].job_name == "Benchy"
    assert events[0].duration_seconds is not None
    assert events[0].duration_seconds > 120
    assert watch.advance(5) == []


def test_user_stop_is_canceled_not_failed() -> None:
    """A stop reports print_error 0x0300400C with the end: canceled, and only that."""
    watch = Watch()
    start(watch)
    events = watch.request("stop") + watch.advance(10)
    assert kinds(events) == [EventType.PRINT_CANCELED]
    assert events[0].error_code is None
    assert watch.state.print_error is not None
    assert watch.state.print_error.code == 0


def test_cancel_code_before_the_state_change_still_cancels() -> None:
    """Code first, FAILED in a later report (as pybambu's example payload): canceled."""
    watch = Watch()
    start(watch)
    watch.state.apply({"print": {"print_error": CANCELED}})
    assert watch.tracker.update(watch.state) == []
    watch.state.apply({"print": {"gcode_state": "FAILED"}})
    assert kinds(watch.tracker.update(watch.state)) == [EventType.PRINT_CANCELED]


def test_a_fault_is_failed_with_its_code() -> None:
    """A job the printer stops itself: the print error, then failed with the same code."""
    watch = Watch()
    start(watch)
    watch.printer.fail_job(HOMING_FAILED)
    events = watch.advance(2)
    assert kinds(events) == [EventType.PRINT_ERROR_RAISED, EventType.PRINT_FAILED]
    assert {event.error_code for event in events} == {"0300_4000"}


def test_pause_and_resume() -> None:
    """A user pause and resume are named once each."""
    watch = Watch()
    start(watch)
    assert kinds(watch.request("pause") + watch.advance(3)) == [EventType.PRINT_PAUSED]
    assert kinds(watch.request("resume") + watch.advance(3)) == [EventType.PRINT_RESUMED]


def test_hms_raised_and_cleared_once_per_code() -> None:
    """Each HMS code is raised when it appears and cleared when it goes, with its severity."""
    watch = Watch()
    watch.printer.set_hms([HEATBED])
    events = watch.advance(3)
    assert kinds(events) == [EventType.HMS_ERROR_RAISED]
    assert (events[0].error_code, events[0].severity) == ("0300_0100_0001_0007", "fatal")
    watch.printer.set_hms([])
    events = watch.advance(3)
    assert kinds(events) == [EventType.HMS_ERROR_CLEARED]


def test_nothing_while_suspended_and_the_catch_up_is_no_event() -> None:
    """A job that ended while the link was down is the new baseline, not an event."""
    watch = Watch()
    start(watch)
    watch.tracker.suspend()
    assert watch.advance(2000) == []
    watch.tracker.resume(watch.state)
    assert watch.advance(3) == []
    start(watch)  # the next job is named again


def test_first_state_is_a_baseline() -> None:
    """A tracker that starts mid-print (Home Assistant restarted) names nothing at once."""
    watch = Watch()
    start(watch)
    fresh = EventTracker()
    assert fresh.update(watch.state) == []
    watch.state.apply({"print": {"gcode_state": "PAUSE"}})
    assert kinds(fresh.update(watch.state)) == [EventType.PRINT_PAUSED]


def test_event_data_and_code_format() -> None:
    """Event data holds only what is known; codes look as Bambu shows them."""
    event = PrinterEvent(EventType.PRINT_FINISHED, job_name="Benchy", duration_seconds=61)
    assert event.as_dict() == {"job_name": "Benchy", "duration": 61}
    assert format_code(CANCELED) == "0300_400C"


def test_unknown_state_names_nothing() -> None:
    """States the tracker does not know (or none) never make up a transition."""
    state = PrinterState()
    tracker = EventTracker()
    for value in ("RUNNING", "bogus", "FINISH"):
        body: dict[str, Any] = {"gcode_state": value}
        state.apply({"print": body})
        assert tracker.update(state) == []
