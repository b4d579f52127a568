"""The blimp operating envelope: the range of plants a blimp altitude controller must hold, named, in both models.

Units: command units of the thrust unit ([-3.3, 3.3]), s, m. A plant is placed in the envelope by its hover
command u_h, the command whose thrust holds it still: its net weight (weight minus buoyancy) in command units,
negative for a blimp lighter than air (it rises without thrust), about 2 for the paper's training model
z'' = u - 2.02. Within the dead zone (|u_h| < 0.1) no command gives that thrust: such a blimp drifts at zero
command and is held by a limit cycle of small pulses (7 % of the envelope, in the lighter and light bands).

``BlimpEnvelope()`` (the documented default) spans what real micro-blimps and the paper show:

- hover command -0.5 .. 2.2 (lighter than air to the paper's heavy simulator), split into the bands of
  ``HOVER_BANDS`` (a report is per band, so a figure of one band never hides another);
- motor time constant 0.05 .. 0.2 s, rotor-flip delay 0.2 .. 0.4 s, drag x 0.6 .. 1.4 (+-40 %), the
  thrust unit's dead zone (0.1 units), sensor noise 5 .. 15 mm, start anywhere 0 .. 2 m;
- "disturbed" (``DISTURBANCES``): gusts, buoyancy drift and 10 % lost rangefinder returns, each model in its own
  units (see its plant). The drift is not the same in both: the ODE's is a steady helium leak (the hover command
  grows by 2e-3 units per s, the blimp only grows heavier), the MuJoCo plant's a leak of 2e-5 N/s plus a random
  walk of 2e-4 N/sqrt(s), which outweighs the leak for the first 100 s (over 60 s: 1.2 mN heavier against a walk
  of 1.5 mN std), so there a blimp may as well get lighter (about one in five over 60 s).

``band(name)`` narrows the hover command to a band of ``HOVER_BANDS`` (its part inside the envelope's range);
``kwargs(model, condition)`` gives the Gymnasium keywords of either model (``MODELS``): the MuJoCo plant
(``sim_envs/BlimpAltitude-v0``) takes its net buoyancy as a force, bias = -u_h * thrust_gain (N, default
0.03 N per unit), the ODE plant (``sim_envs/BlimpAltitudeODE-v0``) the hover command itself. The same band
therefore asks the same share of the thrust unit's range in both models, whose accelerations per unit differ
(MuJoCo about 0.38 m/s^2 at full command on the 140 g blimp, the ODE 0.8 m/s^2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sim_envs import validation

MODELS = {"mujoco": "sim_envs/BlimpAltitude-v0", "ode": "sim_envs/BlimpAltitudeODE-v0"}
#: Bands of hover command (command units), from lighter than air to the paper's heavy simulator.
HOVER_BANDS: dict[str, tuple[float, float]] = {
    "lighter": (-0.5, 0.0),
    "light": (0.0, 0.5),
    "medium": (0.5, 1.0),
    "heavy": (1.0, 1.5),
    "heaviest": (1.5, 2.2),
}
DISTURBANCES: dict[str, Any] = {"gusts": True, "buoyancy_drift": True, "dropout_prob": 0.1}
CONDITIONS: dict[str, dict[str, Any]] = {"calm": {}, "disturbed": DISTURBANCES}
MUJOCO_THRUST_GAIN = 0.03  # N per command unit: the MuJoCo plant's default thrust_gain


@dataclass(frozen=True)
class BlimpEnvelope:
    """Ranges (low, high) drawn uniformly per plant; see the module docstring for the default's sources."""

    hover_command: tuple[float, float] = (-0.5, 2.2)  # command units
    motor_tau: tuple[float, float] = (0.05, 0.2)  # s
    flip_delay: tuple[float, float] = (0.2, 0.4)  # s
    drag_scale: tuple[float, float] = (0.6, 1.4)
    initial_altitude: tuple[float, float] = (0.0, 2.0)  # m
    sensor_noise: tuple[float, float] = (0.005, 0.015)  # m

    def __post_init__(self) -> None:
        validation.interval("hover_command", self.hover_command, -3.3, 3.3)
        validation.interval("motor_tau", self.motor_tau, 1e-6)
        validation.interval("flip_delay", self.flip_delay, 0.0)
        validation.interval("drag_scale", self.drag_scale, 0.0)
        validation.interval("initial_altitude", self.initial_altitude, 0.0)
        validation.interval("sensor_noise", self.sensor_noise, 0.0)

    def band(self, name: str) -> BlimpEnvelope:
        """The same envelope with its hover command (command units) narrowed to the band `name` of HOVER_BANDS: the
        part of the band inside this envelope's range; ValueError where they do not overlap (or only touch)."""
        band_low, band_high = HOVER_BANDS[validation.one_of("band", name, tuple(HOVER_BANDS))]
        own_low, own_high = self.hover_command
        low, high = max(band_low, own_low), min(band_high, own_high)
        if low > high or (low == high and own_low < own_high):
            raise ValueError(f"band {name!r} ({band_low:g} .. {band_high:g}) lies outside hover_command "
                             f"({own_low:g} .. {own_high:g}); pick a band that overlaps it")
        return replace(self, hover_command=(low, high))

    def kwargs(self, model: str, condition: str = "calm") -> dict[str, Any]:
        """Gymnasium keywords of `model` ("mujoco" or "ode") drawing its plants from this envelope, calm or
        disturbed (schedule and episode length are the caller's)."""
        validation.one_of("model", model, tuple(MODELS))
        shared = {
            "motor_tau_range": self.motor_tau,
            "flip_delay_range": self.flip_delay,
            "drag_scale_range": self.drag_scale,
            "initial_altitude_range": self.initial_altitude,
            "sensor_noise_range": self.sensor_noise,
            **CONDITIONS[validation.one_of("condition", condition, tuple(CONDITIONS))],
        }
        if model == "ode":
            return {"hover_command_range": self.hover_command, **shared}
        low, high = self.hover_command
        return {"buoyancy_bias_range": (-high * MUJOCO_THRUST_GAIN, -low * MUJOCO_THRUST_GAIN), **shared}
