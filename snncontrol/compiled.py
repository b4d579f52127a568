"""The compiled time loop: the whole rollout of a population in one numba call, threads over individuals.

It calls the neuron equations of `snncontrol.neurons.equations` (compiled by numba, not rewritten), reads the
layer stack from a `snncontrol.layer_table.LayerTable` and the packed parameters (weights [P, W], neuron fields
[P, F, N], as `snncontrol.network.Params` holds them), and updates the state arrays (`LoopState`) in place.
`run_core` is the loop as a pure function on torch tensors (it updates copies); `run_loop` the same loop on the
caller's own numpy arrays, in place, and `run_tick` a whole control tick around it (checks, adapters, the loop,
saturation, packed as `snncontrol.tick_layout` says) for `snncontrol.realtime.Stepper`, which calls both through
`Specialized`. Inputs that are zero are skipped, so spiking inputs cost work in proportion to spikes
(event-driven), not to synapses. Tested against the reference torch step (`tests/test_network.py`,
`tests/test_neurons.py`) and the tick against `snncontrol.policy.SNNPolicy.act` (`tests/test_policy.py`). The
two paths agree to rounding, not bit for bit: they sum a neuron's inputs in another order, and numba evaluates
float32 state partly in float64 (its float literals). In float64 that is ~1e-14 over thousands of steps; in
float32 (the default of `Network` and `Controller`) a neuron near its threshold can fire one step apart, so
over long runs a spike count may differ by one (a 20,000-step rollout of 64 small networks: one spike in 6
million). `Network.rollout` and `step` run this loop unless a layer has synaptic delays (or `backend=
"reference"` is asked for), so the ROS node, `SNNPolicy` and evolution agree with each other exactly.
Units: those of the network (one step is `spec.dt` s).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numba
import numpy as np
import torch

from snncontrol import adapters, atomic, layer_table, tick_layout
from snncontrol.layer_table import (
    FAN,
    HARD,
    KIND,
    N_IN,
    NOFF,
    PLAIN,
    REFRACTORY,
    SPIKING,
    SRC_SPIKING,
    W_IN,
    W_REC,
    W_TH,
    LayerTable,
    N,
)
from snncontrol.neurons import equations, models
from snncontrol.neurons.models import KIND_LI, KIND_LIF
from snncontrol.tick_layout import (
    ACT_AFFINE_CLIP,
    ACT_HIGH,
    ACT_KIND,
    ACT_LOW,
    CHANNELS,
    CLIPPED,
    HAS_RATES,
    HAS_VALID,
    LEAD,
    MEASUREMENT,
    OBS_KIND,
    OBS_SELECT,
    OBS_SETPOINT_ERROR,
    REJECTED,
    REPLACED,
    SETPOINT,
    STEPPED,
    VALID_HIGH,
    VALID_LOW,
)

_lif = numba.njit(cache=True, inline="always")(equations.lif)
_leaky_integrator = numba.njit(cache=True, inline="always")(equations.leaky_integrator)
_graded = numba.njit(cache=True, inline="always")(equations.graded)
_float_blocks = numba.njit(cache=True, inline="always")(tick_layout.float_blocks)

# Rows of the packed neuron fields (same order as NEURON_FIELDS).
BIAS, DECAY_SYN, DECAY_MEM, THETA, DECAY_TH, BETA = range(6)

#: Layers at least this wide accumulate input rows through slices (vectorized); narrower ones index directly.
VECTOR_MIN_WIDTH = 8
#: Work (individuals x steps x neurons) from which a call is split over threads. Handing chunks to threads costs
#: tens of microseconds (more on a loaded machine), so small calls (e.g. one closed-loop step of a population)
#: run on the calling thread; a 256 x 2,500-step rollout is split.
PARALLEL_MIN_WORK = 2_000_000


class LoopState(NamedTuple):
    """The state the loop advances in place: neuron fields i, v, a, r, out [P, N] (network dtype), cumulative
    spikes per layer [P, L] and SOPs [P] (float64). The loop reads these fields by name, so any named tuple that
    has them serves (`snncontrol.realtime.StepperState` adds the step count)."""

    i: np.ndarray
    v: np.ndarray
    a: np.ndarray
    r: np.ndarray
    out: np.ndarray
    spikes: np.ndarray
    sops: np.ndarray


#: The state arrays the loop updates in place.
STATE_FIELDS = LoopState._fields
#: A named tuple of tensors with the fields of STATE_FIELDS and `steps` (e.g. `snncontrol.network.NetworkState`).
S = TypeVar("S")


class TickBuffers(NamedTuple):
    """What a control tick uses besides the network state: the loop's input [1, 1, n_inputs] and output
    [1, 1, n_outputs] (network dtype), the sample hold's last finite inputs [n_inputs] and whether the network
    holds missing inputs (a `SampleHoldEncoder`)."""

    x: np.ndarray
    y: np.ndarray
    held: np.ndarray
    hold: bool


def _core_loop(table, weights, neurons, state, xs, ys):
    """`run_loop`: the compiled loop on numpy arrays, in place: xs [T, P, n0] -> ys [T, P, n_last] (network
    dtype) of the stack `table` with weights [P, W] and neuron fields [P, F, N]; `state` (a named tuple with the
    fields of `LoopState`) advanced by T steps. Nothing is copied or checked: the caller passes arrays of the
    shapes and dtypes `run_core` makes (the loop does not bounds-check its reads).

    Per individual, layer by layer: the stack is feed-forward, so layer l at step t needs only layer l-1's
    output at step t, kept for the whole series in a [T, n] buffer. Each layer's views (state, parameters)
    are then built once per call rather than once per step, and its time loop is tight. State and parameters
    are copied into arrays local to the individual, so no two arrays alias and the neuron loops vectorize.
    """
    steps, batch = xs.shape[0], xs.shape[1]
    rows, fan_in, fan_rec = table.rows, table.fan_in, table.fan_rec
    n_layers = rows.shape[0]
    max_n = 0
    for layer in range(n_layers):
        max_n = max(max_n, rows[layer, N])
    for p in range(batch):
        current = np.empty(max_n, dtype=xs.dtype)
        drive = np.empty(max_n, dtype=xs.dtype)
        ip, vp, ap = state.i[p].copy(), state.v[p].copy(), state.a[p].copy()
        rp, op = state.r[p].copy(), state.out[p].copy()
        wp, np_ = weights[p].copy(), neurons[p].copy()
        sop = state.sops[p]
        source = xs[:, p, :]  # [T, n_in] of the layer being computed
        # Indices of the source's non-zero entries per step, when the source is a spiking layer of this loop.
        active = np.empty((0, 0), dtype=np.int64)
        n_active = np.empty(0, dtype=np.int64)
        sparse_source = False
        for layer in range(n_layers):
            n = rows[layer, N]
            n_in = rows[layer, N_IN]
            noff = rows[layer, NOFF]
            end = noff + n
            w_in, w_th, w_rec = rows[layer, W_IN], rows[layer, W_TH], rows[layer, W_REC]
            src_spiking, spiking, fan = rows[layer, SRC_SPIKING], rows[layer, SPIKING], rows[layer, FAN]
            kind, plain = rows[layer, KIND], rows[layer, PLAIN]
            hard, refractory = float(rows[layer, HARD]), float(rows[layer, REFRACTORY])
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
                        if src_spiking:  # one operation per event: a send-on-delta input counts several
                            sop += xk * fan_in[fan + k]
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
            state.spikes[p, layer] += count
            source = outputs
            active, n_active, sparse_source = out_active, out_n_active, fires
        ys[:, p, :] = source
        state.i[p], state.v[p], state.a[p], state.r[p], state.out[p] = ip, vp, ap, rp, op
        state.sops[p] = sop


run_loop = numba.njit(cache=True, nogil=True)(_core_loop)
_pool: ThreadPoolExecutor | None = None


def _threads() -> int:
    return max(1, numba.config.NUMBA_NUM_THREADS)


def _executor() -> ThreadPoolExecutor:
    """Threads that run chunks of a population through the compiled loop, which releases the GIL."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads(), thread_name_prefix="snncontrol-core")
    return _pool


