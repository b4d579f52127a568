"""Population rollout throughput and single-step latency of snncontrol's SNN core vs snnTorch, same network.

Run (about a minute on 2 cores; ``--quick`` for a seconds-long smoke run that does not write results)::

    .venv/bin/python benchmarks/snn_step.py
    .venv/bin/python benchmarks/snn_step.py --population 256 --steps 2500 --repeats 3
    .venv/bin/python benchmarks/snn_step.py --quick

Network: P individuals, each a 2-layer CuBa-LIF network (2 inputs -> 80 LIF hidden -> 1 leaky readout), every
individual with its own weights and decays, sampled uniformly within the parameter bounds
(``spec.parameters.sample``). The same materialized parameters configure all three executors:

- ours: ``Network.rollout`` (the compiled numba time loop, parallel over individuals);
- snnTorch (a), looped per individual as its tutorials do: ``nn.Linear`` + ``snn.Synaptic`` + ``nn.Linear`` +
  ``snn.Leaky``, one individual (batch 1) at a time; a few individuals are timed and the time scaled to P;
- snnTorch (b), batched over the population by hand: per-individual weights via ``torch.bmm``,
  ``snn.Synaptic`` / ``snn.Leaky`` with ``[P, N]`` decay and threshold tensors.

Equation mapping (checked against the snnTorch 1.0 source): ``snn.Synaptic(alpha=decay_syn, beta=decay_mem,
threshold=theta, reset_mechanism="subtract")`` computes ``reset = H(mem[t-1] - theta)`` from the previous
membrane, then ``syn[t] = alpha syn[t-1] + in[t]``, ``mem[t] = (beta mem[t-1] + syn[t]) - reset theta``,
``spk[t] = H(mem[t] - theta)`` with ``H(x) = x > 0``: the same as ours, ``v[t] = (d v[t-1] - s[t-1] theta) + i[t]``,
up to the order of the additions (rounding). The readout is ``snn.Leaky(beta=decay_mem, reset_mechanism="none")``
whose ``mem`` is our leaky integrator ``y[t] = d y[t-1] + w s[t]``. A correctness check on a short input compares
spike rasters and readouts of snnTorch (b) and (a) with ours, in float32 and float64.

Timed per rollout (best of ``--repeats``, repeats interleaved so that load from other processes hits all alike):
what a user does for each rollout given materialized parameters: ours ``init_state`` + ``rollout``; snnTorch (b)
state allocation + the time loop; snnTorch (a) building each individual's modules + its time loop. Not timed per
rollout (setup, done once per generation): ``net.params(genome)`` (reported separately), numba compilation
(cached on disk, reported as the first-call time), the input tensor. All run under ``torch.inference_mode`` on
all cores (torch intra-op threads and numba threads both = the core count).

Single-step latency: the 161-neuron blimp controller (``paired_encoding("enc", 40)`` -> ``Layer("hidden", 80,
LIF())`` -> ``leaky_readout("out")``, one input), P = 1, ``net.step(params, x, state)`` called in a loop as a ROS
callback would, the numpy-only ``realtime.Stepper.step``, and ``Stepper.act``: the ROS controller node's whole
tick (bounds check, set-point error adapter, sample hold, network, command adapter, saturation) in one compiled
call; per-call times after warm-up, median / mean / p99 of the best of ``--repeats`` runs; beside it the same
network stepped by snnTorch modules (batch 1).

Neuron-steps are counted as P * (80 + 1) * T. Writes benchmarks/results/snn_step.json and ends with one line
``RESULT snn_step speedup_vs_snntorch_batched=... speedup_vs_snntorch_loop=... neuron_steps_per_s=...
step_p1_us=... step_p1_realtime_us=... tick_p1_us=...``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np
import snntorch as snn
import torch
from torch import nn

from snncontrol.adapters import ActionAdapter, IOAdapters, ObservationAdapter
from snncontrol.layers import Layer, leaky_readout, paired_encoding
from snncontrol.network import Network, Params
from snncontrol.neurons.models import LIF, LeakyIntegrator
from snncontrol.realtime import GuardedIO, Stepper
from snncontrol.seeding import seed32_argument
from snncontrol.spec import NetworkSpec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import integer, machine_info, output_file, result_line

from snncontrol.atomic import write_json

RESULTS = Path(__file__).parent / "results" / "snn_step.json"
N_HIDDEN = 80
DT = 0.01
TARGETS = {"speedup_vs_snntorch_batched": 10.0, "step_p1_us": 50.0}


# --- networks and inputs -------------------------------------------------------------------------------------
def population_spec() -> NetworkSpec:
    """2 inputs -> 80 CuBa-LIF (soft reset) -> 1 leaky-integrator readout."""
    return NetworkSpec(n_inputs=2, layers=(Layer("hidden", N_HIDDEN, LIF()), leaky_readout("out")), dt=DT)


def blimp_spec() -> NetworkSpec:
    """A blimp-sized stand-in: 80 paired encoding neurons -> 80 CuBa-LIF -> 1 readout, one input (161 neurons,
    plain LIF so that snnTorch runs the same network; not `shipped:blimp`'s layers: 40 encoding, 118 IWTA hidden
    neurons, 2 readouts and their sum)."""
    layers = (paired_encoding("enc", 40), Layer("hidden", N_HIDDEN, LIF()), leaky_readout("out"))
    return NetworkSpec(n_inputs=1, layers=layers, dt=DT)


def make_inputs(steps: int, population: int, n_inputs: int, seed: int, dtype: torch.dtype) -> torch.Tensor:
    """Smooth per-individual input signals [T, P, n_inputs] of amplitude about 1: two sines plus small noise,
    as a tracking error would look (nonzero almost always, so no input is skipped as an event)."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[:, None, None] * DT
    freq = rng.uniform(0.2, 2.0, (1, population, n_inputs))
    phase = rng.uniform(0, 2 * np.pi, (1, population, n_inputs))
    xs = np.sin(2 * np.pi * freq * t + phase) + 0.3 * np.sin(2 * np.pi * 3.1 * freq * t)
    xs = xs + 0.1 * rng.standard_normal((steps, population, n_inputs))
    return torch.as_tensor(xs, dtype=dtype)


