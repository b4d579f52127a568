"""The compiled time loop: the whole rollout of a population in one numba call, threads over individuals.

It calls the neuron equations of `snncontrol.neurons.equations` (compiled by numba, not rewritten), reads the
packed parameters of `snncontrol.network.Params`, and updates the packed state in place on copies, so the
caller sees a pure function (`run_core`). `run_loop` is the same loop on the caller's own numpy arrays, in
place, for a real-time step without torch (`snncontrol.realtime`), and `run_tick` a whole control tick around
it (checks, adapters, the loop, saturation) for `snncontrol.realtime.Stepper.act`. Inputs that are zero are skipped, so
spiking inputs cost work in proportion to spikes (event-driven), not to synapses. Tested against the reference
torch step (`tests/test_network.py`, `tests/test_neurons.py`), bit for bit in float64.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numba
import numpy as np
import torch

from snncontrol.neurons import equations
from snncontrol.neurons.models import KIND_LI, KIND_LIF, LIF, NeuronModel

if TYPE_CHECKING:
    from snncontrol.network import LayerLayout, Network, NetworkState, Params
    from snncontrol.spec import NetworkSpec

_lif = numba.njit(cache=True, inline="always")(equations.lif)
_leaky_integrator = numba.njit(cache=True, inline="always")(equations.leaky_integrator)
_graded = numba.njit(cache=True, inline="always")(equations.graded)

# Columns of the layer table.
(KIND, N_IN, N, NOFF, W_IN, W_REC, W_TH, HARD, REFRACTORY, SRC_SPIKING, FAN, SPIKING, PLAIN) = range(13)
# Rows of the packed neuron fields (same order as NEURON_FIELDS).
BIAS, DECAY_SYN, DECAY_MEM, THETA, DECAY_TH, BETA = range(6)

#: Layers at least this wide accumulate input rows through slices (vectorized); narrower ones index directly.
VECTOR_MIN_WIDTH = 8
#: Work (individuals x steps x neurons) from which a call is split over threads. Handing chunks to threads costs
#: tens of microseconds (more on a loaded machine), so small calls (e.g. one closed-loop step of a population)
#: run on the calling thread; a 256 x 2,500-step rollout is split.
PARALLEL_MIN_WORK = 2_000_000


def _is_plain_lif(neuron: NeuronModel) -> bool:
    """Soft reset, no refractory period, no threshold adaptation: the fast specialization applies."""
    return isinstance(neuron, LIF) and neuron.reset == "soft" and neuron.refractory == 0 and neuron.adaptation == "none"


def layer_table(spec: NetworkSpec, layout: list[LayerLayout]) -> np.ndarray:
    """The integer description of the layer stack that the compiled loop interprets."""
    rows = []
    for layer, lay in zip(spec.layers, layout, strict=True):
        rows.append(
            [
                layer.neuron.code,
                lay.n_in,
                lay.n,
                lay.neuron_offset,
                lay.w_in,
                lay.w_rec,
                lay.w_th,
                int(layer.neuron.hard_reset),
                layer.neuron.refractory,
                int(lay.source_spiking),
                lay.fan_offset,
                int(layer.neuron.spiking),
                int(_is_plain_lif(layer.neuron)),
            ]
        )
    return np.asarray(rows, dtype=np.int64)


def _core_loop(xs, table, weights, neurons, fan_in, fan_rec, i, v, a, r, out, spikes, sops, ys):
    """xs [T, P, n0] -> ys [T, P, n_last]; state arrays [P, N], spikes [P, L], sops [P] updated in place.

    Per individual, layer by layer: the stack is feed-forward, so layer l at step t needs only layer l-1's
    output at step t, kept for the whole series in a [T, n] buffer. Each layer's views (state, parameters)
    are then built once per call rather than once per step, and its time loop is tight. State and parameters
    are copied into arrays local to the individual, so no two arrays alias and the neuron loops vectorize.
    """
    steps, batch = xs.shape[0], xs.shape[1]
    n_layers = table.shape[0]
    max_n = 0
    for layer in range(n_layers):
        max_n = max(max_n, table[layer, N])
    for p in range(batch):
        current = np.empty(max_n, dtype=xs.dtype)
        drive = np.empty(max_n, dtype=xs.dtype)
        ip, vp, ap, rp, op = i[p].copy(), v[p].copy(), a[p].copy(), r[p].copy(), out[p].copy()
        wp, np_ = weights[p].copy(), neurons[p].copy()
        sop = sops[p]
        source = xs[:, p, :]  # [T, n_in] of the layer being computed
        # Indices of the source's non-zero entries per step, when the source is a spiking layer of this loop.
        active = np.empty((0, 0), dtype=np.int64)
        n_active = np.empty(0, dtype=np.int64)
        sparse_source = False
        for layer in range(n_layers):
            n = table[layer, N]
            n_in = table[layer, N_IN]
            noff = table[layer, NOFF]
            end = noff + n
            w_in, w_th, w_rec = table[layer, W_IN], table[layer, W_TH], table[layer, W_REC]
            src_spiking, spiking, fan = table[layer, SRC_SPIKING], table[layer, SPIKING], table[layer, FAN]
            kind, plain = table[layer, KIND], table[layer, PLAIN]
            hard, refractory = float(table[layer, HARD]), float(table[layer, REFRACTORY])
            bias = np_[BIAS, noff:end]
            d_syn, d_mem, theta = np_[DECAY_SYN, noff:end], np_[DECAY_MEM, noff:end], np_[THETA, noff:end]
            d_th, beta = np_[DECAY_TH, noff:end], np_[BETA, noff:end]
            li, lv, la, lr, lo = ip[noff:end], vp[noff:end], ap[noff:end], rp[noff:end], op[noff:end]
            w_in_block = wp[w_in : w_in + n_in * n]
            outputs = np.empty((steps, n), dtype=xs.dtype)
            fires = kind == KIND_LIF
            out_active = np.empty((steps if fires else 0, n), dtype=np.int64)
            out_n_active = np.empty(steps if fires else 0, dtype=np.int64)
            count = 0
            for t in range(steps):
                for j in range(n):
                    current[j] = bias[j]
                    drive[j] = 0.0
                for q in range(n_active[t] if sparse_source else n_in):
                    k = active[t, q] if sparse_source else q
                    xk = source[t, k]
                    if xk != 0.0:  # event-driven: silent inputs cost nothing
                        if n >= VECTOR_MIN_WIDTH:  # a contiguous row slice lets the loop vectorize
                            row = w_in_block[k * n : (k + 1) * n]
                            for j in range(n):
                                current[j] += xk * row[j]
                        else:  # building a slice would cost more than the few multiply-adds
                            for j in range(n):
                                current[j] += xk * w_in_block[k * n + j]
                        if w_th >= 0:
                            row = wp[w_th + k * n : w_th + (k + 1) * n]
                            for j in range(n):
                                drive[j] += xk * row[j]
                        if src_spiking:
                            sop += fan_in[fan + k]
                if w_rec >= 0:
                    for k in range(n):
                        sk = lo[k]
                        if sk != 0.0:
                            row = wp[w_rec + k * n : w_rec + (k + 1) * n]
                            for j in range(n):
                                current[j] += sk * row[j]
                            if spiking:
                                sop += fan_rec[noff + k]
                if kind == KIND_LIF:
                    if plain:
                        # Soft reset, no refractory period, no adaptation: the same equations with those terms
                        # as literal zeros, which the compiler folds away (a and r stay 0, as in the general case).
                        for j in range(n):
                            li[j], lv[j], _, _, lo[j] = _lif(
                                li[j],
                                lv[j],
                                0.0,
                                0.0,
                                lo[j],
                                current[j],
                                0.0,
                                d_syn[j],
                                d_mem[j],
                                theta[j],
                                0.0,
                                0.0,
                                0.0,
                                0.0,
                            )
                    else:
                        for j in range(n):
                            li[j], lv[j], la[j], lr[j], lo[j] = _lif(
                                li[j],
                                lv[j],
                                la[j],
                                lr[j],
                                lo[j],
                                current[j],
                                drive[j],
                                d_syn[j],
                                d_mem[j],
                                theta[j],
                                d_th[j],
                                beta[j],
                                hard,
                                refractory,
                            )
                    # Branch-free compaction of the neurons that fired (the next layer visits only these).
                    fired = 0
                    for j in range(n):
                        out_active[t, fired] = j
                        fired += lo[j] != 0.0
                    out_n_active[t] = fired
                    count += fired
                elif kind == KIND_LI:
                    for j in range(n):
                        lv[j] = _leaky_integrator(lv[j], current[j], d_mem[j])
                        lo[j] = lv[j]
                else:
                    for j in range(n):
                        lo[j] = _graded(current[j])
                for j in range(n):
                    outputs[t, j] = lo[j]
            spikes[p, layer] += count
            source = outputs
            active, n_active, sparse_source = out_active, out_n_active, fires
        ys[:, p, :] = source
        i[p], v[p], a[p], r[p], out[p] = ip, vp, ap, rp, op
        sops[p] = sop


_loop = numba.njit(cache=True, nogil=True)(_core_loop)
_pool: ThreadPoolExecutor | None = None


def _threads() -> int:
    return max(1, numba.config.NUMBA_NUM_THREADS)


def _executor() -> ThreadPoolExecutor:
    """Threads that run chunks of a population through the compiled loop, which releases the GIL."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads(), thread_name_prefix="snncontrol-core")
    return _pool


