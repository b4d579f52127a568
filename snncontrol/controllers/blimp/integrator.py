"""A spiking integrator built on the paper's I-SNN architecture, parameters set by construction, not evolved.

No I-SNN evolved by mimicry integrates small errors: on a constant error of a few cm its command stays flat
(it learns a staircase of held levels that only large errors move), so a PD+I SNN built from the mimics is a
static map with a dead band and holds the blimp off its set-point in proportion to the buoyancy. The same
network (`i_snn`: paired encoders -> current-based LIF hidden layer -> leaky readout with decay <= 0.3) can
integrate when its parameters are chosen, within the paper's bounds:

- encoding pairs (weight `ENCODER_WEIGHT`, shared bias `ENCODER_BIAS`, decay `ENCODER_DECAY`, threshold 1):
  neuron A of a pair fires at a rate r(e), neuron B at r(-e) per step, r increasing in the error e (m) and
  saturating beyond about +-5 cm, so r(e) - r(-e) is an odd, monotone, bounded function of the error;
- integrating hidden neurons: synaptic decay `leak` (0.998 per 0.1 s step: a time constant of 50 s; 1 for
  the whole envelope, as a leak holds the blimp off its set-point by an error that grows with how far its hover
  command lies from `offset`: 1.5 cm at 1.2 units away) and input
  weights +`gain` from every integrating pair's A and -`gain` from its B, so their synaptic current is `gain`
  times the running count of A spikes minus B spikes: the integral of that odd function of the error, zero
  on average only where the error averages zero. Half the neurons read it with one sign, half with the
  other; their thresholds are spread over (0, `INTEGRAL_RANGE`] and their membrane has no memory (decay 0),
  so the number of neurons that fire grows with the integral (a population code);
- conditional integration (the spiking form of anti-windup): the last `detector_pairs` encoder pairs have a
  negative bias (`detector_bias`), so they are silent near zero error and fire beyond about 10 cm; they enter
  the integrating neurons with the opposite sign, scaled so that where both kinds fire at full rate (large
  errors, e.g. during a 0.5 m step) their drives cancel and the integral stops growing far from the set-point;
- one tonic hidden neuron, driven by the integrating pairs' encoders, fires every step and adds `offset`
  command units, part of the hover command a heavier-than-air blimp needs, so the integral only has to supply
  each plant's difference;
- the readout (decay `I_READOUT_DECAY_MAX`) sums +-`readout_weight` per integrating spike: up to about
  +-`readout_weight` * n / 2 / (1 - 0.3) command units around the offset.

Threshold adaptation and recurrent weights, where the variant has them, are 0. Beside a PD-SNN
(`pd_with_integrator`, `snncontrol blimp-integrator`): an evolved one, or the constructed spiking PD of
`snncontrol.controllers.blimp.spiking_pd`, which makes the shipped PD+I controller.
"""

from __future__ import annotations

import numpy as np
import torch

from snncontrol.compose import parallel, parallel_genome, split_genome
from snncontrol.controllers.blimp.networks import HIDDEN_VARIANTS, I_READOUT_DECAY_MAX, PAPER_SIZE, i_snn, pd_snn
from snncontrol.errors import SpecError
from snncontrol.network import Network
from snncontrol.params import ParameterSpec
from snncontrol.spec import NetworkSpec

ENCODER_WEIGHT = 2.0  # per m of error
ENCODER_BIAS = 0.2
ENCODER_DECAY = 0.9  # per step
INTEGRAL_RANGE = 10.0  # synaptic current at which every integrating neuron fires
TONIC_DECAY = 0.9  # synaptic decay of the tonic neuron: its current stays above threshold between encoder spikes


