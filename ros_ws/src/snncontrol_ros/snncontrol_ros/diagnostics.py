"""Diagnostics of the controller node as plain data: latency percentiles, tick counters, SNN activity and
energy per second, safety counters, and the OK/WARN/ERROR level. The node turns `ControllerDiagnostics` into a
`diagnostic_msgs/DiagnosticStatus` on /diagnostics once per `diagnostics_period_s`.

The status carries every key of `DIAGNOSTIC_KEYS` (values are strings; per-window figures cover the time since
the previous status); its level follows `level_of`.
"""

from __future__ import annotations

import numpy as np

OK, WARN, ERROR = 0, 1, 2  # diagnostic_msgs/DiagnosticStatus levels
#: a tick rate more than this factor off the network's 1/dt is a warning (its time constants are counted in steps)
RATE_TOLERANCE = 1.25

#: Every key the controller's DiagnosticStatus carries, with its meaning (documented contract, tested).
DIAGNOSTIC_KEYS: dict[str, str] = {
    "lifecycle_state": "unconfigured | inactive | active | finalized",
    "artifact": "the controller artifact (a directory or shipped:NAME)",
    "control_mode": "timer | event | adaptive",
    "control_rate_hz": "nominal tick rate (timer, adaptive on a timer base) or measured ticks per second of wall time "
                       "(event, adaptive on events)",
    "ticks": "control ticks since activation (each publishes a command)",
    "snn_steps": "ticks that stepped the SNN (adaptive mode skips some)",
    "skipped_ticks": "ticks that held the previous command without an SNN step (adaptive mode)",
    "missed_ticks": "timer ticks that came later than 1.5 periods after the previous one, counted in periods",
    "latency_p50_ms": "median input-to-command latency over the window (ms)",
    "latency_p99_ms": "99th percentile of that latency (ms)",
    "latency_max_ms": "maximum of that latency (ms)",
    "spike_rate_hz": "mean firing rate of the spiking neurons over the window (Hz, SNN time)",
    "sops_per_s": "synaptic operations per second of wall time (steady clock) over the window",
    "snn_energy_per_s_j": "estimated SNN energy per second of wall time (W; 45 nm figures of snncontrol.energy)",
    "stale_inputs": "ticks with an input without a valid sample for input_timeout_s (total)",
    "missing_inputs": "ticks with an input that never arrived (total)",
    "invalid_inputs": "ticks with bad input: a value out of range, a message of the wrong size (total)",
    "missing_samples": "input messages with a lost sample: NaN, +-inf, a Range at/over max_range (total)",
    "held_samples": "ticks that ran on the network's sample hold over a lost sample (total)",
    "network_faults": "ticks whose network output was not finite: safe command sent, network reset (total)",
    "saturated_commands": "commands clipped to [output_min, output_max] (total)",
    "safe_commands": "ticks that sent the safe command (total)",
    "holding_safe_command": "true while the latest tick sent the safe command",
    "last_command": "the latest command sent",
}


class LatencyWindow:
    """The latest `size` latencies (s) in a preallocated ring buffer, with percentiles in ms.

    Adding costs a store (no allocation per tick); the percentiles (linear interpolation, as numpy's default)
    come from one partial sort of the window, so the 1 Hz diagnostics stay short next to a 1 kHz control loop.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.buffer = np.zeros(size)
        self.count = 0  # latencies added since the last clear (the window holds the latest `size`)

    def add(self, seconds: float) -> None:
        self.buffer[self.count % self.buffer.size] = seconds
        self.count += 1

    def clear(self) -> None:
        self.count = 0

    def percentiles_ms(self) -> tuple[float, float, float]:
        """(p50, p99, max) in ms; NaN when empty."""
        n = min(self.count, self.buffer.size)
        if n == 0:
            return (float("nan"),) * 3
        ranks = [q * (n - 1) for q in (0.5, 0.99)]
        below = [int(r) for r in ranks]
        above = [min(b + 1, n - 1) for b in below]
        values = np.partition(self.buffer[:n], sorted({*below, *above, n - 1}))
        p50, p99 = (values[b] + (values[a] - values[b]) * (r - b) for r, b, a in zip(ranks, below, above, strict=True))
        return float(p50) * 1e3, float(p99) * 1e3, float(values[n - 1]) * 1e3


def level_of(
    active: bool,
    configured: bool,
    holding_safe: bool,
    problems_in_window: int,
    missed_in_window: int,
    p99_ms: float,
    period_ms: float,
    stalled_s: float = 0.0,
    reason: str = "",
    tick_rate_hz: float = float("nan"),
    network_rate_hz: float = float("nan"),
) -> tuple[int, str]:
    """OK / WARN / ERROR with a short message.

    ERROR: not configured, or the safe command is held now (bad or stale input, or a network fault: `reason`
    says which), or active without a tick for `stalled_s` > 0 s (the node clock stopped: use_sim_time without
    /clock);
    WARN: inactive, or in the window bad inputs, missed ticks, p99 latency above half a period, or ticks (each an
    SNN step of the artifact's dt) at a rate `tick_rate_hz` off the network's own 1/dt (`network_rate_hz`) by more
    than RATE_TOLERANCE (its time constants, in steps, then run that much faster or slower than it was made for);
    OK otherwise.
    """
    if not configured:
        return ERROR, "not configured (no controller loaded)"
    if active and stalled_s > 0:
        return ERROR, (f"no control tick for {stalled_s:.1f} s: the node clock stopped (use_sim_time without "
                       "/clock?); the actuator holds the last command")
    if active and holding_safe:
        return ERROR, f"holding the safe command: {reason or 'input stale, missing or invalid'}"
    if not active:
        return WARN, "inactive (not controlling)"
    if problems_in_window:
        return WARN, f"{problems_in_window} tick(s) with bad input in the last window"
    if missed_in_window:
        return WARN, f"{missed_in_window} missed tick(s) in the last window"
    if np.isfinite(p99_ms) and period_ms > 0 and p99_ms > 0.5 * period_ms:
        return WARN, f"p99 latency {p99_ms:.2f} ms is above half the control period"
    ratio = tick_rate_hz / network_rate_hz
    if np.isfinite(ratio) and not 1 / RATE_TOLERANCE <= ratio <= RATE_TOLERANCE:
        return WARN, (f"ticking at {tick_rate_hz:.3g} Hz where the network's dt gives {network_rate_hz:.3g} Hz: its "
                      f"dynamics run {ratio:.2g}x as fast as made for")
    return OK, "controlling"


def fmt(value: object) -> str:
    """A diagnostic value as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, np.ndarray | list | tuple):
        return "[" + ", ".join(f"{float(v):.6g}" for v in value) + "]"
    return str(value)
