"""Forward passes of a trained ensemble: every module sees every query image; responses in Hz.

Two passes, both over all modules at once ([B, M, N] tensors):
- `spiking_responses`: the simulated network. Input spikes for `present` ms, regular (deterministic) spike
  trains by default (`snncontrol.encoders.RegularEncoder`: each pixel within one spike of its expected count)
  or Poisson (the training encoder), or with encoding="current" the expected input current on every step; the
  WTA dynamics of `module.py` with frozen weights and the query-time thresholds; the response of a neuron is
  its spike count / presentation time.
- `rate_responses`: the network's response to the expected input in closed form, the fast path. Each
  excitatory neuron gets the expected input current (mean Poisson rate x weights, exact in expectation for
  current-based synapses); a LIF neuron under constant current u_inf = I / ((1 - d_syn)(1 - d_mem)) reaches
  its threshold theta after n = ln(1 - theta / u_inf) / ln(d_mem) steps, so it fires at
  1 / ((n + refractory) dt); the first neuron to fire in a module shunts the others before they can, so only
  each module's fastest neuron fires (winner-take-all), the others respond 0.
Under the expected input the simulation has the same winner in every module and its rate within one step of
interspike interval (tests/vpr); the rate pass keeps n continuous where the simulation counts whole steps
and whole spikes. Under Poisson input the module's race is decided in the ~10 ms before its first spike and
Poisson noise often picks another neuron: `benchmarks/vpr.py` measures both side by side.

Both passes take the network's inputs: `module.inputs` of preprocessed images (the pixels themselves, or
with ON/OFF channels, `ModuleConfig.channels` = 2, each pixel and its complement); `Matcher` and `train.train`
take preprocessed images and convert them.

Similarity of a query to place p: the largest response of the neurons assigned to p, divided by the mean
over modules of each module's winning response (dimensionless: how far p's neuron stands out from the
ensemble's answers). Per query this ranks places as the responses do; across queries it removes what the raw
rate mostly follows, the overall drive of the image, so one threshold serves every query (a higher PR-AUC than
the raw rates give, docs/place_recognition.md; Recall@N unchanged).
The query modes of the rate pass (`Matcher`) score every place by its neuron's rate without the module's
inhibition (`rate_all`, the neurons that lose the race keep the rate they would fire at) over the same mean
winning response: the top place and its similarity are those of the WTA pass (the overall largest rate is a
module's winner), so Recall@1 and the confidence do not change, but the other places keep a graded score
instead of 0, which Recall@5/10 and sequence matching read (1,000 generated places, dusk+autumn: Recall@1
after 5-frame sequence matching 0.914 instead of 0.688; SAD 0.972).
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from snncontrol.encoders import PoissonEncoder, RegularEncoder
from snncontrol.vpr import module
from snncontrol.vpr.config import ModuleConfig
from snncontrol.vpr.ensemble import Ensemble

Mode = Literal["rate", "spiking", "poisson"]
Encoding = Literal["regular", "poisson", "current"]
Readout = Literal["timing", "count"]
#: Presentation (ms) of a query to the spiking network in the spiking query mode: on 1,000 generated places its
#: Recall@1 rises from 0.88x the rate pass's at the training presentation (350 ms) to 0.92x at 1,000 ms and
#: stays there at 2,500 ms (benchmarks/vpr.py, docs/place_recognition.md; chosen on that same route).
SPIKING_PRESENT_MS = 1000.0
#: Scale of the input synapses in the spiking query mode (training unchanged). At the trained scale a module's
#: race to its first spike is over within ~10 ms, before most inputs have spiked once, so the order of the first
#: input spikes picks the winner; at 0.2 the neurons integrate ~5x longer, over several spikes of every input,
#: and the winner is the one the expected input picks (the rate pass's) in 96 % of the queries instead of 75 %.
#: Chosen on the calibration traversal (fog) of the 1,000-place generated route, 300 queries: Recall@1 0.76 /
#: 0.80 / 0.83 / 0.82 / 0.83 / 0.83 at 1, 0.5, 0.4, 0.3, 0.2, 0.15 (rate pass 0.84); for the default
#: `ModuleConfig`.
SPIKING_INPUT_GAIN = 0.2


def _flat_weights(ens: Ensemble) -> torch.Tensor:
    """Weights as [n_in, M * N] (input-major), so that one row holds everything an input drives."""
    return ens.weights.permute(1, 0, 2).reshape(ens.module.n_in, -1)


def spike_probability(cfg: ModuleConfig, pixels: torch.Tensor) -> torch.Tensor:
    """Per-step spike probability of the Poisson input of pixels in 0..255 (same shape)."""
    return (pixels * (cfg.rate_per_unit * cfg.dt / 1000.0)).clamp(0.0, 1.0)


def expected_drive(ens: Ensemble, pixels: torch.Tensor, flat: torch.Tensor | None = None) -> torch.Tensor:
    """Expected input per step of every excitatory neuron, sum of w times the spike probability of each input,
    [B, M, N] (unit weights per step); pixels [B, n_in] in 0..255, `flat` = `_flat_weights(ens)` when cached."""
    drive = spike_probability(ens.module, pixels) @ (_flat_weights(ens) if flat is None else flat)
    return drive.view(len(pixels), ens.modules, ens.module.n_exc)


def firing_rate(cfg: ModuleConfig, drive: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Rate (Hz) of excitatory neurons under a constant expected drive [..., M, N] (unit weights per step) at
    thresholds `theta` (mV above rest, broadcast against `drive`; +inf: silenced, rate 0), no competition."""
    c = module.constants(cfg)
    u_inf = drive * c.k_in / ((1 - c.decay_syn) * (1 - c.decay_mem_e))
    ratio = theta / u_inf.clamp_min(1e-12)
    steps = torch.log1p(-ratio.clamp(max=1.0)) / math.log(c.decay_mem_e)
    rate = 1000.0 / (cfg.dt * (steps + c.refractory_e))
    return torch.where(ratio < 1.0, rate, torch.zeros(()))


