"""Set-point tracking metrics, one definition each, accumulated online over P copies one step at a time.

`TrackingAccumulator.add(setpoint, error, alive)` takes, per step, the set-point [P], the error [P] = set-point -
value and which copies are still flying [P] (a copy whose episode has ended adds nothing more). Closed-loop
fitness (`evolution.fitness.closed_loop`) feeds it the plant after every `env.step`; the reports run it over a
recorded flight (`snncontrol.evaluation.metrics.tracking_metrics`), so an objective and a report of the same
flight are the same number. Units follow the signals (m for the blimp's altitude, so errors and overshoots are
in m); time is counted in samples (steps), which a caller turns into seconds with its sample times.

A segment is a run of samples with one set-point: a change starts a new one, and `held` counts the samples since
(0 on a segment's first sample). Definitions:
- step: the segment's first error e0 (set-point minus the value when it changed); direction = sign(e0), a zero
  step counts as upward;
- overshoot: max(0, max over the segment of -direction * e), how far the value went past the set-point in the
  direction of the step; over a flight, the mean over its segments (each set-point flown counts, the last too,
  even where the flight ends on its first sample: 0 there);
- steady-state error: mean |e| over the samples with held >= `steady_after_steps` ("from steady_after since the
  change until the segment ends"); per segment (nan where it ended sooner) and pooled over the flight;
- rise: the first held at which the value has covered `rise_fraction` (90 %) of the step, i.e.
  direction * e <= (1 - rise_fraction) * |e0| (nan if never);
- settling: the held after which |e| stays within `settle_band` to the segment's end (0 if it never left the
  band, nan if the segment ends outside it);
- tracking error: mean |e| over the flight; RMSE: sqrt(mean e^2); itae: sum(held * |e|) / sum(held).
Where a flight has nothing to measure (no sample held `steady_after_steps` into a set-point, every set-point one
sample long) steady-state error and itae are NaN, never 0: a closed-loop fitness counts NaN as the worst score. A
non-finite error is outside the settling band.
Energy (spikes, SOPs, joules) has its own single definition in `snncontrol.energy`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Segment:
    """One set-point of one copy; positions and durations in samples, errors in the signal's unit."""

    start: int  # index of its first sample in the copy's flight
    samples: int
    setpoint: float
    step: float  # e0: the set-point minus the value when it changed
    steady_state_error: float  # nan if it ended before steady_after_steps
    overshoot: float
    rise_steps: float  # nan if it never rose
    settle_steps: float  # nan if it ended outside the band

    @property
    def full(self) -> bool:
        """Held long enough to reach steady state (what a report judges). A flight's last sample may start
        another segment, one sample long: never full, also where steady_after_steps is 0."""
        return bool(np.isfinite(self.steady_state_error)) and self.samples > 1