# --- snnTorch versions of an snncontrol network -------------------------------------------------------------
def _layer_tensors(net: Network, params: Params, index: int) -> dict[str, torch.Tensor]:
    """One layer's per-individual weights [P, n_in, n], bias [P, n] and neuron fields [P, n] (copies)."""
    layer = net.spec.layers[index]
    if layer.recurrent is not None or layer.threshold_input is not None or layer.input.max_delay:
        raise ValueError(f"layer {layer.name!r}: only feed-forward connections without delays are mapped")
    neuron = layer.neuron
    if isinstance(neuron, LIF):
        if neuron.reset != "soft" or neuron.adaptation != "none" or neuron.refractory:
            raise ValueError(f"layer {layer.name!r}: only soft-reset LIF without adaptation/refractoriness")
    elif not isinstance(neuron, LeakyIntegrator):
        raise ValueError(f"layer {layer.name!r}: neuron {neuron.kind!r} has no snnTorch counterpart here")
    out = {"w": net.layer_weights(params, index, "w_in").clone().contiguous()}
    for name in ("bias", "decay_syn", "decay_mem", "theta"):
        out[name] = net.neuron_field(params, index, name).clone().contiguous()
    return out


class SnnTorchBatched:
    """snnTorch (b): the whole population in one batch, per-individual weights by ``torch.bmm``."""

    def __init__(self, net: Network, params: Params) -> None:
        self.layers: list[tuple[torch.Tensor, torch.Tensor | None, nn.Module, bool]] = []
        for index, layer in enumerate(net.spec.layers):
            t = _layer_tensors(net, params, index)
            bias = t["bias"] if layer.bias else None
            if isinstance(layer.neuron, LIF):
                module = snn.Synaptic(
                    alpha=t["decay_syn"], beta=t["decay_mem"], threshold=t["theta"], reset_mechanism="subtract"
                )
            else:
                module = snn.Leaky(beta=t["decay_mem"], reset_mechanism="none")
            self.layers.append((t["w"], bias, module, isinstance(layer.neuron, LIF)))
        self.population = params.weights.shape[0]
        self.dtype = params.weights.dtype

    def init_state(self) -> list[tuple[torch.Tensor, ...]]:
        p, dtype = self.population, self.dtype
        return [
            (torch.zeros(p, w.shape[2], dtype=dtype), torch.zeros(p, w.shape[2], dtype=dtype))
            if lif
            else (torch.zeros(p, w.shape[2], dtype=dtype),)
            for w, _, _, lif in self.layers
        ]

    def step(self, x: torch.Tensor, state: list[tuple[torch.Tensor, ...]], record: list | None = None):
        """x [P, n_in] -> readout [P, n_out]; `record` (optional) collects each layer's output."""
        new = []
        for w, bias, module, lif in self.layers:
            # snnTorch's spike function returns float32 whatever the input dtype (a no-op in float32).
            cur = torch.bmm(x.to(w.dtype).unsqueeze(1), w).squeeze(1)
            if bias is not None:
                cur = cur + bias
            if lif:
                x, syn, mem = module(cur, *state[len(new)])
                new.append((syn, mem))
            else:
                _, mem = module(cur, *state[len(new)])
                x = mem
                new.append((mem,))
            if record is not None:
                record.append(x)
        return x, new

    def rollout(self, xs: torch.Tensor) -> torch.Tensor:
        state = self.init_state()
        outs = []
        for x in xs:
            y, state = self.step(x, state)
            outs.append(y)
        return torch.stack(outs)