def rate_all(ens: Ensemble, pixels: torch.Tensor, flat: torch.Tensor | None = None) -> torch.Tensor:
    """Deterministic firing rate (Hz) of every excitatory neuron without competition, [B, M, N]; silenced 0."""
    return firing_rate(ens.module, expected_drive(ens, pixels, flat), ens.thresholds(module.constants(ens.module)))


def winner_take_all(rates: torch.Tensor) -> torch.Tensor:
    """Keep each module's largest response (ties: the lowest index), zero the rest. [B, M, N]."""
    best = rates.argmax(dim=-1, keepdim=True)
    return torch.zeros_like(rates).scatter_(-1, best, rates.gather(-1, best))


def rate_responses(ens: Ensemble, pixels: torch.Tensor, flat: torch.Tensor | None = None) -> torch.Tensor:
    """The deterministic WTA rate pass: [B, M, N] Hz."""
    return winner_take_all(rate_all(ens, pixels, flat))


def sub_seed(seed: int, stride: int, k: int) -> int:
    """The Poisson encoder's seed for draw `k` of run `seed`: seed * stride + k modulo `PoissonEncoder.MAX_SEED`
    (2**32 - 1), so in 0 .. 2**32 - 2, inside the encoder's seed range: the same as unwrapped, so as the published
    figures were measured (small seeds), while seed * stride + k < 2**32 - 1 (every seed below ~4.3e6 for
    training's stride 1009, ~5.4e5 for the queries' 7919)."""
    return (seed * stride + k) % PoissonEncoder.MAX_SEED