def _tick_kernel(obs, packed, command, table, weights, neurons, state, buffers):
    """`snncontrol.realtime.Stepper.act`: one control tick of one individual on a float64 observation; `packed`
    (a `snncontrol.tick_layout.PackedTick`) read through the names of `snncontrol.tick_layout`, the command
    written into `command` [n_outputs] (float64), `state` (a `snncontrol.realtime.StepperState`) and `buffers`
    (`TickBuffers`) updated. Here, beside `_core_loop`, so that numba's cache, which watches the file a function
    is defined in, recompiles it whenever the loop changes."""
    ints, floats, x, held = packed.ints, packed.floats, buffers.x[0, 0], buffers.held
    n_obs, n_in, n_out = obs.shape[0], x.shape[0], command.shape[0]
    at = _float_blocks(n_obs, n_in, n_out)
    for k in range(n_obs):
        if not (obs[k] >= floats[at.obs_low + k] and obs[k] <= floats[at.obs_high + k]):
            return REJECTED
    obs_kind, has_valid = ints[OBS_KIND], ints[HAS_VALID]
    valid_low, valid_high = floats[VALID_LOW], floats[VALID_HIGH]
    if obs_kind == OBS_SETPOINT_ERROR:
        measured = obs[ints[MEASUREMENT]]
        if has_valid and not (measured >= valid_low and measured < valid_high):
            measured = np.nan
        x[0] = (obs[ints[SETPOINT]] - measured) * floats[at.scale]
    else:  # identity, select
        for k in range(n_in):
            value = obs[ints[CHANNELS + k]]
            if has_valid and not (value >= valid_low and value < valid_high):
                value = np.nan
            if ints[HAS_RATES]:  # select with rates: the channel `lead` seconds ahead
                rate = obs[ints[CHANNELS + n_in + k]]
                if has_valid and not np.isfinite(rate):  # (a rate is no value of the channel: `valid` not applied)
                    rate = np.nan
                value = value + floats[LEAD] * rate
            if obs_kind == OBS_SELECT:
                value = value * floats[at.scale + k] + floats[at.offset + k]
            x[k] = value
    for k in range(n_in):  # x holds the network dtype: a value beyond its range is inf there, a lost sample NaN
        if np.isinf(x[k]) or (np.isnan(x[k]) and not buffers.hold):  # would turn the membranes NaN for good:
            return REJECTED  # leave the state, the sample hold's memory included, alone
    if buffers.hold:
        for k in range(n_in):
            if np.isnan(x[k]):
                x[k] = held[k]  # SampleHoldEncoder: a lost sample repeats the last finite input
            held[k] = x[k]
    run_loop(table, weights, neurons, state, buffers.x, buffers.y)
    state.steps[()] += 1
    outcome = STEPPED
    for j in range(n_out):
        y = np.float64(buffers.y[0, 0, j])
        if ints[ACT_KIND] == ACT_AFFINE_CLIP:  # NaN stays NaN, as in np.clip
            y = y * floats[at.act_scale + j] + floats[at.act_offset + j]
            if y < floats[ACT_LOW]:
                y = floats[ACT_LOW]
            elif y > floats[ACT_HIGH]:
                y = floats[ACT_HIGH]
        command[j] = y
        if not (y >= floats[at.out_low + j] and y <= floats[at.out_high + j]):
            outcome = CLIPPED
    if outcome == CLIPPED:
        for j in range(n_out):
            if not np.isfinite(command[j]):
                outcome = REPLACED
        for j in range(n_out):
            if outcome == REPLACED:
                command[j] = floats[at.safe + j]
            else:
                command[j] = min(max(command[j], floats[at.out_low + j]), floats[at.out_high + j])
    return outcome