class SnnTorchTutorial(nn.Module):
    """snnTorch (a): one individual as its tutorials write it (``nn.Linear`` + snnTorch neurons, batch 1)."""

    def __init__(self, net: Network, params: Params, individual: int) -> None:
        super().__init__()
        self.fcs, self.lifs = nn.ModuleList(), nn.ModuleList()
        for index, layer in enumerate(net.spec.layers):
            t = {k: v[individual] for k, v in _layer_tensors(net, params, index).items()}
            fc = nn.Linear(t["w"].shape[0], t["w"].shape[1], bias=layer.bias, dtype=params.weights.dtype)
            fc.weight.data.copy_(t["w"].T)
            if layer.bias:
                fc.bias.data.copy_(t["bias"])
            if isinstance(layer.neuron, LIF):
                lif = snn.Synaptic(alpha=t["decay_syn"], beta=t["decay_mem"], threshold=t["theta"])
            else:
                lif = snn.Leaky(beta=t["decay_mem"], reset_mechanism="none")
            self.fcs.append(fc)
            self.lifs.append(lif)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        """xs [T, 1, n_in] -> readout [T, 1, n_out], the tutorial loop (states start at zero)."""
        for lif in self.lifs:
            lif.reset_mem()
        outs = []
        for x in xs:
            for fc, lif in zip(self.fcs, self.lifs, strict=True):
                if isinstance(lif, snn.Synaptic):
                    x, _, _ = lif(fc(x.to(fc.weight.dtype)))
                else:
                    _, x = lif(fc(x.to(fc.weight.dtype)))
            outs.append(x)
        return torch.stack(outs)


# --- correctness ---------------------------------------------------------------------------------------------
def check_agreement(individuals: int, steps: int, seed: int, dtype: torch.dtype) -> dict[str, Any]:
    """Hidden spike rasters and readouts of ours (compiled, stepped), snnTorch (b) and (a) on one short input."""
    net = Network(population_spec(), dtype=dtype)
    params = net.params(net.parameters.sample(individuals, np.random.default_rng(seed)))
    xs = make_inputs(steps, individuals, 2, seed + 1, dtype)
    hidden = slice(net.layout[0].neuron_offset, net.layout[0].neuron_offset + N_HIDDEN)
    with torch.inference_mode():
        state, ours_out, ours_raster = net.init_state(individuals), [], []
        for x in xs:
            y, state = net.step(params, x, state)
            ours_out.append(y)
            ours_raster.append(state.out[:, hidden])
        ours_out, ours_raster = torch.stack(ours_out), torch.stack(ours_raster)
        rollout_out, rollout_state = net.rollout(params, xs, net.init_state(individuals))
        batched = SnnTorchBatched(net, params)
        bstate, b_out, b_raster = batched.init_state(), [], []
        for x in xs:
            record: list[torch.Tensor] = []
            y, bstate = batched.step(x, bstate, record)
            b_out.append(y)
            b_raster.append(record[0])
        b_out, b_raster = torch.stack(b_out), torch.stack(b_raster)
        loop_out = torch.cat([SnnTorchTutorial(net, params, p)(xs[:, p : p + 1]) for p in range(individuals)], 1)
    differ = (ours_raster != b_raster).nonzero()
    first = None
    if len(differ):
        t, p, j = (int(v) for v in differ[0])
        first = {"step": t, "individual": p, "neuron": j}
    ours_counts = ours_raster.sum((0, 2))
    return {
        "dtype": str(dtype).removeprefix("torch."),
        "individuals": individuals,
        "steps": steps,
        "spikes_ours": int(ours_raster.sum()),
        "spikes_snntorch": int(b_raster.sum()),
        "spike_match_fraction": float((ours_raster == b_raster).double().mean()),
        "rasters_identical": bool(torch.equal(ours_raster, b_raster)),
        "first_spike_difference": first,
        "spike_counts_equal_individuals": int((ours_counts == b_raster.sum((0, 2))).sum()),
        "readout_max_abs_diff": float((ours_out - b_out).abs().max()),
        "readout_max_abs": float(ours_out.abs().max()),
        "snntorch_loop_vs_batched_readout_max_abs_diff": float((loop_out - b_out).abs().max()),
        "ours_step_vs_rollout_identical": bool(torch.equal(ours_out, rollout_out)),
        "ours_spike_counter_matches_raster": bool(torch.equal(rollout_state.spikes[:, 0], ours_counts.double())),
    }


