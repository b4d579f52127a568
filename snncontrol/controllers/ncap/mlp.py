"""The MLP(64, 64) baseline of the NCAP comparison, as a network of the SNN core, on the NCAP's observations.

Inputs: the NCAP's fixed "sensory" layer (`ncap_io(n_links)` adapter, joint angles / joint limit head to tail,
split dorsal/ventral, plus the head oscillator ring), all of it: one joint more than the B-neurons read (no
B-neuron reads the last joint's pair, joint i's reads joint i - 1's): the
first hidden layer reads the 2 * n_joints proprioceptive units densely and the two oscillator halves as two
channels (the ring's dorsal half shares one weight per hidden unit, the ventral half another), i.e. the
MLP sees (dorsal/ventral angles of every joint, oscillator dorsal, oscillator ventral).

Hidden layers: 64 and 64 `Graded` units with an evolved bias, clamp(x, 0, 1) (a clamped ReLU: the core has no
tanh unit). Output: n_joints linear units (a leaky integrator with decay 0 = identity, with bias), clipped
to [-1, 1] by the action adapter. Initialization (`init`): uniform +-1/sqrt(fan_in) weights and biases
(PyTorch's default for Linear layers), drawn from `seed`.
"""

from __future__ import annotations

import numpy as np

from snncontrol.connections import Connection
from snncontrol.errors import SpecError
from snncontrol.layers import Layer
from snncontrol.neurons.models import Graded, LeakyIntegrator
from snncontrol.params import integer
from snncontrol.spec import NetworkSpec

from .circuit import DT, PERIOD, Layout, _check, _sensory

HIDDEN = (64, 64)


def mlp_spec(
    n_links: int = 6,
    hidden: tuple[int, ...] | list[int] = HIDDEN,
    period: int = PERIOD,
    seed: int = 0,
    dt: float = DT,
) -> NetworkSpec:
    """MLP baseline for an `n_links` swimmer; use with `ncap_io(n_links)` (see module doc). SpecError (one line)
    for links below 2, an oscillator period that is not an even integer >= 2, or hidden sizes that are not a
    non-empty list of positive integers."""
    _check(n_links, "graded", period, 1, "ring")
    if not (isinstance(hidden, tuple | list) and hidden):
        raise SpecError(f"the MLP's hidden sizes must be a non-empty list of positive integers, got {hidden!r}")
    for size in hidden:
        integer(size, "each of the MLP's hidden sizes", 1)
    rng = np.random.default_rng(seed)
    lay = Layout(n_links - 1, period, False, False)
    n_channels = 2 * lay.n_joints + 2
    width = hidden[0]
    channel = np.concatenate(
        [np.arange(2 * lay.n_joints), np.where(np.arange(period) < period // 2, n_channels - 2, n_channels - 1)]
    )
    tie = channel[:, None] * width + np.arange(width)[None, :]

    def uniform(fan_in: int, shape: tuple[int, ...]) -> np.ndarray:
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape)

    layers = [_sensory(lay, "graded")]
    layers.append(
        Layer(
            "hidden1",
            width,
            Graded(),
            input=Connection(tie=tie),
            bias=True,
            init={"w_in": uniform(n_channels, (n_channels * width,)), "bias": uniform(n_channels, (width,))},
        )
    )
    for k, size in enumerate(hidden[1:], start=2):
        fan_in = hidden[k - 2]
        layers.append(
            Layer(
                f"hidden{k}",
                size,
                Graded(),
                bias=True,
                init={"w_in": uniform(fan_in, (fan_in, size)), "bias": uniform(fan_in, (size,))},
            )
        )
    last = hidden[-1]
    layers.append(
        Layer(
            "output",
            lay.n_joints,
            LeakyIntegrator(),
            bias=True,
            fixed={"decay_mem": 0.0},
            init={"w_in": uniform(last, (last, lay.n_joints)), "bias": uniform(last, (lay.n_joints,))},
        )
    )
    name = f"mlp_{'x'.join(str(h) for h in hidden)}_{n_links}links_period{period}"
    return NetworkSpec(n_inputs=lay.n_inputs, layers=tuple(layers), dt=dt, name=name)