def integrator_genome(
    spec: NetworkSpec,
    gain: float = 0.0125,
    readout_weight: float = 0.04,
    offset: float = 0.4,
    leak: float = 0.998,
    detector_pairs: int = 4,
    detector_bias: float = -0.1,
    detector_gain: float = 1.0,
) -> np.ndarray:
    """The genome [D] that makes an `i_snn` (any hidden variant, n_hidden >= 3) a spiking integrator (see the
    module docstring); `offset` in command units; `detector_pairs` of its encoder pairs (0: none) detect large
    errors and stop the integration there, `detector_gain` times the drive that cancels it."""
    params = spec.parameters
    require_parameters(spec, {"encoder.w_in", "encoder.bias", "hidden.w_in", "hidden.decay_syn", "readout.w_in"},
                       "integrator_genome", "a blimp I-SNN (i_snn)")
    n_enc, n = params.by_name["encoder.decay_mem"].shape[0], params.by_name["hidden.decay_mem"].shape[0]
    if n < 3:
        raise SpecError(f"integrator_genome needs at least 3 hidden neurons, got {n}")
    n_pairs = n_enc // 2
    if not 0 <= detector_pairs < n_pairs:
        raise SpecError(f"detector_pairs must be in [0, {n_pairs - 1}] (the I-SNN has {n_pairs} pairs), "
                        f"got {detector_pairs}")
    half = (n - 1) // 2
    integrating = np.r_[np.ones(half), -np.ones(half), np.zeros(n - 2 * half)]  # sign per hidden neuron
    tonic = n - 1
    pair_sign = np.tile([1.0, -1.0], n_pairs)[:, None]  # A rows +, B rows -
    w_in = gain * pair_sign * integrating[None, :]
    w_in[:, tonic] = 1.0
    detectors = slice(2 * (n_pairs - detector_pairs), n_enc)  # the last pairs' A and B rows
    w_in[detectors] *= -detector_gain * detector_scale(n_pairs, detector_pairs)
    w_in[detectors, tonic] = 0.0
    bias = np.full(n_pairs, ENCODER_BIAS)
    bias[n_pairs - detector_pairs :] = detector_bias
    theta = np.full(n, INTEGRAL_RANGE)
    theta[:half] = theta[half : 2 * half] = INTEGRAL_RANGE * (np.arange(half) + 0.5) / half
    theta[tonic] = 1.0
    decay_syn = np.full(n, leak)
    decay_syn[tonic] = TONIC_DECAY
    readout = readout_weight * integrating
    readout[tonic] = (1.0 - I_READOUT_DECAY_MAX) * offset
    values = {
        "encoder.w_in": np.full(n_pairs, ENCODER_WEIGHT),
        "encoder.bias": bias,
        "encoder.decay_mem": np.full(n_enc, ENCODER_DECAY),
        "encoder.theta": np.ones(n_enc),
        "hidden.w_in": w_in,
        "hidden.decay_mem": np.zeros(n),
        "hidden.theta": theta,
        "hidden.decay_syn": decay_syn,
        "readout.w_in": readout[:, None],
        "readout.decay_mem": np.array([I_READOUT_DECAY_MAX]),
    }
    return genome_of(params, values, "integrator_genome", zeros=("hidden.w_th", "hidden.w_rec", "hidden.decay_th"))


def detector_scale(n_pairs: int, detector_pairs: int) -> float:
    """The factor by which the large-error detectors' input weights exceed the integrating pairs' (per unit of
    `detector_gain`): where every pair fires at full rate, `detector_pairs` of them cancel the other pairs' drive."""
    return (n_pairs - detector_pairs) / max(detector_pairs, 1)


def require_parameters(spec: NetworkSpec, needed: set[str], builder: str, network: str) -> None:
    """One SpecError line naming `builder` and the `network` it builds unless `spec` has every parameter needed."""
    missing = needed - set(spec.parameters.by_name)
    if missing:
        raise SpecError(f"{builder} needs {network}, got {spec.name or 'a network'} without {sorted(missing)}")