# --- timing --------------------------------------------------------------------------------------------------
def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_rollouts(population: int, steps: int, loop_individuals: int, repeats: int, seed: int) -> dict[str, Any]:
    """Best-of-`repeats` whole-rollout times of ours, snnTorch (b) and snnTorch (a) (scaled to P)."""
    net = Network(population_spec())
    genome = net.parameters.sample(population, np.random.default_rng(seed))
    params_s = _timed(lambda: net.params(genome))
    params = net.params(genome)
    xs = make_inputs(steps, population, 2, seed + 1, torch.float32)
    # numba compiles (or loads from its cache) at the first call of each variant; not part of a rollout.
    first_call_s = _timed(lambda: net.rollout(params, xs[:2], net.init_state(population)))
    batched = SnnTorchBatched(net, params)
    loop_xs = xs[:, :loop_individuals]

    def ours() -> None:
        net.rollout(params, xs, net.init_state(population))

    def loop() -> None:
        for p in range(loop_individuals):
            SnnTorchTutorial(net, params, p)(loop_xs[:, p : p + 1])

    times: dict[str, list[float]] = {"ours": [], "snntorch_batched": [], "snntorch_loop": []}
    with torch.inference_mode():
        batched.rollout(xs[:20])  # warm-up of torch's kernels
        for _ in range(repeats):
            times["ours"].append(_timed(ours))
            times["snntorch_batched"].append(_timed(lambda: batched.rollout(xs)))
            times["snntorch_loop"].append(_timed(loop) * population / loop_individuals)
    best = {name: min(values) for name, values in times.items()}
    neuron_steps = population * (N_HIDDEN + 1) * steps
    return {
        "population": population,
        "steps": steps,
        "neurons_per_individual": N_HIDDEN + 1,
        "neuron_steps": neuron_steps,
        "snntorch_loop_individuals_timed": loop_individuals,
        "rollout_s": best,
        "rollout_s_all_repeats": times,
        "neuron_steps_per_s": {name: neuron_steps / value for name, value in best.items()},
        "setup_params_s": params_s,
        "first_call_s_incl_numba_compile_or_cache_load": first_call_s,
    }


def _per_call_us(call: Callable[[], Any], calls: int, warmup: int, repeats: int) -> dict[str, float]:
    """Per-call times in us of `calls` consecutive calls; the run with the lowest median of `repeats`."""
    for _ in range(warmup):
        call()
    runs = []
    for _ in range(repeats):
        samples = np.empty(calls)
        for k in range(calls):
            start = time.perf_counter_ns()
            call()
            samples[k] = time.perf_counter_ns() - start
        runs.append(samples / 1e3)
    best = min(runs, key=np.median)
    return {
        "median_us": float(np.median(best)),
        "mean_us": float(best.mean()),
        "p99_us": float(np.percentile(best, 99)),
        "min_us": float(best.min()),
    }