run_tick = numba.njit(cache=True, nogil=True)(_tick_kernel)


@numba.njit(cache=True, nogil=True)
def _run_fields(table, weights, neurons, state, xs, ys):
    """`run_loop` on the fields of a `LayerTable` and a `LoopState` as plain tuples: numba's per-call dispatch
    types a plain tuple of arrays in tens of nanoseconds per array, a named tuple in about a microsecond, which a
    P = 1 `Network.step` (`run_core`) would notice."""
    run_loop(LayerTable(*table), weights, neurons, LoopState(*state), xs, ys)


#: The files whose code or constants the kernels bake in besides this one (numba's cache watches only the file a
#: kernel is defined in): the neuron equations and kind codes, the layer table's columns, the tick's layout and
#: the adapters' kind codes.
BAKED_IN = (equations, models, layer_table, tick_layout, adapters)
#: Beside numba's cache files: the digest of BAKED_IN the cached kernels were compiled from.
BAKED_IN_DIGEST_FILE = "compiled.baked_in.sha256"


def baked_in_digest() -> str:
    """The SHA-256 of the BAKED_IN files' contents."""
    digest = hashlib.sha256()
    for module in BAKED_IN:
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()


def flush_stale_cache() -> bool:
    """Empty numba's on-disk cache of this module's kernels if a BAKED_IN file changed since they were cached
    (an edited equation was otherwise still run by the compiled path while the reference path ran the new one),
    and record the current digest. Returns whether it flushed. Called at import, before any kernel compiles or
    loads; a cache folder that cannot be written is left as it is (numba then caches nothing there either)."""
    kernels = (_lif, _leaky_integrator, _graded, _float_blocks, run_loop, run_tick, _run_fields)
    try:  # (numba's cache is private API; with NUMBA_DISABLE_JIT the kernels are plain functions: no cache)
        marker = Path(run_loop._cache._cache_path) / BAKED_IN_DIGEST_FILE
        current = baked_in_digest()
        if marker.is_file() and marker.read_text().strip() == current:
            return False
        for kernel in kernels:
            kernel._cache.flush()
        atomic.write_text(marker, current + "\n")
    except (AttributeError, OSError):
        return False
    return True


