"""Evaluations per second of a closed-loop SNN fitness with the serial, process and ray backends.

Population 64, each individual one 20 s episode (200 control steps at 10 Hz) of sim_envs/BlimpAltitude-v0
driven by a paired-encoding -> 10 LIF -> leaky readout SNN (`evolution.builders.paired_lif_readout`).
Serial evaluates the population in one batched call in this process (numba and MuJoCo threads on all
cores); process and ray split it into one chunk per worker (one thread each). Each backend is warmed up
for WARMUP generations (worker start, compilation caches), then timed over `--repeats` generations; the
values of every backend are checked to be identical. Parallel efficiency = rate / (workers x the serial
rate with one thread, as a worker runs); the speedups are against serial as users run it (all threads).
The whole benchmark runs where the only network is the loopback (it restarts itself under
`python -m evolution.loopback`): a local Ray's servers listen on every interface otherwise. Where the kernel
refuses the namespaces that needs, it measures serial and process only, and says so.
Writes benchmarks/results/evolve_throughput.json (with the CPU model and load average) and prints a RESULT line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from evolution import loopback  # standard library only: safe before the workers size their thread pools

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import integer, machine_info, output_file, ratio, result_line  # NumPy and the standard library only

from snncontrol.atomic import write_json

POPULATION = 64
WARMUP = 2  # generations before timing (a pool worker still starting may miss the first one)
RESULTS = Path(__file__).parent / "results" / "evolve_throughput.json"
CONFIG = {
    "seed": 0,
    "generations": 1,
    "network": {"builder": "evolution.builders:paired_lif_readout", "kwargs": {"n_pairs": 5, "n_hidden": 10}},
    "strategy": {"name": "cmaes", "population": POPULATION},
    "fitness": {
        "kind": "closed_loop",
        "env": {
            "id": "sim_envs/BlimpAltitude-v0",
            "kwargs": {"episode_length_s": 20.0},
            "worker_kwargs": {"n_threads": 1},
            "episode_steps": 200,
        },
        "io": {
            "observation": {"kind": "setpoint_error", "measurement": 0, "setpoint": 1},
            "action": {"kind": "affine_clip", "low": -3.3, "high": 3.3},
        },
        "objectives": ["tracking_error"],
    },
}


def measure(name: str, workers: int, repeats: int, one_thread: bool = False) -> tuple[float, np.ndarray]:
    """(evaluations per second, values of the last generation) of one backend; `one_thread`: serial run the
    way a worker runs (one numba / torch / MuJoCo thread), the baseline of the parallel efficiency."""
    # Imported here, not at the top: spawned workers re-import this script as their __main__, and must not
    # start numba's and torch's thread pools before `evolution.worker.limit_threads` sizes them to 1.
    from evolution.backends import build_backend
    from evolution.config import BackendConfig, parse_config
    from evolution.fitness import build_fitness
    from evolution.problem import resolve_network, worker_config
    from evolution.worker import limit_threads

    if one_thread:
        limit_threads()
    config = parse_config(CONFIG)
    problem = resolve_network(config.network)
    fitness = build_fitness(config, problem, worker=one_thread)
    genomes = problem.spec.parameters.sample(POPULATION, np.random.default_rng(0))
    settings = BackendConfig(name=name, workers=None if name == "serial" else workers)  # (serial takes none)
    backend = build_backend(settings, fitness, worker_config(config, problem))
    data = fitness.generation_data(0)
    try:
        for _ in range(WARMUP):  # worker start-up, fitness construction, compilation caches
            values = backend.evaluate(genomes, data)
        start = time.perf_counter()
        for _ in range(repeats):
            values = backend.evaluate(genomes, data)
        elapsed = time.perf_counter() - start
    finally:
        backend.close()
    return POPULATION * repeats / elapsed, values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=integer(1, 10_000), default=3, help="timed generations per backend")
    parser.add_argument("--workers", type=integer(1, 1024), default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    output = output_file(parser, RESULTS, "the result file")
    parallel, left_out = ["process", "ray"], {}
    if not loopback.isolated():
        reason = loopback.unavailable()
        if reason is None:
            sys.exit(loopback.run([sys.executable, __file__, *(sys.argv[1:] if argv is None else argv)]))
        left_out["ray"] = f"{reason}; a local Ray would listen on every interface"
        print(f"ray left out ({left_out['ray']})", flush=True)
        parallel.remove("ray")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    machine = machine_info()  # (its load average: before the timings)
    rates, values = {}, {}
    for name in ("serial", *parallel):
        rates[name], values[name] = measure(name, args.workers, args.repeats)
        print(f"{name:8s} {rates[name]:8.1f} evaluations/s", flush=True)
    rates["serial_1thread"], values["serial_1thread"] = measure("serial", 1, args.repeats, one_thread=True)
    print(f"serial, one thread {rates['serial_1thread']:8.1f} evaluations/s", flush=True)
    identical = all(np.array_equal(values[name], values["serial"]) for name in values)
    speedup = {name: ratio(rates[name], rates["serial"]) for name in parallel}
    efficiency = {name: rates[name] / (args.workers * rates["serial_1thread"]) for name in parallel}
    result = {
        "benchmark": "evolve_throughput",
        "population": POPULATION,
        "episode_steps": CONFIG["fitness"]["env"]["episode_steps"],
        "network": CONFIG["network"],
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
        "machine": machine,
        "repeats": args.repeats,
        "evals_per_s": rates,
        "speedup_vs_serial": speedup,
        "parallel_efficiency": efficiency,
        "notes": "speedup is against serial as users run it (all threads); parallel_efficiency is rate / (workers "
        "x serial_1thread), against one worker's single-threaded rate.",
        "load_average_1_5_15_min": os.getloadavg(),
        "identical_values_across_backends": identical,
        "left_out": left_out,
    }
    line, result["result"] = result_line("evolve_throughput", {
        "serial_evals_per_s": (rates["serial"], ".1f"), **{f"{name}_speedup": speedup[name] for name in parallel}})
    write_json(output, result, indent=2)
    print(line)


if __name__ == "__main__":
    main()