def time_step_latency(calls: int, repeats: int, seed: int) -> dict[str, Any]:
    """P = 1 blimp controller, one `net.step` per call (state carried), vs the same network in snnTorch."""
    net = Network(blimp_spec())
    params = net.params(net.parameters.sample(1, np.random.default_rng(seed)))
    signal = make_inputs(calls + 1000, 1, 1, seed + 1, torch.float32)
    holder = {"state": net.init_state(1), "k": 0}

    def ours() -> None:
        k = holder["k"] = (holder["k"] + 1) % len(signal)
        _, holder["state"] = net.step(params, signal[k], holder["state"])

    stepper = Stepper(net, params)
    samples = signal.numpy()
    counter = {"k": 0}

    def ours_realtime() -> None:
        k = counter["k"] = (counter["k"] + 1) % len(samples)
        stepper.step(samples[k])

    # The whole control tick of the ROS node (`Stepper.act`): bounds check of [altitude, set-point], the
    # set-point error adapter, the sample hold, the network, the command adapter and saturation.
    ticker = Stepper(net, params)
    guarded = GuardedIO(IOAdapters(ObservationAdapter("setpoint_error", valid=(0.0, 12.0)),
                                   ActionAdapter("affine_clip", low=-3.3, high=3.3)),
                        2, 1, 1, [0.0, 0.0], [20.0, 5.0], -3.3, 3.3, 0.0)  # fmt: skip
    # altitudes kept within the bounds: every timed tick steps the network (a rejected one returns early)
    altitude = np.clip(1.0 - samples[:, 0, 0].astype(np.float64), 0.0, 5.0)
    observations = np.stack([altitude, np.ones(len(samples))], axis=1)

    def ours_tick() -> None:
        k = counter["k"] = (counter["k"] + 1) % len(observations)
        ticker.act(observations[k], guarded)

    batched = SnnTorchBatched(net, params)
    peer = {"state": batched.init_state(), "k": 0}

    def snntorch_step() -> None:
        k = peer["k"] = (peer["k"] + 1) % len(signal)
        _, peer["state"] = batched.step(signal[k], peer["state"])

    with torch.inference_mode():
        result = {
            "network": "paired_encoding(enc, 40) -> Layer(hidden, 80, LIF()) -> leaky_readout(out), n_inputs=1",
            "neurons": net.n_neurons,
            "calls": calls,
            "ours": _per_call_us(ours, calls, warmup=min(1000, calls), repeats=repeats),
            "ours_realtime": _per_call_us(ours_realtime, calls, warmup=min(1000, calls), repeats=repeats),
            "ours_tick": _per_call_us(ours_tick, calls, warmup=min(1000, calls), repeats=repeats),
            "snntorch": _per_call_us(snntorch_step, calls, warmup=min(1000, calls), repeats=repeats),
        }
    return result


# --- report --------------------------------------------------------------------------------------------------
def versions() -> dict[str, Any]:
    """The thread counts and versions the timings ran with (beside `common.machine_info`)."""
    return {
        "torch_threads": torch.get_num_threads(),
        "numba_threads": numba.get_num_threads(),
        "torch": torch.__version__,
        "snntorch": snn.__version__,
        "numba": numba.__version__,
        "numpy": np.__version__,
    }


def run(
    population: int, steps: int, loop_individuals: int, repeats: int, calls: int, check: tuple[int, int], seed: int = 0
) -> dict[str, Any]:
    """All measurements as one result dict (also what the test calls at a tiny size)."""
    machine = {**machine_info(), **versions()}  # (its load average: before the timings)
    load_before = os.getloadavg()
    rollouts = time_rollouts(population, steps, loop_individuals, repeats, seed)  # first: sees numba's first call
    agreement = [check_agreement(check[0], check[1], seed, dtype) for dtype in (torch.float32, torch.float64)]
    step = time_step_latency(calls, repeats, seed)
    best = rollouts["rollout_s"]
    return {
        "benchmark": "snn_step",
        "machine": machine,
        "seed": seed,
        "load_average_1_5_15_min": {"before": list(load_before), "after": list(os.getloadavg())},
        "repeats": repeats,
        "rollout": rollouts,
        "speedup_vs_snntorch_batched": best["snntorch_batched"] / best["ours"],
        "speedup_vs_snntorch_loop": best["snntorch_loop"] / best["ours"],
        "step_p1": step,
        "agreement": agreement,
        "targets": TARGETS,
        "notes": [
            "rollout times: ours = init_state + rollout (compiled numba loop, parallel over individuals); "
            "snnTorch (b) = state allocation + time loop; snnTorch (a) = building each individual's modules + its "
            "time loop, timed for a few individuals and scaled to P. Inputs are prepared once, outside.",
            "setup, not in rollout times: net.params(genome) (setup_params_s) and numba compilation / cache load.",
            "all executors run under torch.inference_mode (no autograd graph) on all cores; the snnTorch "
            "figures are therefore higher than with autograd on.",
            "neuron-steps = P * (80 + 1) * T.",
        ],
    }


