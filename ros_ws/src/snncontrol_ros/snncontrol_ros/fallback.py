"""A small hand-built blimp PD+I SNN artifact, for tests and benchmarks when the shipped one is absent.

sense -> set-point error e (m) -> 3 leaky integrators (e itself, a one-step EMA of e, and a perfect integrator
~ integral of e) -> 1 leaky-integrator readout u = kp e + kd (e - EMA(e)) / lag + ki integral, clipped to the
thrust range by the action adapter. It has no spiking neuron (0 SOPs): a spike-coded error adds quantization
noise that the derivative term amplifies, and this stand-in only has to hold the plant.

Every weight is `fixed` (the genome is empty): it is a readable reference law, not an evolved controller.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from snncontrol.adapters import ActionAdapter, IOAdapters, ObservationAdapter
from snncontrol.artifacts import Metadata, save_controller
from snncontrol.connections import Connection
from snncontrol.layers import Layer
from snncontrol.neurons.models import LeakyIntegrator
from snncontrol.spec import NetworkSpec


def fallback_blimp_spec(kp: float = 8.0, kd: float = 8.0, ki: float = 0.5, dt: float = 0.1) -> NetworkSpec:
    """The network; gains in command units per m, per m/s and per m s."""
    slow = 0.5  # EMA decay per step: lag of one step
    lag_s = slow / (1 - slow) * dt  # e - EMA(e) ~ lag_s * de/dt
    filters = Layer(
        "filters",
        3,
        LeakyIntegrator(),
        input=Connection(),
        fixed={"w_in": [[1.0, 1 - slow, dt]], "decay_mem": [0.0, slow, 1.0]},
    )
    readout = Layer(
        "readout",
        1,
        LeakyIntegrator(),
        input=Connection(),
        fixed={"w_in": [[kp + kd / lag_s], [-kd / lag_s], [ki]], "decay_mem": 0.0},
    )
    return NetworkSpec(n_inputs=1, layers=(filters, readout), dt=dt, name="fallback_blimp_pdi")


def fallback_blimp_io() -> IOAdapters:
    return IOAdapters(
        ObservationAdapter(kind="setpoint_error", measurement=0, setpoint=1),
        ActionAdapter(kind="affine_clip", low=-3.3, high=3.3),
    )


def save_fallback_blimp(path: str | Path, **gains: float) -> Path:
    """Write the fallback artifact at `path` (a directory) and return it."""
    spec = fallback_blimp_spec(**gains)
    meta = Metadata(description="hand-built PD+I SNN for the blimp (snncontrol_ros fallback)", seed=0)
    return save_controller(path, spec, np.zeros(0), meta, fallback_blimp_io())
