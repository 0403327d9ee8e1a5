"""The job state machine: simulated time, `gcode_state`, stages, progress, speed and fans."""

import math
from collections.abc import Mapping
from typing import Final

from .ams import AmsBay
from .job import (
    ACTIVE_STATES,
    FAILED,
    FINISH,
    IDLE,
    PAUSE,
    PREPARE,
    PREPARE_SECONDS,
    RUNNING,
    STAGE_CALIBRATING_EXTRUSION,
    STAGE_HEATBED_PREHEATING,
    STAGE_HEATING_HOTEND,
    STAGE_PAUSED_BY_USER,
    STAGE_PRINTING,
    Job,
    stage_seconds,
)
from .thermals import Thermals

SPEED_MAGNITUDE: Final[Mapping[int, int]] = {1: 50, 2: 100, 3: 124, 4: 166}  # spd_lvl: spd_mag

_MAX_STEP: Final = 5.0  # longest integration step while a job runs (keeps couplings smooth)
_MAX_IDLE_STEP: Final = 60.0  # longest step otherwise (only exponential cooling happens)
_PREHEAT_NOZZLE: Final = 140.0  # nozzle temperature while levelling/cleaning, as the start G-code
_EPSILON: Final = 1e-9
# `print_error` of a job the user stopped: Bambu's "The task was canceled." The printer sends
# it with the stop and clears it a couple of seconds later (pybambu's example payload).
CANCELED_ERROR: Final = 0x0300400C
CANCEL_ERROR_SECONDS: Final = 3.0
_SHORTEST_STEP: Final = 1e-6