def print_report(result: dict[str, Any]) -> None:
    roll, step = result["rollout"], result["step_p1"]
    rate = roll["neuron_steps_per_s"]
    ours_rate = rate["ours"]
    print(
        f"P={roll['population']} x {roll['neurons_per_individual']} neurons x T={roll['steps']}, "
        f"best of {result['repeats']}, {result['machine']['cores']} cores, load {result['load_average_1_5_15_min']}"
    )
    print(f"{'executor':<34}{'rollout s':>12}{'neuron-steps/s':>16}{'ours is x':>11}")
    for name, label in (
        ("ours", "ours (compiled rollout)"),
        ("snntorch_batched", "snnTorch (b) batched bmm"),
        ("snntorch_loop", f"snnTorch (a) loop (x{roll['snntorch_loop_individuals_timed']} scaled)"),
    ):
        print(f"{label:<34}{roll['rollout_s'][name]:>12.3f}{rate[name]:>16.3e}{ours_rate / rate[name]:>11.1f}")
    print(
        f"setup (once): net.params {roll['setup_params_s'] * 1e3:.1f} ms; first call "
        f"{roll['first_call_s_incl_numba_compile_or_cache_load']:.2f} s (numba compile or cache load)"
    )
    print(f"step latency, P=1, {step['neurons']} neurons: {'':<8}{'median us':>10}{'mean us':>10}{'p99 us':>10}")
    for name, label in (("ours", "ours (Network.step)"), ("ours_realtime", "ours (realtime.Stepper, numpy only)"),
                        ("ours_tick", "ours (Stepper.act: the node's whole tick)"), ("snntorch", "snnTorch")):
        s = step[name]
        print(f"  {label:<40}{s['median_us']:>10.1f}{s['mean_us']:>10.1f}{s['p99_us']:>10.1f}")
    for a in result["agreement"]:
        print(
            f"agreement {a['dtype']}: {a['individuals']} individuals x {a['steps']} steps, spikes ours "
            f"{a['spikes_ours']} / snnTorch {a['spikes_snntorch']}, matching {a['spike_match_fraction']:.6f} "
            f"(identical={a['rasters_identical']}, first difference {a['first_spike_difference']}), "
            f"readout max |diff| {a['readout_max_abs_diff']:.2e} of max {a['readout_max_abs']:.2f}"
        )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=integer(1, 1_000_000), default=256)
    parser.add_argument("--steps", type=integer(1, 10_000_000), default=2500)
    parser.add_argument("--repeats", type=integer(1, 1000), default=3)
    parser.add_argument("--loop-individuals", type=integer(1, 1_000_000), default=3,
                        help="individuals timed for snnTorch (a), at most --population")
    parser.add_argument("--calls", type=integer(1, 10_000_000), default=5000,
                        help="step calls timed for the P=1 latency")
    parser.add_argument("--seed", type=seed32_argument, default=0, help="parameters and inputs (default 0)")
    parser.add_argument("--quick", action="store_true", help="small sizes for CI/tests; results are not written")
    parser.add_argument("--output", type=Path, default=None, help=f"results file (default {RESULTS}; --quick: none)")
    args = parser.parse_args(argv)
    if args.quick:
        args.population, args.steps, args.repeats, args.loop_individuals, args.calls = 8, 100, 1, 1, 200
    if args.loop_individuals > args.population:
        parser.error(f"--loop-individuals {args.loop_individuals} must be at most --population {args.population}")
    output = args.output or (None if args.quick else RESULTS)
    if output is not None:
        output = output_file(parser, output, "--output")
    check = (2, 50) if args.quick else (8, 200)
    result = run(args.population, args.steps, args.loop_individuals, args.repeats, args.calls, check, args.seed)
    result["quick"] = args.quick
    line, result["result"] = result_line("snn_step", {
        "speedup_vs_snntorch_batched": result["speedup_vs_snntorch_batched"],
        "speedup_vs_snntorch_loop": (result["speedup_vs_snntorch_loop"], ".1f"),
        "neuron_steps_per_s": (result["rollout"]["neuron_steps_per_s"]["ours"], ".3e"),
        "step_p1_us": (result["step_p1"]["ours"]["median_us"], ".1f"),
        "step_p1_realtime_us": (result["step_p1"]["ours_realtime"]["median_us"], ".1f"),
        "tick_p1_us": (result["step_p1"]["ours_tick"]["median_us"], ".1f")})
    if output is not None:
        write_json(output, result, indent=2)
    print_report(result)
    print(line)
    return result


if __name__ == "__main__":
    main()
