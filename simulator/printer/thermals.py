"""Heaters and the chamber, warming and cooling the way the printers' readings do.

Heaters ramp linearly (full power) to their target; everything cools exponentially toward its
target or the room temperature.
"""

import math
import random
from dataclasses import dataclass
from typing import Final, Self

_NOZZLE_HEAT_RATE: Final = 4.0  # degC/s
_BED_HEAT_RATE: Final = 0.6  # degC/s
_NOZZLE_COOL_TAU: Final = 110.0  # s
_BED_COOL_TAU: Final = 650.0  # s
_CHAMBER_TAU: Final = 900.0  # s
_AT_TARGET: Final = 1.0  # degC: a heating stage ends this close to its target
_SETTLED: Final = 1e-6  # slack (degC) when comparing with a target; shortest wait (s)


@dataclass(slots=True)
class Thermals:
    """Temperatures and targets of the nozzles (index 0 is the active one), bed and chamber."""

    ambient: float
    nozzles: list[float]
    nozzle_targets: list[float]
    bed: float
    bed_target: float
    chamber: float
    chamber_target: float = 0.0  # the chamber heater's target (X1E, H2, X2D); 0 is off

    @classmethod
    def at_room_temperature(cls, rng: random.Random, nozzles: int) -> Self:
        """Return a printer that has been off for a while: everything near room temperature."""
        ambient = round(22.0 + rng.uniform(0.0, 4.0), 2)
        nozzle_temps = [ambient + rng.uniform(0.5, 2.5) for _ in range(nozzles)]
        bed = ambient + rng.uniform(0.0, 1.5)
        chamber = ambient + rng.uniform(0.0, 1.0)
        return cls(ambient, nozzle_temps, [0.0] * nozzles, bed, 0.0, chamber)

    def step(self, dt: float, *, chamber_sensor: bool, printing: bool) -> None:
        """Let `dt` seconds pass; the chamber (where measured) warms with the bed and the job."""
        for i, target in enumerate(self.nozzle_targets):
            self.nozzles[i] = self._heat(
                self.nozzles[i], target, dt, _NOZZLE_HEAT_RATE, _NOZZLE_COOL_TAU
            )
        self.bed = self._heat(self.bed, self.bed_target, dt, _BED_HEAT_RATE, _BED_COOL_TAU)
        if chamber_sensor:
            goal = self.ambient + 0.3 * max(0.0, self.bed - self.ambient) + (2.0 * printing)
            goal = max(goal, self.chamber_target)
            self.chamber = goal + (self.chamber - goal) * math.exp(-dt / _CHAMBER_TAU)

    def _heat(self, temp: float, target: float, dt: float, rate: float, tau: float) -> float:
        if target > 0 and temp < target:
            return min(target, temp + rate * dt)
        floor = target if target > 0 else self.ambient
        return floor + (temp - floor) * math.exp(-dt / tau)

    def heaters_off(self) -> None:
        """Switch every heater off (the end of a job)."""
        self.bed_target = 0.0
        self.nozzle_targets = [0.0] * len(self.nozzle_targets)

    @property
    def bed_at_target(self) -> bool:
        """Whether the bed is close enough to its target for the preheating stage to end."""
        return self.bed >= self.bed_target - _AT_TARGET - _SETTLED

    @property
    def nozzle_at_target(self) -> bool:
        """Whether the active nozzle is close enough to its target for its heating stage to end."""
        return self.nozzles[0] >= self.nozzle_targets[0] - _AT_TARGET - _SETTLED

    def seconds_to_bed_target(self) -> float:
        """Seconds until `bed_at_target` (infinite when the bed is not heating)."""
        if self.bed_target <= self.bed:
            return math.inf
        return max((self.bed_target - _AT_TARGET - self.bed) / _BED_HEAT_RATE, _SETTLED)

    def seconds_to_nozzle_target(self) -> float:
        """Seconds until `nozzle_at_target` (infinite when the nozzle is not heating)."""
        if self.nozzle_targets[0] <= self.nozzles[0]:
            return math.inf
        gap = self.nozzle_targets[0] - _AT_TARGET - self.nozzles[0]
        return max(gap / _NOZZLE_HEAT_RATE, _SETTLED)
