"""The blimp altitude SNNs of Burgers et al. (2023) as core networks, with the paper's parameter bounds.

    altitude error (m) -> [sample hold] -> paired encoding (LIF) -> hidden layer -> leaky-integrator readout -> u

- Encoding: 2 * n_pairs plain LIF neurons (tau_syn = 0: the error is injected directly as current) in pairs
  that share a bias and read the error with opposite-sign weights, so positive and negative errors are encoded
  symmetrically and neurons fire near zero error.
- Hidden layer variants: "lif" (current-based LIF), "rlif" (recurrent weights), "iwta" (input-weighted
  threshold adaptation: every encoding spike moves a hidden neuron's threshold by its threshold weight, and
  the threshold decays back to its base), "riwta" (both).
- Decoding: one leaky integrator (an exponential moving average of the hidden spikes) gives the command u.
- A `SampleHoldEncoder` before the encoding layer holds the last error over missing samples (NaN: a
  rangefinder dropout marked by the observation adapter's valid range).

Bounds (the paper's table): weights [-2, 2] into the encoding and hidden layers, recurrent and threshold
weights [-1, 1], readout weights [-1, 1], biases [-1, 1], decays [0, 1] (per 0.1 s step), thresholds [0, 10];
the I-SNN's readout decay is bounded to [0, 0.3], so that the integration must happen in the hidden layer.

`pd_i_snn` puts an evolved PD-SNN and I-SNN side by side in one network (`snncontrol.compose.parallel`):
both read the same error, and the command is the sum of their readouts.
"""

from __future__ import annotations

from typing import Literal

from snncontrol.adapters import ActionAdapter, IOAdapters, ObservationAdapter
from snncontrol.connections import Connection
from snncontrol.encoders import SampleHoldEncoder
from snncontrol.errors import SpecError
from snncontrol.layers import Layer, paired_encoding
from snncontrol.neurons.models import LIF, LeakyIntegrator
from snncontrol.spec import NetworkSpec

Hidden = Literal["lif", "rlif", "iwta", "riwta"]
HIDDEN_VARIANTS: tuple[str, ...] = ("lif", "rlif", "iwta", "riwta")
#: How the blimp plant feeds these SNNs: the error set-point - measured altitude (m; a lost return, the
#: rangefinder's 12 m, is marked missing and held) in, the command saturated to the thrust unit's range out.
BLIMP_IO = IOAdapters(
    ObservationAdapter("setpoint_error", measurement=0, setpoint=1, valid=(0.0, 12.0)),
    ActionAdapter("affine_clip", low=-3.3, high=3.3),
)
#: The paper's size of each network, (encoder pairs, hidden neurons): 2 x 10 + 59 + 1 readout = 80 neurons.
PAPER_SIZE = (10, 59)
#: Readout decay bound of the I-SNN (Burgers et al. 2023): the integrator must live in the hidden layer.
I_READOUT_DECAY_MAX = 0.3


def blimp_snn(
    hidden: Hidden = "lif",
    n_pairs: int = 10,
    n_hidden: int = 59,
    readout_decay_max: float = 1.0,
    dt: float = 0.1,
    name: str = "",
) -> NetworkSpec:
    """One blimp SNN: 2 * n_pairs encoding + n_hidden hidden + 1 readout neurons (80 by default), dt in s."""
    if hidden not in HIDDEN_VARIANTS:
        raise ValueError(f"hidden must be one of {HIDDEN_VARIANTS}, got {hidden!r}")
    if not (isinstance(n_pairs, int) and n_pairs >= 1 and isinstance(n_hidden, int) and n_hidden >= 1):
        raise SpecError(f"n_pairs and n_hidden must be positive integers, got {n_pairs!r} and {n_hidden!r}")
    iwta = hidden in ("iwta", "riwta")
    hidden_layer = Layer(
        "hidden",
        n_hidden,
        LIF(adaptation="iwta" if iwta else "none"),
        input=Connection(),
        recurrent=Connection() if hidden in ("rlif", "riwta") else None,
        threshold_input=Connection() if iwta else None,
    )
    readout = Layer(
        "readout", 1, LeakyIntegrator(), bounds={"w_in": (-1.0, 1.0), "decay_mem": (0.0, readout_decay_max)}
    )
    return NetworkSpec(
        n_inputs=1,
        layers=(paired_encoding("encoder", n_pairs), hidden_layer, readout),
        dt=dt,
        encoder=SampleHoldEncoder(),
        name=name or f"blimp_{hidden}_snn",
    )


def pd_snn(hidden: Hidden = "lif", n_pairs: int = 10, n_hidden: int = 59, dt: float = 0.1) -> NetworkSpec:
    """The PD-SNN (fast response and damping), trained to mimic the reference PD."""
    return blimp_snn(hidden, n_pairs, n_hidden, 1.0, dt, f"blimp_pd_{hidden}_snn")


def i_snn(hidden: Hidden = "iwta", n_pairs: int = 10, n_hidden: int = 59, dt: float = 0.1) -> NetworkSpec:
    """The I-SNN (removes the steady-state error of non-neutral buoyancy), readout decay in [0, 0.3]."""
    return blimp_snn(hidden, n_pairs, n_hidden, I_READOUT_DECAY_MAX, dt, f"blimp_i_{hidden}_snn")