class TrackingAccumulator:
    """The metrics of the module docstring for P copies, fed one step at a time; `keep_segments` also keeps
    every copy's finished segments (for reports: one Python call per segment change, so leave it off for large
    populations flying ramps)."""

    def __init__(
        self,
        copies: int,
        steady_after_steps: int,
        settle_band: float = 0.05,
        rise_fraction: float = 0.9,
        keep_segments: bool = False,
    ) -> None:
        self.steady_after, self.settle_band, self.rise_fraction = steady_after_steps, settle_band, rise_fraction
        zeros = [np.zeros(copies) for _ in range(9)]
        # over the flight: samples, sum |e|, sum e^2, sum held * |e|, sum held, steady sum / count, overshoot sum /
        # count of finished segments
        self.n, self.abs_sum, self.sq_sum, self.weighted, self.weight_sum = zeros[:5]
        self.steady_sum, self.steady_n, self.overshoot_sum, self.closed = zeros[5:]
        # the current segment of each copy
        self.setpoint, self.held, self.start = np.full(copies, np.nan), np.zeros(copies), np.zeros(copies)
        self.e0, self.direction, self.peak = np.zeros(copies), np.ones(copies), np.zeros(copies)
        self.seg_sum, self.seg_n = np.zeros(copies), np.zeros(copies)
        self.rise, self.last_out = np.full(copies, np.nan), np.full(copies, -1.0)
        self.started = np.zeros(copies, dtype=bool)
        self.finished: list[list[Segment]] | None = [[] for _ in range(copies)] if keep_segments else None

    def add(self, setpoint: np.ndarray, error: np.ndarray, alive: np.ndarray) -> None:
        """One step: set-points [P], errors [P] (set-point - value) and the copies still flying [P] (bool)."""
        held = np.where(setpoint == self.setpoint, self.held + 1.0, 0.0)
        new = alive & (held == 0)
        closing = new & self.started
        if self.finished is not None:
            for copy in np.flatnonzero(closing):
                self.finished[copy].append(self._segment(copy))
        self.overshoot_sum += np.where(closing, self.peak, 0.0)
        self.closed += closing
        self.held = np.where(alive, held, self.held)
        self.setpoint = np.where(alive, setpoint, self.setpoint)
        self.started |= new
        self.start = np.where(new, self.n, self.start)
        self.e0 = np.where(new, error, self.e0)
        self.direction = np.where(new, np.where(error < 0, -1.0, 1.0), self.direction)
        self.peak, self.seg_sum, self.seg_n = (np.where(new, 0.0, a) for a in (self.peak, self.seg_sum, self.seg_n))
        self.rise, self.last_out = np.where(new, np.nan, self.rise), np.where(new, -1.0, self.last_out)

        abs_error = np.where(alive, np.abs(error), 0.0)
        self.n += alive
        self.abs_sum += abs_error
        self.sq_sum += np.where(alive, error * error, 0.0)
        self.weighted += self.held * abs_error
        self.weight_sum += np.where(alive, self.held, 0.0)
        steady = alive & (self.held >= self.steady_after)
        self.steady_sum += np.where(steady, abs_error, 0.0)
        self.steady_n += steady
        self.seg_sum += np.where(steady, abs_error, 0.0)
        self.seg_n += steady
        self.peak = np.where(alive, np.maximum(self.peak, -self.direction * error), self.peak)
        risen = alive & np.isnan(self.rise) & (self.direction * error <= (1 - self.rise_fraction) * np.abs(self.e0))
        self.rise = np.where(risen, self.held, self.rise)
        outside = ~(np.abs(error) <= self.settle_band)  # (NaN too)
        self.last_out = np.where(alive & outside, self.held, self.last_out)

    def _segment(self, copy: int) -> Segment:
        """The current segment of `copy` as it stands."""
        samples = self.held[copy] + 1.0
        last_out = self.last_out[copy]
        settle = 0.0 if last_out < 0 else (last_out + 1.0 if last_out + 1.0 < samples else float("nan"))
        seg_n = self.seg_n[copy]
        return Segment(
            start=int(self.start[copy]),
            samples=int(samples),
            setpoint=float(self.setpoint[copy]),
            step=float(self.e0[copy]),
            steady_state_error=float(self.seg_sum[copy] / seg_n) if seg_n else float("nan"),
            overshoot=float(self.peak[copy]),
            rise_steps=float(self.rise[copy]),
            settle_steps=float(settle),
        )

    def segments(self, copy: int) -> list[Segment]:
        """Every segment of `copy` so far, the current one last (needs keep_segments)."""
        if self.finished is None:
            raise ValueError("segments need a TrackingAccumulator made with keep_segments=True")
        return [*self.finished[copy], *([self._segment(copy)] if self.started[copy] else [])]

    # Per copy over the flight so far, [P]:
    def tracking_error(self) -> np.ndarray:
        return self.abs_sum / np.maximum(self.n, 1.0)

    def rmse(self) -> np.ndarray:
        return np.sqrt(self.sq_sum / np.maximum(self.n, 1.0))

    def itae(self) -> np.ndarray:
        return np.where(self.weight_sum > 0, self.weighted / np.maximum(self.weight_sum, 1e-12), np.nan)

    def steady_state(self) -> np.ndarray:
        return np.where(self.steady_n > 0, self.steady_sum / np.maximum(self.steady_n, 1.0), np.nan)

    def overshoot(self) -> np.ndarray:
        total = self.overshoot_sum + np.where(self.started, self.peak, 0.0)
        return total / np.maximum(self.closed + self.started, 1.0)
