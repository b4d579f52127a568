"""Set-point tracking metrics from recorded trajectories (numpy only).

Units follow the signals: times in s, positions in m (altitude), so errors and overshoots are in m.
A trajectory is split into segments of constant set-point; for each segment:
- steady-state error: mean |set-point - value| over the last `ss_window_s` of the segment;
- overshoot: how far the value went past the set-point in the direction of the step (>= 0);
- rise time: from the segment start until the value first covers 90 % of the step;
- settling time: from the segment start until the value stays within `settle_band` of the set-point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SegmentMetrics:
    setpoint: float
    start_s: float
    step: float  # set-point minus the value at the segment start (m)
    steady_state_error: float
    overshoot: float
    rise_time_s: float  # nan if never reached
    settling_time_s: float  # nan if never settled


@dataclass(frozen=True)
class TrackingMetrics:
    rmse: float
    segments: tuple[SegmentMetrics, ...]

    def overshoot_by_direction(self) -> tuple[float, float]:
        """(largest overshoot of upward steps, of downward steps); 0 where there was none."""
        up = [s.overshoot for s in self.segments if s.step > 0]
        down = [s.overshoot for s in self.segments if s.step < 0]
        return max(up, default=0.0), max(down, default=0.0)


def tracking_metrics(
    times: np.ndarray,
    values: np.ndarray,
    setpoints: np.ndarray,
    ss_window_s: float = 20.0,
    settle_band: float = 0.05,
) -> TrackingMetrics:
    """Metrics of `values` following piecewise-constant `setpoints`, all [T] over `times` [T] (s)."""
    times, values, setpoints = (np.asarray(a, dtype=np.float64) for a in (times, values, setpoints))
    if not (times.shape == values.shape == setpoints.shape) or times.ndim != 1 or len(times) < 2:
        raise ValueError("times, values and setpoints must be 1-D arrays of the same length >= 2")
    error = setpoints - values
    bounds = np.flatnonzero(np.diff(setpoints) != 0) + 1
    starts, ends = np.r_[0, bounds], np.r_[bounds, len(times)]
    segments = []
    for a, b in zip(starts, ends, strict=True):
        t, y, r = times[a:b] - times[a], values[a:b], setpoints[a]
        step = r - y[0]
        direction = np.sign(step) if step != 0 else 1.0
        tail = t >= t[-1] - ss_window_s
        past = direction * (y - r)
        reached = np.flatnonzero(direction * (y - y[0]) >= 0.9 * abs(step))
        outside = np.flatnonzero(np.abs(y - r) > settle_band)
        settled = 0.0 if len(outside) == 0 else (t[outside[-1] + 1] if outside[-1] + 1 < len(t) else np.nan)
        segments.append(
            SegmentMetrics(
                setpoint=float(r),
                start_s=float(times[a]),
                step=float(step),
                steady_state_error=float(np.mean(np.abs(error[a:b][tail]))),
                overshoot=float(max(0.0, past.max())),
                rise_time_s=float(t[reached[0]]) if len(reached) else float("nan"),
                settling_time_s=float(settled),
            )
        )
    return TrackingMetrics(rmse=float(np.sqrt(np.mean(error**2))), segments=tuple(segments))
