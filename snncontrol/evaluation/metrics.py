"""Set-point tracking metrics of recorded trajectories: `snncontrol.tracking`'s accumulator run over a recording,
so a report and a closed-loop fitness objective of the same samples are the same number (numpy only).

Units follow the signals: times in s, positions in m (altitude), so errors and overshoots are in m. Samples are
taken at a steady rate; `steady_after_s` (the steady-state window: from that long after each set-point change
until the segment ends) becomes round(steady_after_s / sample period) samples, the fitness's
`steady_after_steps`. Rise and settling times are the accumulator's sample counts read on `times`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snncontrol.errors import SnnControlError
from snncontrol.tracking import TrackingAccumulator


class TrajectoryError(SnnControlError, ValueError):
    """A recorded trajectory cannot be scored (mismatched or too short arrays)."""


@dataclass(frozen=True)
class SegmentMetrics:
    setpoint: float
    start_s: float
    step: float  # set-point minus the value at the segment start (m)
    steady_state_error: float  # nan if the segment ended before steady_after_s
    overshoot: float
    rise_time_s: float  # nan if never reached
    settling_time_s: float  # nan if never settled
    full: bool  # held past steady_after_s: the segments a report judges (`snncontrol.tracking.Segment.full`)


@dataclass(frozen=True)
class TrackingMetrics:
    rmse: float
    tracking_error: float  # mean |error| (m)
    itae: float  # mean |error| weighted by the samples since the set-point changed (m)
    steady_state_error: float  # mean |error| over every segment's steady-state window: the fitness objective (m)
    overshoot: float  # mean over the segments: the fitness objective (m)
    segments: tuple[SegmentMetrics, ...]

    @property
    def full_segments(self) -> tuple[SegmentMetrics, ...]:
        return tuple(s for s in self.segments if s.full)

    def overshoot_by_direction(self) -> tuple[float, float]:
        """(largest overshoot of upward steps, of downward steps) over the full segments; NaN where the flight
        had no step that way (a zero step counts as upward): a flight that never descends has no downward
        overshoot, not one of 0."""
        up = [s.overshoot for s in self.full_segments if s.step >= 0]
        down = [s.overshoot for s in self.full_segments if s.step < 0]
        return tuple(float(np.max(v)) if v else float("nan") for v in (up, down))  # type: ignore[return-value]


def tracking_metrics(
    times: np.ndarray,
    values: np.ndarray,
    setpoints: np.ndarray,
    steady_after_s: float = 50.0,
    settle_band: float = 0.05,
) -> TrackingMetrics:
    """Metrics of `values` following piecewise-constant `setpoints`, all [T] over `times` [T] (s)."""
    times, values, setpoints = (np.asarray(a, dtype=np.float64) for a in (times, values, setpoints))
    if not (times.shape == values.shape == setpoints.shape) or times.ndim != 1 or len(times) < 2:
        raise TrajectoryError("times, values and setpoints must be 1-D arrays of the same length >= 2")
    period = (times[-1] - times[0]) / (len(times) - 1)
    tracker = TrackingAccumulator(1, round(steady_after_s / period), settle_band, keep_segments=True)
    alive = np.ones(1, dtype=bool)
    for setpoint, value in zip(setpoints, values, strict=True):
        tracker.add(np.array([setpoint]), np.array([setpoint - value]), alive)

    def seconds(start: int, samples: float) -> float:
        return float(times[start + int(samples)] - times[start]) if np.isfinite(samples) else float("nan")

    segments = tuple(
        SegmentMetrics(
            setpoint=s.setpoint,
            start_s=float(times[s.start]),
            step=s.step,
            steady_state_error=s.steady_state_error,
            overshoot=s.overshoot,
            rise_time_s=seconds(s.start, s.rise_steps),
            settling_time_s=seconds(s.start, s.settle_steps),
            full=s.full,
        )
        for s in tracker.segments(0)
    )
    return TrackingMetrics(
        rmse=float(tracker.rmse()[0]),
        tracking_error=float(tracker.tracking_error()[0]),
        itae=float(tracker.itae()[0]),
        steady_state_error=float(tracker.steady_state()[0]),
        overshoot=float(tracker.overshoot()[0]),
        segments=segments,
    )
