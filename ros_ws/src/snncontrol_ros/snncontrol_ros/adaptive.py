"""Action-to-sensing: an adaptive control rate on top of a base tick (timer or sensor events).

The SNN steps on a base tick only when it has to: at once when the network input moved by a send-on-delta
event (`snncontrol.encoders.SendOnDeltaEncoder`, threshold `delta` in the input's unit), and otherwise every
`interval` base ticks. After each SNN step the interval doubles (up to `max_interval`) while the error is
small (|network input| <= `error_band`) and the SNN is quiet (command change <= `quiet_command_delta` and at
most `quiet_spikes` spikes in the step), and falls back to 1 as soon as either fails. Skipped ticks re-send
the held command (a motor driver with a command timeout stays fed) but cost no SNN work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from snncontrol.encoders import SendOnDeltaEncoder


@dataclass(frozen=True)
class AdaptiveConfig:
    delta: float = 0.05  # above the blimp rangefinder's noise (5 to 15 mm std)
    error_band: float = 0.05
    quiet_command_delta: float = 0.1
    quiet_spikes: float = math.inf
    max_interval: int = 8

    def __post_init__(self) -> None:
        if not self.delta > 0:
            raise ValueError(f"adaptive_delta must be positive, got {self.delta}")
        if not (isinstance(self.max_interval, int) and self.max_interval >= 1):
            raise ValueError(f"adaptive_max_interval must be an integer >= 1, got {self.max_interval}")
        if not (self.error_band >= 0 and self.quiet_command_delta >= 0 and self.quiet_spikes >= 0):  # (NaN too)
            raise ValueError("adaptive_error_band, adaptive_quiet_command_delta and adaptive_quiet_spikes must be >= 0 "
                             f"(inf: no limit), got {self.error_band}, {self.quiet_command_delta} and "
                             f"{self.quiet_spikes}")


class AdaptiveScheduler:
    """Decides, base tick by base tick, whether the SNN steps (see the module docstring)."""

    def __init__(self, config: AdaptiveConfig, n_inputs: int) -> None:
        self.config = config
        self.encoder = SendOnDeltaEncoder(delta=config.delta)
        self.n_inputs = n_inputs
        self.reset()

    def reset(self) -> None:
        self.state = self.encoder.init_state(1, self.n_inputs, 1.0, torch.float64)
        self.interval = 1
        self.since = 0

    def should_step(self, x: np.ndarray) -> bool:
        """Feed the network input of this base tick; True if the SNN should step now."""
        spikes, self.state = self.encoder.step(torch.as_tensor(np.asarray(x, np.float64).reshape(1, -1)), self.state)
        self.since += 1
        if float(spikes.sum()) > 0:
            self.interval = 1
            return True
        return self.since >= self.interval

    def interrupted(self) -> None:
        """The held command was replaced by the safe one: the SNN steps on the next base tick that reaches it."""
        self.interval = 1

    def stepped(self, x: np.ndarray, command_change: float, spikes: float) -> None:
        """Report an SNN step: adapt the interval."""
        c = self.config
        calm = (
            float(np.max(np.abs(x), initial=0.0)) <= c.error_band
            and command_change <= c.quiet_command_delta
            and spikes <= c.quiet_spikes
        )
        self.interval = min(self.interval * 2, c.max_interval) if calm else 1
        self.since = 0
