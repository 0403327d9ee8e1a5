"""Job and error events: what changed between two printer states, once per transition.

The printer reports states, not events. `EventTracker` compares each merged state with the
last one it saw and names the transitions: a job started, finished, failed, was canceled,
paused or resumed; an HMS message was raised or cleared; a print error was raised. The first
state it sees only sets the baseline, and while the link is down (`suspend` until `resume`
with the state the reconnect brought) nothing is named either, so a restart of Home
Assistant or a reconnect never repeats an event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from .state import (
    ACTIVE_JOB_STATES,
    ENDED_JOB_STATES,
    GcodeState,
    HmsMessage,
    PrinterState,
    format_code,
)


class EventType(StrEnum):
    """The transitions users automate on (event entity types and device trigger types)."""

    PRINT_STARTED = "print_started"
    PRINT_FINISHED = "print_finished"
    PRINT_FAILED = "print_failed"
    PRINT_CANCELED = "print_canceled"
    PRINT_PAUSED = "print_paused"
    PRINT_RESUMED = "print_resumed"
    HMS_ERROR_RAISED = "hms_error_raised"
    HMS_ERROR_CLEARED = "hms_error_cleared"
    PRINT_ERROR_RAISED = "print_error_raised"


# `print_error` values that mean the user stopped the job, not a fault: Bambu's own texts for
# them are "The task was canceled." (0x0300400C) and "Printing was cancelled." (0x0500400E).
CANCEL_ERRORS: Final = frozenset({0x0300400C, 0x0500400E})


@dataclass(frozen=True, slots=True)
class PrinterEvent:
    """One transition, with what an automation needs to say what happened."""

    type: EventType
    job_name: str | None = None
    duration_seconds: int | None = None  # for the end of a job, when its start is known
    error_code: str | None = None  # "XXXX_XXXX" print error or "XXXX_XXXX_XXXX_XXXX" HMS code
    severity: str | None = None  # HMS messages: fatal / serious / common / info
    module: str | None = None  # HMS messages: mc / mainboard / ams / toolhead / xcam

    def as_dict(self) -> dict[str, str | int]:
        """Return the fields that are set, for event data."""
        fields: Mapping[str, str | int | None] = {
            "job_name": self.job_name,
            "duration": self.duration_seconds,
            "error_code": self.error_code,
            "severity": self.severity,
            "module": self.module,
        }
        return {key: value for key, value in fields.items() if value is not None}


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """The parts of a state the transitions are read from."""

    job_state: GcodeState | None
    job_name: str | None
    start_time: datetime | None
    print_error: int
    hms: Mapping[str, HmsMessage]


def _snapshot(state: PrinterState) -> _Snapshot:
    job = state.job
    error = state.print_error
    return _Snapshot(
        job_state=job.state if job.state is not GcodeState.UNKNOWN else None,
        job_name=job.name,
        start_time=job.start_time,
        print_error=error.code if error is not None else 0,
        hms={message.full_code: message for message in state.hms},
    )


class EventTracker:
    """Turns successive printer states into events; one tracker per printer."""

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._now = now
        self._last: _Snapshot | None = None
        self._started_at: datetime | None = None  # when this tracker saw the job start
        self._job_error = 0  # the last print error raised during the current job
        self._suspended = False

    def suspend(self) -> None:
        """Name nothing until `resume`: the link is down, what comes next is a catch-up."""
        self._suspended = True

    def resume(self, state: PrinterState) -> None:
        """Take `state` (the full state after a reconnect) as the new baseline."""
        self._suspended = False
        self._last = None
        self.update(state)

    def update(self, state: PrinterState) -> list[PrinterEvent]:
        """Return the events between the last state seen and this one (none for a baseline)."""
        new = _snapshot(state)
        old, self._last = self._last, new
        if old is None or self._suspended:
            if new.print_error:
                self._job_error = new.print_error
            return []
        events = self._error_events(old, new)
        events.extend(self._job_events(old, new))
        events.extend(self._hms_events(old, new))
        return events

    def _error_events(self, old: _Snapshot, new: _Snapshot) -> list[PrinterEvent]:
        code = new.print_error
        if not code or code == old.print_error:
            return []
        self._job_error = code
        if code in CANCEL_ERRORS:
            return []  # the job's end names it (print_canceled)
        return [
            PrinterEvent(
                EventType.PRINT_ERROR_RAISED,
                job_name=new.job_name,
                error_code=format_code(code),
            )
        ]

    def _job_events(self, old: _Snapshot, new: _Snapshot) -> list[PrinterEvent]:
        before, after = old.job_state, new.job_state
        if before is None or after is None or before is after:
            return []
        if after in ACTIVE_JOB_STATES and before not in ACTIVE_JOB_STATES:
            self._started_at = self._now()
            # An error left over from the last job is not this job's.
            self._job_error = new.print_error if new.print_error != old.print_error else 0
            started = PrinterEvent(EventType.PRINT_STARTED, job_name=new.job_name)
            return [started]
        if after is GcodeState.PAUSE:
            return [PrinterEvent(EventType.PRINT_PAUSED, job_name=new.job_name)]
        if before is GcodeState.PAUSE and after in ACTIVE_JOB_STATES:
            return [PrinterEvent(EventType.PRINT_RESUMED, job_name=new.job_name)]
        if after in ENDED_JOB_STATES and before in ACTIVE_JOB_STATES:
            return [self._ended(new, finished=after is GcodeState.FINISH)]
        return []

    def _ended(self, new: _Snapshot, *, finished: bool) -> PrinterEvent:
        """Name the end of a job: finished, canceled (the cancel code came first) or failed."""
        error = new.print_error or self._job_error
        self._job_error = 0
        start = new.start_time or self._started_at
        self._started_at = None
        duration = None
        if start is not None:
            duration = max(0, int((self._now() - start).total_seconds()))
        if finished:
            kind, code = EventType.PRINT_FINISHED, None
        elif error in CANCEL_ERRORS:
            kind, code = EventType.PRINT_CANCELED, None
        else:
            kind, code = EventType.PRINT_FAILED, format_code(error) if error else None
        return PrinterEvent(kind, job_name=new.job_name, duration_seconds=duration, error_code=code)

    @staticmethod
    def _hms_events(old: _Snapshot, new: _Snapshot) -> list[PrinterEvent]:
        events = [
            PrinterEvent(
                EventType.HMS_ERROR_RAISED,
                job_name=new.job_name,
                error_code=code,
                severity=message.severity,
                module=message.module,
            )
            for code, message in new.hms.items()
            if code not in old.hms
        ]
        events.extend(
            PrinterEvent(
                EventType.HMS_ERROR_CLEARED,
                error_code=code,
                severity=message.severity,
                module=message.module,
            )
            for code, message in old.hms.items()
            if code not in new.hms
        )
        return events