#: Outcomes of a control tick (`snncontrol.realtime.Stepper.act`): the command is the network's (STEPPED),
#: clipped to the bounds (CLIPPED), or the safe command because the network's was not finite (REPLACED);
#: REJECTED: the observation was not finite or out of bounds, the network did not step, the command is untouched.
STEPPED, CLIPPED, REPLACED, REJECTED = 0, 1, 2, 3


def _tick_kernel(obs, ints, floats, held, hold, xs, table, weights, neurons, fan_in, fan_rec, block, spikes, sops,
                 steps, ys, command):  # fmt: skip
    """`snncontrol.realtime.Stepper.act`: one control tick of one individual; `ints` / `floats` laid out as
    `snncontrol.realtime.GuardedIO` packs them. Here, beside `_core_loop`, so that numba's cache, which watches
    the file a function is defined in, recompiles it whenever the loop changes."""
    n_obs, n_in, n_out = obs.shape[0], xs.shape[2], command.shape[0]
    scale, offset = 4, 4 + n_in
    act_scale, act_offset = 4 + 2 * n_in, 4 + 2 * n_in + n_out
    obs_low, obs_high = act_offset + n_out, act_offset + n_out + n_obs
    out_low, out_high, safe = obs_high + n_obs, obs_high + n_obs + n_out, obs_high + n_obs + 2 * n_out
    for k in range(n_obs):
        if not (obs[k] >= floats[obs_low + k] and obs[k] <= floats[obs_high + k]):
            return REJECTED
    kind, has_valid, valid_low, valid_high = ints[0], ints[3], floats[0], floats[1]
    x = xs[0, 0]
    if kind == 2:  # setpoint_error
        measured = obs[ints[1]]
        if has_valid and not (measured >= valid_low and measured < valid_high):
            measured = np.nan
        x[0] = (obs[ints[2]] - measured) * floats[scale]
    else:  # identity, select
        for k in range(n_in):
            value = obs[ints[5 + k]]
            if has_valid and not (value >= valid_low and value < valid_high):
                value = np.nan
            if kind == 1:
                value = value * floats[scale + k] + floats[offset + k]
            x[k] = value
    if hold:  # SampleHoldEncoder
        for k in range(n_in):
            if not np.isfinite(x[k]):
                x[k] = held[k]
            held[k] = x[k]
    _loop(xs, table, weights, neurons, fan_in, fan_rec, block[0], block[1], block[2], block[3], block[4],
                   spikes, sops, ys)  # fmt: skip
    steps[()] += 1
    outcome = STEPPED
    for j in range(n_out):
        y = np.float64(ys[0, 0, j])
        if ints[4] == 1:  # affine_clip (NaN stays NaN, as in np.clip)
            y = y * floats[act_scale + j] + floats[act_offset + j]
            if y < floats[2]:
                y = floats[2]
            elif y > floats[3]:
                y = floats[3]
        command[j] = y
        if not (y >= floats[out_low + j] and y <= floats[out_high + j]):
            outcome = CLIPPED
    if outcome == CLIPPED:
        for j in range(n_out):
            if not np.isfinite(command[j]):
                outcome = REPLACED
        for j in range(n_out):
            if outcome == REPLACED:
                command[j] = floats[safe + j]
            else:
                command[j] = min(max(command[j], floats[out_low + j]), floats[out_high + j])
    return outcome