class PrintProcess:
    """Runs jobs through their stages in simulated time and answers the job controls."""

    def __init__(self, thermals: Thermals, ams: AmsBay, *, chamber_sensor: bool) -> None:
        self._thermals = thermals
        self._ams = ams
        self._chamber_sensor = chamber_sensor
        self.elapsed = 0.0  # simulated seconds since the printer was created
        self.state: str = IDLE
        self._resume_state = RUNNING
        self.speed_level = 2
        self.fan_override: dict[str, int] = {}  # fan gears set by G-code: "part", "aux", "chamber"
        self.job: Job | None = None
        self.last_job: Job | None = None  # the job that ended last (its fields stay reported)
        self._last_progress = (0, 0, 0, 0)
        self.last_start_epoch = 0
        self.error = 0  # `print_error`: 0 none, else the code of what stopped or holds the job
        self._error_clears_at: float | None = None

    @property
    def active(self) -> bool:
        """Whether a job is under way (preparing, running or paused)."""
        return self.state in ACTIVE_STATES

    @property
    def tray_loaded(self) -> bool:
        """Whether the current job's filament has been loaded (its first stage has begun)."""
        return self.job is not None and self.state != PREPARE and self.job.stage_index >= 0

    @property
    def speed_factor(self) -> float:
        """The current speed profile as a factor of the standard speed."""
        return SPEED_MAGNITUDE[self.speed_level] / 100.0

    # --- controls ----------------------------------------------------------------------------
    def start(self, job: Job) -> None:
        """Start `job` now (replacing any current one): PREPARE, calibration, printing."""
        self.job = job
        self.state = PREPARE
        self.fan_override.clear()
        self.last_start_epoch = job.start_epoch
        self.error, self._error_clears_at = 0, None

    def pause(self) -> str | None:
        """Pause a preparing or running job; return why not when that is impossible."""
        if self.state not in (PREPARE, RUNNING):
            return f"cannot pause: gcode_state is {self.state}"
        self._resume_state = self.state
        self.state = PAUSE
        return None

    def resume(self) -> str | None:
        """Resume a paused job where it was; return why not when that is impossible."""
        if self.state != PAUSE:
            return f"cannot resume: gcode_state is {self.state}"
        self.state = self._resume_state
        return None

    def stop(self) -> str | None:
        """Stop the job (FAILED, progress frozen); return why not when that is impossible."""
        if self.job is None or not self.active:
            return f"cannot stop: gcode_state is {self.state}"
        self._finish(self.job, FAILED)
        self.error = CANCELED_ERROR
        self._error_clears_at = self.elapsed + CANCEL_ERROR_SECONDS
        return None

    def fail(self, code: int) -> str | None:
        """End the job as the printer does on a fault: FAILED, `print_error` set to `code`."""
        if self.job is None or not self.active:
            return f"cannot fail: gcode_state is {self.state}"
        self._finish(self.job, FAILED)
        self.error, self._error_clears_at = code, None
        return None

    def set_speed(self, level: int) -> str | None:
        """Switch the speed profile of the current job; return why not when that is impossible."""
        if not self.active:
            return f"cannot change speed: gcode_state is {self.state}"
        self.speed_level = level
        return None

    # --- time --------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass, stepping at most to the job's next event."""
        remaining = seconds
        while remaining > _EPSILON:
            self._update_phase()
            limit = _MAX_STEP if self.active else _MAX_IDLE_STEP
            step = min(remaining, limit, self._time_to_event())
            self._integrate(step)
            self.elapsed += step
            remaining -= step
        self._update_phase()
        if self._error_clears_at is not None and self.elapsed >= self._error_clears_at:
            self.error, self._error_clears_at = 0, None

    def _time_to_event(self) -> float:
        job = self.job
        if job is None or self.state not in (PREPARE, RUNNING):
            return math.inf
        if self.state == PREPARE:
            return max(PREPARE_SECONDS - job.prepare_elapsed, _SHORTEST_STEP)
        if job.printing_layers:
            return max((job.print_seconds - job.work_done) / self.speed_factor, _SHORTEST_STEP)
        stage = job.stages[job.stage_index]
        if stage == STAGE_HEATBED_PREHEATING:
            return self._thermals.seconds_to_bed_target()
        if stage == STAGE_HEATING_HOTEND:
            return self._thermals.seconds_to_nozzle_target()
        return max(stage_seconds(stage) - job.stage_elapsed, _SHORTEST_STEP)

    def _integrate(self, dt: float) -> None:
        printing = self.state in (RUNNING, PAUSE)
        self._thermals.step(dt, chamber_sensor=self._chamber_sensor, printing=printing)
        job = self.job
        if job is None:
            return
        if self.state == PREPARE:
            job.prepare_elapsed += dt
        elif self.state == RUNNING:
            if job.printing_layers:
                job.work_done = min(job.print_seconds, job.work_done + dt * self.speed_factor)
            else:
                job.stage_elapsed += dt

    def _update_phase(self) -> None:
        job = self.job
        if job is None:
            return
        for _ in range(len(job.stages) + 3):  # bounded: each pass moves one step forward
            if self.state == PREPARE and job.prepare_elapsed >= PREPARE_SECONDS - _EPSILON:
                self.state = RUNNING
                self._enter_stage(job, 0)
            elif self.state == RUNNING and not job.printing_layers:
                if not self._stage_done(job):
                    return
                self._enter_stage(job, job.stage_index + 1)
            elif self.state == RUNNING and job.work_done >= job.print_seconds - _EPSILON:
                self._finish(job, FINISH)
            else:
                return

    def _stage_done(self, job: Job) -> bool:
        stage = job.stages[job.stage_index]
        if stage == STAGE_HEATBED_PREHEATING:
            return self._thermals.bed_at_target
        if stage == STAGE_HEATING_HOTEND:
            return self._thermals.nozzle_at_target
        return job.stage_elapsed >= stage_seconds(stage) - _EPSILON

    def _enter_stage(self, job: Job, index: int) -> None:
        job.stage_index = index
        job.stage_elapsed = 0.0
        self.fan_override.clear()
        thermals = self._thermals
        stage = STAGE_PRINTING if job.printing_layers else job.stages[index]
        if index == 0 or stage == STAGE_HEATBED_PREHEATING:
            thermals.bed_target = job.bed_target
            thermals.nozzle_targets[0] = min(_PREHEAT_NOZZLE, job.nozzle_target)
        if stage in (STAGE_HEATING_HOTEND, STAGE_CALIBRATING_EXTRUSION, STAGE_PRINTING):
            thermals.nozzle_targets[0] = job.nozzle_target
            thermals.bed_target = job.bed_target

    def _finish(self, job: Job, state: str) -> None:
        """End the job as FINISH (done) or FAILED (stopped): heaters off, progress frozen."""
        if state == FINISH:
            self._last_progress = (100, 0, job.layers, job.layers)
        else:
            percent, remaining, layer, _total = self.progress()
            self._last_progress = (percent, remaining, layer, job.layers)
        self._ams.follow_job(job, loaded=self.tray_loaded)
        self._ams.end_job(job, finished=state == FINISH)
        self.last_job = job
        self.state = state
        self.fan_override.clear()
        self._thermals.heaters_off()
        self.job = None

    # --- what the report shows ---------------------------------------------------------------
    def progress(self) -> tuple[int, int, int, int]:
        """Return (percent, remaining minutes, layer, total layers) of the current state."""
        job = self.job
        if job is None:
            return self._last_progress
        fraction = job.work_done / job.print_seconds
        percent = min(100, int(fraction * 100 + _EPSILON))
        remaining_s = (job.print_seconds - job.work_done) / self.speed_factor
        remaining = math.ceil(remaining_s / 60.0 - _EPSILON)
        printing = job.printing_layers and self.state in (RUNNING, PAUSE)
        layer = (
            max(1, min(job.layers, math.ceil(fraction * job.layers - _EPSILON))) if printing else 0
        )
        return percent, remaining, layer, job.layers

    def stage_code(self, *, full_reports: bool) -> int:
        """Return `stg_cur`: X1-class printers say -1 when idle, P1/A1 0 (fresh) or 255 (done)."""
        job = self.job
        if self.state == PAUSE:
            return STAGE_PAUSED_BY_USER
        if self.state == RUNNING and job is not None:
            return STAGE_PRINTING if job.printing_layers else job.stages[job.stage_index]
        if full_reports:
            return -1
        return 0 if self.state in (IDLE, PREPARE) else 255

    def fan_gears(self, *, aux_fan: bool, chamber_fan: bool) -> tuple[int, int, int, int]:
        """Return fan gears 0-15: (part cooling, aux, chamber, heatbreak)."""
        job = self.job
        printing = job is not None and self.state == RUNNING and job.printing_layers
        part = aux = chamber = 0
        if printing and job is not None:
            if job.work_done * job.layers >= job.print_seconds:  # from the second layer on
                part = job.part_fan_gear
            aux = 10 if aux_fan and part else 0
            chamber = 4 if chamber_fan else 0
        heatbreak = 15 if max(self._thermals.nozzles) > 50.0 else 0
        return (
            self.fan_override.get("part", part),
            self.fan_override.get("aux", aux),
            self.fan_override.get("chamber", chamber),
            heatbreak,
        )
