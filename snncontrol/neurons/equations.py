"""The neuron equations, written once.

These functions are the single source of truth for every neuron model in snncontrol. They are executed two
ways: element-wise on torch tensors by the reference step (`snncontrol.network`), and on scalars inside the
numba-compiled time loop (`snncontrol.compiled`). To work in both they use only arithmetic (`+ - *`),
comparisons, and floats; a comparison is turned into 0.0/1.0 by multiplying a float by it, float first
(`1.0 * (x > y)`), which both backends evaluate the same way.

All quantities are dimensionless per-step values: the network runs in discrete time with step `dt` (s); a
decay factor `d` in [0, 1] is the forward-Euler step of a time constant `tau = dt / (1 - d)` (s), as the NIR
exchange maps it (`snncontrol.nir_io`; the exact exponential, tau = -dt / ln(d), is close where dt << tau).
"""

from __future__ import annotations

from typing import Any

Num = Any  # a float (numba) or a torch.Tensor (reference path): the equations are written for both


def lif(
    i: Num,
    v: Num,
    a: Num,
    r: Num,
    s: Num,
    current: Num,
    threshold_input: Num,
    decay_syn: Num,
    decay_mem: Num,
    theta: Num,
    decay_th: Num,
    beta: Num,
    hard_reset: float,
    refractory: float,
) -> tuple[Num, Num, Num, Num, Num]:
    """One step of the (current-based) leaky integrate-and-fire neuron with optional adaptation.

    State: synaptic current `i`, membrane `v`, threshold adaptation `a`, refractory counter `r` (steps left),
    previous spike `s` (0/1). Inputs: synaptic input `current` (sum of W s_in, plus bias) and the
    input-weighted threshold drive `threshold_input` (sum of W_th s_in, IWTA; 0 otherwise).

        i[t]  = decay_syn i[t-1] + current                      (decay_syn = 0: plain LIF, i = current)
        v[t]  = decay_mem v[t-1] (1 - hard s[t-1]) - (1 - hard) s[t-1] theta[t-1] + free[t] i[t]
        a[t]  = decay_th a[t-1] + threshold_input + beta s[t-1]  (IWTA and spike-triggered adaptation)
        s[t]  = free[t] H(v[t] - theta - a[t])                   (H(x) = 1 for x > 0)

    Soft reset (hard_reset = 0) subtracts the threshold that was crossed, at the next step, as in Burgers et
    al. (2023); hard reset (1) sets the membrane to 0. `free` is 0 during the `refractory` steps after a
    spike: the membrane takes no current and the neuron cannot fire; a synaptic current (decay_syn > 0) keeps
    integrating its input meanwhile and reaches the membrane once the period ends.
    """
    free = 1.0 * (r <= 0.0)
    r = r - (1.0 - free)
    threshold_prev = theta + a
    i = decay_syn * i + current
    v = decay_mem * v * (1.0 - hard_reset * s) - (1.0 - hard_reset) * s * threshold_prev + free * i
    a = decay_th * a + threshold_input + beta * s
    s = free * (v > theta + a)
    r = r + refractory * s
    return i, v, a, r, s


def leaky_integrator(v: Num, current: Num, decay_mem: Num) -> Num:
    """Non-spiking leaky integrator (readout): v[t] = decay_mem v[t-1] + current. Output is v."""
    return decay_mem * v + current


def graded(current: Num) -> Num:
    """Graded (clamped-linear, non-spiking) unit: clamp(current, 0, 1), exactly for finite input (NaN for +-inf),
    in arithmetic form."""
    return current * (current > 0.0) * (current < 1.0) + 1.0 * (current >= 1.0)