run_tick = numba.njit(cache=True, nogil=True)(_tick_kernel)

#: The state arrays the loop updates in place, in the order `run_loop` takes them.
STATE_FIELDS = ("i", "v", "a", "r", "out", "spikes", "sops")


def run_loop(
    net: Network,
    xs: np.ndarray,
    weights: np.ndarray,
    neurons: np.ndarray,
    fields: Sequence[np.ndarray],
    ys: np.ndarray,
) -> None:
    """The compiled loop on numpy arrays, in place: xs [T, P, n0] -> ys [T, P, n_last] (network dtype); `fields`
    are the state arrays of STATE_FIELDS (i, v, a, r, out [P, N] in the network dtype, spikes [P, L] and
    sops [P] in float64), advanced by T steps. Nothing is copied or checked: the caller passes arrays of the
    shapes and dtypes `run_core` makes (the loop does not bounds-check its reads)."""
    _loop(xs, net._table, weights, neurons, net.fan_in, net.fan_rec, *fields, ys)


def run_core(
    net: Network, params: Params, encoded: torch.Tensor, state: NetworkState
) -> tuple[torch.Tensor, NetworkState]:
    """Run the layer stack over encoded inputs [T, P, n0]; returns last-layer outputs [T, P, n] and new state.

    Large calls are split into one contiguous chunk of individuals per thread (NUMBA_NUM_THREADS, default all
    cores); individuals are independent, so the result does not depend on the split.
    """
    steps, batch = encoded.shape[0], encoded.shape[1]
    new = {name: getattr(state, name).clone() for name in STATE_FIELDS}
    ys = torch.empty(steps, batch, net.layout[-1].n, dtype=net.dtype)
    xs, weights, neurons = encoded.contiguous().numpy(), params.weights.numpy(), params.neurons.numpy()
    fields = [new[name].numpy() for name in STATE_FIELDS]
    out = ys.numpy()

    def chunk(lo: int, hi: int) -> None:
        run_loop(net, xs[:, lo:hi], weights[lo:hi], neurons[lo:hi], [f[lo:hi] for f in fields], out[:, lo:hi])

    chunks = min(_threads(), batch) if batch * steps * net.n_neurons >= PARALLEL_MIN_WORK else 1
    if chunks == 1:
        chunk(0, batch)
    else:
        bounds = np.linspace(0, batch, chunks + 1).astype(int)
        for future in [_executor().submit(chunk, lo, hi) for lo, hi in itertools.pairwise(bounds)]:
            future.result()
    return ys, state._replace(**new, steps=state.steps + steps)