def spiking_responses(
    ens: Ensemble,
    pixels: torch.Tensor,
    seed: int = 0,
    chunk: int = 32,
    encoding: Encoding = "regular",
    readout: Readout = "timing",
    present_ms: float | None = None,
    input_gain: float = 1.0,
    offset: int = 0,
) -> torch.Tensor:
    """The spiking pass: the firing rate (Hz) of every excitatory neuron, [B, M, N], read from its spikes over
    `present_ms` (default: the module's `present`, the training presentation; longer gives a steadier answer,
    SPIKING_PRESENT_MS for queries). With readout="timing" (default) from their times: the mean interspike
    interval between its first and last spike (one spike: the first spike's latency plus the refractory time,
    as the rate pass's time to threshold), which resolves rates a spike count ties (a winner at 40 Hz fires 14
    times in 350 ms, and so does one at 42 Hz); with readout="count", spike count / presentation time.

    Queries run `chunk` at a time. Input spikes are regular trains ("regular", deterministic) or Poisson draws
    seeded from `sub_seed(seed, 7919, offset + start)` (seed >= 0; start: the chunk's first query in `pixels`;
    `offset`: the number of queries answered before these in the same run, so that later calls draw new noise, as
    `query.Matcher` counts them), so a run replays; their
    current is gathered from the rows of the inputs that spiked (sparse) over all modules at once. With
    encoding="current" every input delivers its expected current on every step instead (the same network under
    noise-free input: what the rate pass computes in closed form). `input_gain` scales every input synapse (1: as
    trained; the spiking query mode uses SPIKING_INPUT_GAIN).
    """
    cfg, c = ens.module, module.constants(ens.module)
    k_in = c.k_in * input_gain
    flat = _flat_weights(ens)
    theta = ens.thresholds(c)
    steps = cfg.steps(cfg.present if present_ms is None else present_ms)
    out = []
    for start in range(0, len(pixels), chunk):
        x = pixels[start : start + chunk]
        encoder = (
            RegularEncoder(rate_per_unit=cfg.rate_per_unit)
            if encoding == "regular"
            else PoissonEncoder(cfg.rate_per_unit, sub_seed(seed, 7919, offset + start), shared_noise=False)
        )
        enc = encoder.init_state(len(x), cfg.n_in, cfg.dt / 1000.0, torch.float32)
        state = module.rest_state((len(x), ens.modules, cfg.n_exc))
        counts = torch.zeros(len(x), ens.modules, cfg.n_exc)
        first = torch.full_like(counts, -1.0)  # step of the first spike, -1 before it
        last = torch.zeros_like(counts)
        drive = expected_drive(ens, x, flat) * k_in if encoding == "current" else None
        for k in range(steps):
            if encoding != "current":
                spikes, enc = encoder.step(x, enc)
                b, i = spikes.nonzero(as_tuple=True)
                drive = torch.zeros(len(x), flat.shape[1]).index_add_(0, b, flat[i]).mul_(k_in).view_as(counts)
            state = module.step(c, state, drive, theta, learn=False)
            fired = state.exc.s > 0
            counts += state.exc.s
            first = torch.where(fired & (first < 0), float(k), first)
            last = torch.where(fired, float(k), last)
        if readout == "count":
            out.append(counts * (1000.0 / (steps * cfg.dt)))
            continue
        interval = (last - first) / (counts - 1).clamp_min(1.0)  # steps between spikes
        latency = first + 1.0 + c.refractory_e  # steps from rest to the first spike, plus the refractory time
        period = torch.where(counts >= 2, interval, latency)
        out.append(torch.where(counts > 0, 1000.0 / (period.clamp_min(1.0) * cfg.dt), torch.zeros(())))
    return torch.cat(out)


def similarity(ens: Ensemble, responses: torch.Tensor) -> torch.Tensor:
    """[B, P]: per place, the largest response [B, M, N] among the neurons assigned to it over the mean winning
    response of the modules (dimensionless; 0 if none responds)."""
    index = ens.assignments.reshape(-1).clamp(min=-1) % (ens.places + 1)  # -1 -> the discarded column P
    sim = torch.zeros(len(responses), ens.places + 1)
    sim.scatter_reduce_(1, index.expand(len(responses), -1), responses.reshape(len(responses), -1), "amax")
    mean_winner = responses.amax(dim=-1).mean(dim=-1, keepdim=True)
    return sim[:, : ens.places] / mean_winner.masked_fill(mean_winner == 0, 1.0)