def genome_of(
    params: ParameterSpec, values: dict[str, np.ndarray], builder: str, zeros: tuple[str, ...] = ()
) -> np.ndarray:
    """The genome [D] of every parameter's values by name (any shape that reshapes to the entry's); the entries
    named in `zeros` that the network has are 0; one SpecError line naming `builder` if any entry is missing."""
    values = {**{name: np.zeros(params.by_name[name].shape) for name in zeros if name in params.by_name}, **values}
    unknown = set(params.by_name) - set(values)
    if unknown:
        raise SpecError(f"{builder} does not know the parameters {sorted(unknown)} of this network")
    return params.flatten({k: np.asarray(v).reshape(params.by_name[k].shape) for k, v in values.items()})[0]


def blimp_parts(spec: NetworkSpec) -> tuple[NetworkSpec, NetworkSpec] | None:
    """The (PD-SNN, I-SNN) specs of a PD+I composite of two blimp SNNs (`snncontrol compose` of a `pd_snn` and an
    `i_snn`) of equal size, or whose I-SNN has the paper's size (`PAPER_SIZE`, beside a constructed PD of another
    size), or None if `spec` is not one."""
    layers = {layer.name: layer.size for layer in spec.layers}
    if set(layers) != {"encoder", "hidden", "readout", "output"}:
        return None
    pairs, hidden = layers["encoder"] // 2, layers["hidden"]
    sizes = {((pairs // 2, hidden // 2), (pairs // 2, hidden // 2)),
             ((pairs - PAPER_SIZE[0], hidden - PAPER_SIZE[1]), PAPER_SIZE)}
    for pd_size, i_size in sorted(sizes):
        if min(*pd_size, *i_size) < 1:
            continue
        for pd_hidden in HIDDEN_VARIANTS:
            for i_hidden in HIDDEN_VARIANTS:
                parts = (pd_snn(pd_hidden, *pd_size, spec.dt), i_snn(i_hidden, *i_size, spec.dt))  # type: ignore[arg-type]
                if parallel(parts, name=spec.name).to_dict() == spec.to_dict():
                    return parts
    return None


def pd_with_integrator(
    spec: NetworkSpec, genome: np.ndarray, size: tuple[int, int] | None = None, **integrator: float
) -> tuple[NetworkSpec, np.ndarray]:
    """A PD-SNN (or the PD-SNN of a PD+I composite) beside an integrator I-SNN (`integrator_genome` keywords) of
    `size` (encoder pairs, hidden neurons; None: the composite's I-SNN's, or beside a bare PD-SNN its own): the PD+I
    composite's spec and genome."""
    parts = blimp_parts(spec)
    if parts is not None:
        pd, pd_genome = parts[0], split_genome(parts, genome)[0]
        size = size or (parts[1].layers[0].size // 2, parts[1].layers[1].size)
    elif {layer.name for layer in spec.layers} == {"encoder", "hidden", "readout"}:
        pd, pd_genome = spec, genome
    else:
        raise SpecError(f"{spec.name or 'the network'} is neither a blimp PD-SNN nor a PD+I composite of two")
    n_pairs, n_hidden = size or (pd.layers[0].size // 2, pd.layers[1].size)
    i = i_snn("iwta", n_pairs, n_hidden, pd.dt)
    specs = [pd, i]
    name = spec.name if parts is not None else f"{pd.name}+integrator"
    return parallel(specs, name=name), parallel_genome(specs, [pd_genome, integrator_genome(i, **integrator)])


def error_response(spec: NetworkSpec, genome: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """Commands [T, K] of a network fed K error series `errors` [T, K] (m, one per step) from rest."""
    net = Network(spec, torch.float64)
    xs = torch.as_tensor(np.asarray(errors, np.float64)[:, :, None].copy())
    params = net.params(np.repeat(genome[None], xs.shape[1], axis=0))
    out, _ = net.rollout(params, xs, net.init_state(xs.shape[1]))
    return out[:, :, 0].numpy()


def constant_error_response(spec: NetworkSpec, genome: np.ndarray, errors: np.ndarray, steps: int) -> np.ndarray:
    """Commands [steps, len(errors)] of a network fed each constant error (m) for `steps` steps from rest: flat
    for a proportional map, ramping for an integrator."""
    return error_response(spec, genome, np.broadcast_to(np.asarray(errors, np.float64)[None, :], (steps, len(errors))))
