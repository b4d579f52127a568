"""Dynamics of the excitatory/inhibitory winner-take-all modules and their STDP rule, batched over modules.

Neurons: the core's current-based LIF (`snncontrol.neurons.equations.lif`, hard reset, spike-triggered
adaptive threshold, refractory steps), on torch tensors [..., M, 2N]: the first N neurons of a module are
excitatory, the last N inhibitory, M modules (and any leading query batch) are batch dimensions. Membranes
are in mV relative to rest; thresholds are `v_thresh - v_rest` (13 mV exc, 20 mV inh) plus the adaptive part
(`a`, Diehl & Cook's theta, +`theta_plus` mV per spike while learning).

Current-based, not conductance-based, synapses. Why: the core's neuron equation is current-based; the input
drive is then linear in the weights, so the expected-current (rate) query in `inference.py` is exact in
expectation; and the membrane of these neurons stays between rest and threshold, where the conductance model's
driving force (E - v) changes by only ~20 %. Each conductance weight w of Diehl & Cook (ge += w, decaying
with tau_g; dv/dt = ge (E - v) / tau_m) becomes a current kick that deposits the same charge, evaluated at the
midpoint v_mid of rest and threshold: total dv = w tau_g (E - v_mid) / tau_m mV. Input -> exc: 0.585 mV per unit
weight; exc -> inh (10.4): 52 mV, every exc spike fires its inhibitory partner on the next step; inh -> exc
(17.0): -3.5 mV on every other excitatory neuron. All synaptic currents of a neuron decay with tau_ge (the
inhibitory kick keeps the charge of tau_gi). Deviation: inhibitory neurons reset to rest (Diehl & Cook: -45
mV); they fire once per excitatory spike either way.

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
    """Per-step constants of a module (dimensionless decays, mV kicks, steps); tensors are [2N]."""

    decay_syn: torch.Tensor
    decay_mem: torch.Tensor
    theta: torch.Tensor  # mV above rest, before adaptation
    refractory: torch.Tensor  # steps
    beta: torch.Tensor  # mV per spike while learning (exc only)
    decay_th: float
    k_in: float  # current per input spike and unit weight
    k_ei: float
    k_ie: float  # < 0
    decay_pre: float
    decay_post1: float
    decay_post2: float


class State(NamedTuple):
    """Neuron state [..., M, 2N]: synaptic current, membrane (mV above rest), adaptation (mV), refractory
    steps left, last spike (0/1)."""

    i: torch.Tensor
    v: torch.Tensor
    a: torch.Tensor
    r: torch.Tensor
    s: torch.Tensor


class Traces(NamedTuple):
    """STDP traces (dimensionless, 1 at a spike): pre [M, n_in], post1 and post2 [M, N]."""

    pre: torch.Tensor
    post1: torch.Tensor
    post2: torch.Tensor


def _decay(cfg: ModuleConfig, tau: float) -> float:
    return math.exp(-cfg.dt / tau)


def constants(cfg: ModuleConfig) -> Constants:
    n = cfg.n_exc
    d_ge = _decay(cfg, cfg.tau_ge)
    v_mid_e = (cfg.v_rest_e + cfg.v_thresh_e) / 2
    v_mid_i = (cfg.v_rest_i + cfg.v_thresh_i) / 2

    def both(exc: float, inh: float) -> torch.Tensor:
        return torch.cat([torch.full((n,), float(exc)), torch.full((n,), float(inh))])

    return Constants(
        decay_syn=both(d_ge, d_ge),
        decay_mem=both(_decay(cfg, cfg.tau_e), _decay(cfg, cfg.tau_i)),
        theta=both(cfg.v_thresh_e - cfg.v_rest_e, cfg.v_thresh_i - cfg.v_rest_i),
        refractory=both(cfg.steps(cfg.refractory_e), cfg.steps(cfg.refractory_i)),
        beta=both(cfg.theta_plus, 0.0),
        decay_th=_decay(cfg, cfg.tau_theta),
        k_in=cfg.tau_ge * (cfg.e_exc - v_mid_e) / cfg.tau_e * (1 - d_ge),
        k_ei=cfg.w_ei * cfg.tau_ge * (cfg.e_exc - v_mid_i) / cfg.tau_i * (1 - d_ge),
        k_ie=cfg.w_ie * cfg.tau_gi * (cfg.e_inh - v_mid_e) / cfg.tau_e * (1 - d_ge),
        decay_pre=_decay(cfg, cfg.tau_pre),
        decay_post1=_decay(cfg, cfg.tau_post1),
        decay_post2=_decay(cfg, cfg.tau_post2),
    )


def rest_state(shape: tuple[int, ...], adaptation: torch.Tensor) -> State:
    """All neurons at rest, shape [..., M, 2N]; `adaptation` [M, N] is the excitatory theta (mV) carried over."""
    zeros = torch.zeros(shape)
    a = zeros.clone()
    a[..., : adaptation.shape[-1]] = adaptation
    return State(zeros, zeros.clone(), a, zeros.clone(), zeros.clone())


def step(c: Constants, state: State, drive: torch.Tensor, theta: torch.Tensor, learn: bool) -> State:
    """One time step. `drive` [..., M, N]: input current to the exc neurons (sum of w over spiking inputs,
    times `c.k_in`); `theta` [M, 2N]: base thresholds (mV), +inf for silenced neurons. Learning raises the
    thresholds of excitatory neurons that spike (and lets them decay with tau_theta); otherwise they are frozen.
    """
    n = drive.shape[-1]
    s_e, s_i = state.s[..., :n], state.s[..., n:]
    inhibition = c.k_ie * (s_i.sum(-1, keepdim=True) - s_i)
    current = torch.cat([drive + inhibition, c.k_ei * s_e], dim=-1)
    i, v, a, r, s = equations.lif(
        state.i,
        state.v,
        state.a,
        state.r,
        state.s,
        current,
        0.0,
        c.decay_syn,
        c.decay_mem,
        theta,
        c.decay_th if learn else 1.0,
        c.beta if learn else 0.0,
        1.0,
        c.refractory,
    )
    return State(i, v, a, r, s)


def zero_traces(modules: int, n_in: int, n_exc: int) -> Traces:
    return Traces(torch.zeros(modules, n_in), torch.zeros(modules, n_exc), torch.zeros(modules, n_exc))


def stdp(
    cfg: ModuleConfig,
    c: Constants,
    weights: torch.Tensor,
    traces: Traces,
    pre_rows_index: torch.Tensor,
    pre_rows: torch.Tensor,
    post: torch.Tensor,
) -> Traces:
    """Apply one step of STDP to `weights` [M, n_in, N] (contiguous) in place; return the new traces.

    `pre_rows_index` [K]: flat row index (m * n_in + i) of the inputs that spiked this step, `pre_rows` [K, N]
    their weight rows (as gathered for the input current), `post` [M, N] the excitatory spikes of this step.
    """
    modules, n_in, n = weights.shape
    pre = traces.pre * c.decay_pre
    post1 = traces.post1 * c.decay_post1
    post2 = traces.post2 * c.decay_post2
    if pre_rows_index.numel():
        m = torch.div(pre_rows_index, n_in, rounding_mode="floor")
        depressed = (pre_rows - cfg.nu_pre * post1.index_select(0, m)).clamp_(min=0.0)
        weights.view(modules * n_in, n).index_copy_(0, pre_rows_index, depressed)
        pre.view(-1).index_fill_(0, pre_rows_index, 1.0)
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


def gather_drive(
    weights: torch.Tensor, spikes: torch.Tensor, k_in: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Input current of every module from its own spiking inputs, gathering only the rows of active inputs.

    weights [M, n_in, N] (contiguous), spikes [M, n_in] (0/1). Returns (flat row index m * n_in + i of the
    spikes [K], their rows [K, N], drive [M, N]). At <= 64 Hz and 1 ms steps about 3 % of the inputs spike, so
    this is far less work than the dense batched matmul (see benchmarks/vpr.py).
    """
    modules, n_in, n = weights.shape
    index = spikes.reshape(-1).nonzero().squeeze(1)
    rows = weights.view(modules * n_in, n).index_select(0, index)
    module_of_row = torch.div(index, n_in, rounding_mode="floor")
    drive = torch.zeros(modules, n).index_add_(0, module_of_row, rows)
    return index, rows, drive.mul_(k_in)
