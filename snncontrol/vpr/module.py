"""Dynamics of the excitatory/inhibitory winner-take-all modules and their STDP rule, batched over modules.

Neurons: the core's LIF equation (`snncontrol.neurons.equations.lif`: hard reset, spike-triggered adaptive
threshold, refractory steps) on torch tensors [..., M, N]: M modules (and any leading query batch) are batch
dimensions, each module has N excitatory neurons and N inhibitory partners. Membranes are in mV relative to
rest; thresholds are `v_thresh - v_rest` (13 mV exc, 20 mV inh) plus the adaptive part (`a`, Diehl & Cook's
theta, +`theta_plus` mV per spike while learning).

One time step (`step`), in order:
1. every excitatory neuron integrates its input current (current-based synapse, tau_ge);
2. of the excitatory neurons that crossed their threshold, only the one furthest above it fires (per
   module); the others are sent back below threshold by step 4 of the same step;
3. its inhibitory partner receives the spike (one to one, 10.4 -> 52 mV) and fires in the same step;
4. each inhibitory spike shunts every other excitatory membrane towards the inhibitory reversal potential:
   v <- E_inh + (v - E_inh) * exp(-w_ie * tau_gi / tau_e), the exact effect of a conductance w_ie that
   decays with tau_gi on dv/dt = g (E_inh - v) / tau_e, delivered at once.
Diehl & Cook's inhibition arrives after synaptic delays; here it acts within the step (zero delay), which
is the limit their strong inhibition approaches. With it arriving two steps late (this module's first
version), every neuron fired on every image and all of them learned the mean image.

Why current-based input synapses: the excitatory drive is then linear in the weights, so the rate pass in
`inference.py` is exact in expectation, and the membrane of these neurons stays between rest and
threshold, where the conductance model's driving force (E_exc - v) changes by only ~20 %. Each input
conductance weight w (ge += w, decaying with tau_ge; dv/dt = ge (E_exc - v) / tau_m) becomes a current kick
that deposits the same charge, evaluated at the midpoint v_mid of rest and threshold: total dv = w tau_ge
(E_exc - v_mid) / tau_m mV, 0.585 mV per unit weight. Inhibition is conductance-based (step 4), since there
the driving force is what bounds the membrane. Deviation: inhibitory neurons reset to rest (Diehl & Cook:
-45 mV); they fire once per excitatory spike either way.

STDP (Diehl & Cook's pre-and-post rule) on input -> exc weights w [M, n_in, N], traces set to 1 at a spike:
    pre spike of input i:  w[i, :] -= nu_pre * post1            (clipped at 0)
    post spike of neuron j: w[:, j] += nu_post * pre * post2     (post2 before this spike, clipped at w_max)
Only the rows of inputs that spiked and the columns of neurons that spiked are touched (event-driven).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from snncontrol.neurons import equations
from snncontrol.vpr.config import ModuleConfig


class Constants(NamedTuple):
    """Per-step constants of a module: dimensionless decays, mV, steps."""

    decay_syn: float
    decay_mem_e: float
    decay_mem_i: float
    theta_e: float  # mV above rest, before adaptation
    theta_i: float
    refractory_e: int  # steps
    refractory_i: int
    beta: float  # mV added to an exc threshold per spike while learning
    decay_th: float
    k_in: float  # mV of current per input spike and unit weight
    k_ei: float  # mV of current an exc spike gives its inhibitory partner
    e_inh: float  # mV above the exc rest: inhibitory reversal potential
    shunt: float  # factor on (v - e_inh) per inhibitory spike received
    decay_pre: float
    decay_post1: float
    decay_post2: float


class Population(NamedTuple):
    """LIF state [..., M, N]: synaptic current (mV), membrane (mV above rest), adaptation (mV), refractory
    steps left, last spike (0/1)."""

    i: torch.Tensor
    v: torch.Tensor
    a: torch.Tensor
    r: torch.Tensor
    s: torch.Tensor


class State(NamedTuple):
    exc: Population
    inh: Population


class Traces(NamedTuple):
    """STDP traces (dimensionless, 1 at a spike): pre [M, n_in], post1 and post2 [M, N]."""

    pre: torch.Tensor
    post1: torch.Tensor
    post2: torch.Tensor


def _decay(cfg: ModuleConfig, tau: float) -> float:
    return math.exp(-cfg.dt / tau)


def constants(cfg: ModuleConfig) -> Constants:
    d_ge = _decay(cfg, cfg.tau_ge)
    v_mid_e = (cfg.v_rest_e + cfg.v_thresh_e) / 2
    v_mid_i = (cfg.v_rest_i + cfg.v_thresh_i) / 2
    return Constants(
        decay_syn=d_ge,
        decay_mem_e=_decay(cfg, cfg.tau_e),
        decay_mem_i=_decay(cfg, cfg.tau_i),
        theta_e=cfg.v_thresh_e - cfg.v_rest_e,
        theta_i=cfg.v_thresh_i - cfg.v_rest_i,
        refractory_e=cfg.steps(cfg.refractory_e),
        refractory_i=cfg.steps(cfg.refractory_i),
        beta=cfg.theta_plus,
        decay_th=_decay(cfg, cfg.tau_theta),
        k_in=cfg.tau_ge * (cfg.e_exc - v_mid_e) / cfg.tau_e * (1 - d_ge),
        k_ei=cfg.w_ei * cfg.tau_ge * (cfg.e_exc - v_mid_i) / cfg.tau_i * (1 - d_ge),
        e_inh=cfg.e_inh - cfg.v_rest_e,
        shunt=math.exp(-cfg.w_ie * cfg.tau_gi / cfg.tau_e),
        decay_pre=_decay(cfg, cfg.tau_pre),
        decay_post1=_decay(cfg, cfg.tau_post1),
        decay_post2=_decay(cfg, cfg.tau_post2),
    )


def rest_state(shape: tuple[int, ...], adaptation: torch.Tensor | None = None) -> State:
    """All neurons at rest, each population of shape [..., M, N]; `adaptation` [M, N] is the excitatory theta
    (mV) carried over between images while learning (None: 0, as at query time)."""

    def population(a: torch.Tensor) -> Population:
        zeros = torch.zeros(shape)
        return Population(zeros, zeros.clone(), a, zeros.clone(), zeros.clone())

    return State(
        population(torch.zeros(shape) if adaptation is None else adaptation.expand(shape).clone()),
        population(torch.zeros(shape)),
    )


def step(c: Constants, state: State, drive: torch.Tensor, theta: torch.Tensor, learn: bool) -> State:
    """One time step (see the module docstring). `drive` [..., M, N]: input current to the exc neurons (sum of
    w over spiking inputs, times `c.k_in`, mV); `theta` [M, N]: base exc thresholds (mV), +inf for silenced
    neurons. Learning raises the thresholds of excitatory neurons that spike (decaying with tau_theta);
    otherwise they are frozen."""
    e, h = state.exc, state.inh
    i, v, a, r, crossed = equations.lif(
        e.i,
        e.v,
        e.a,
        e.r,
        e.s,
        drive,
        0.0,
        c.decay_syn,
        c.decay_mem_e,
        theta,
        c.decay_th if learn else 1.0,
        c.beta if learn else 0.0,
        1.0,
        c.refractory_e,
    )
    over = (v - theta - a).masked_fill(crossed == 0, -math.inf)
    best = over.argmax(-1, keepdim=True)
    s = torch.zeros_like(crossed).scatter_(-1, best, crossed.gather(-1, best))
    r = r - c.refractory_e * (crossed - s)  # the neurons that lost the race did not fire
    inh = Population(
        *equations.lif(
            h.i,
            h.v,
            h.a,
            h.r,
            h.s,
            c.k_ei * s,
            0.0,
            c.decay_syn,
            c.decay_mem_i,
            c.theta_i,
            1.0,
            0.0,
            1.0,
            c.refractory_i,
        )
    )
    hits = inh.s.sum(-1, keepdim=True) - inh.s
    v = c.e_inh + (v - c.e_inh) * c.shunt**hits
    return State(Population(i, v, a, r, s), inh)


def inputs(cfg: ModuleConfig, pixels: torch.Tensor) -> torch.Tensor:
    """The network's inputs [..., n_in] of preprocessed images [..., pixels] (0..255): the pixels themselves, or
    with `cfg.channels == 2` the pixels then their complements 255 - x (ON, OFF)."""
    return pixels if cfg.channels == 1 else torch.cat([pixels, 255.0 - pixels], dim=-1)


def zero_traces(modules: int, n_in: int, n_exc: int) -> Traces:
    return Traces(torch.zeros(modules, n_in), torch.zeros(modules, n_exc), torch.zeros(modules, n_exc))


def stdp(
    cfg: ModuleConfig, c: Constants, weights: torch.Tensor, traces: Traces, pre_index: torch.Tensor, post: torch.Tensor
) -> Traces:
    """Apply one step of STDP to `weights` [M, n_in, N] (contiguous) in place; return the new traces.

    `pre_index` [K]: flat row index (m * n_in + i) of the inputs that spiked this step, `post` [M, N] the
    excitatory spikes of this step. Depression only touches the columns of neurons with a nonzero post1 trace
    (those that fired during this image: a few per module under winner-take-all).
    """
    _, n_in, n = weights.shape
    pre = traces.pre * c.decay_pre
    post1 = traces.post1 * c.decay_post1
    post2 = traces.post2 * c.decay_post2
    fired = post1 > 0
    width = int(fired.sum(1).max())
    if pre_index.numel() and width:
        columns = fired.to(torch.uint8).topk(width, dim=1).indices  # [M, L]; extra slots have post1 = 0
        m = torch.div(pre_index, n_in, rounding_mode="floor")
        index = pre_index[:, None] * n + columns[m]  # [K, L] flat (m, i, j)
        depressed = weights.take(index) - cfg.nu_pre * post1.gather(1, columns)[m]
        weights.put_(index, depressed.clamp_(min=0.0))
    pre.view(-1).index_fill_(0, pre_index, 1.0)
    pm, pj = post.nonzero(as_tuple=True)
    if pm.numel():
        index = (pm * (n_in * n) + pj)[:, None] + torch.arange(n_in)[None, :] * n  # [S, n_in] flat columns
        grown = weights.take(index) + cfg.nu_post * pre[pm] * post2[pm, pj, None]
        weights.put_(index, grown.clamp_(max=cfg.w_max))
        post1[pm, pj] = 1.0
        post2[pm, pj] = 1.0
    return Traces(pre, post1, post2)


def normalize(weights: torch.Tensor, total: float) -> None:
    """Scale each exc neuron's input weights (dim 1 of [M, n_in, N]) to sum to `total`, in place."""
    weights.mul_(total / weights.sum(dim=1, keepdim=True).clamp_min(1e-12))


def gather_drive(weights: torch.Tensor, spikes: torch.Tensor, k_in: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Input current of every module from its own spiking inputs, gathering only the rows of active inputs.

    weights [M, n_in, N] (contiguous), spikes [M, n_in] (0/1). Returns (flat row index m * n_in + i of the
    spikes [K], drive [M, N] in mV). At <= 64 Hz and 1 ms steps about 3 % of the inputs spike, so this is far
    less work than the dense batched matmul.
    """
    modules, n_in, n = weights.shape
    index = spikes.reshape(-1).nonzero().squeeze(1)
    rows = weights.view(modules * n_in, n).index_select(0, index)
    module_of_row = torch.div(index, n_in, rounding_mode="floor")
    return index, torch.zeros(modules, n).index_add_(0, module_of_row, rows).mul_(k_in)