#: Whether this import flushed the cache (`flush_stale_cache`).
FLUSHED_AT_IMPORT = flush_stale_cache()


class Specialized:
    """A compiled function (`run_loop`, `run_tick`) for the argument types of its first call (compiled
    then, or loaded from numba's cache), called directly afterwards. numba's own per-call dispatch types every
    argument anew, about 1 µs for each named tuple of arrays (as much as a small network's step); here the caller
    must pass arguments of those same types every time: a wrong dtype raises TypeError, but a wrong number of
    dimensions or a non-contiguous array goes undetected (the caller checks what it does not own)."""

    def __init__(self, function: Any) -> None:
        self.function = function  # a numba dispatcher
        self.compiled: Callable[..., Any] | None = None

    def __call__(self, *args: Any) -> Any:
        if self.compiled is None:
            self.compiled = self.function.compile(tuple(numba.typeof(arg) for arg in args))
        return self.compiled(*args)


def run_core(
    table: LayerTable, weights: torch.Tensor, neurons: torch.Tensor, encoded: torch.Tensor, state: S
) -> tuple[torch.Tensor, S]:
    """Run the layer stack over encoded inputs [T, P, n0] from `state` (a named tuple of tensors with the fields
    of `LoopState` and a step count `steps`, e.g. `snncontrol.network.NetworkState`); returns the last layer's
    outputs [T, P, n] and the new state (`state` with new tensors; the inputs are not modified).

    Large calls are split into one contiguous chunk of individuals per thread (NUMBA_NUM_THREADS, default all
    cores); individuals are independent, so the result does not depend on the split.
    """
    steps, batch = encoded.shape[0], encoded.shape[1]
    new = {name: getattr(state, name).clone() for name in STATE_FIELDS}
    ys = torch.empty(steps, batch, int(table.rows[-1, N]), dtype=encoded.dtype)
    xs, w, nf, out = encoded.contiguous().numpy(), weights.numpy(), neurons.numpy(), ys.numpy()
    arrays, table_fields = [field.numpy() for field in new.values()], tuple(table)

    def chunk(lo: int, hi: int) -> None:
        part = tuple([field[lo:hi] for field in arrays])
        _run_fields(table_fields, w[lo:hi], nf[lo:hi], part, xs[:, lo:hi], out[:, lo:hi])

    chunks = min(_threads(), batch) if batch * steps * arrays[0].shape[1] >= PARALLEL_MIN_WORK else 1
    if chunks == 1:
        chunk(0, batch)
    else:
        bounds = np.linspace(0, batch, chunks + 1).astype(int)
        for future in [_executor().submit(chunk, lo, hi) for lo, hi in itertools.pairwise(bounds)]:
            future.result()
    return ys, state._replace(**new, steps=state.steps + steps)
