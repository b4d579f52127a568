"""Closed-loop stepping speed of the batched swimmer vs Gymnasium's SyncVectorEnv and the physics-only limit.

64 six-link swimmers, 1,000 control steps (0.03 s each, 6 physics steps of 0.005 s), a fixed batched
travelling-sine policy. Three measurements in one run, all on this machine's cores:
- ours: ``SwimmerVectorEnv`` (one ``mujoco.rollout`` call per control step, thread pool on all cores);
- sync: ``gymnasium.vector.SyncVectorEnv`` over 64 ``SwimmerEnv`` (a Python loop over copies);
- physics limit: one open-loop ``mujoco.rollout`` of the same model, controls and steps on all cores.
Throughput is env-steps/s (control steps of one copy per second); best of ``--repeats`` interleaved runs for each
(the sync peer steps its copies one after another in one thread, as Gymnasium's SyncVectorEnv does; ours and the
limit use every core). `--seed` (default 0) draws the copies' phase offsets and seeds the resets.
Writes benchmarks/results/sim_step.json (with the CPU model and load average) and prints a RESULT line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np
from mujoco import rollout

from sim_envs import SwimmerEnv, SwimmerVectorEnv
from snncontrol.seeding import seed32_argument

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import integer, machine_info, output_file, result_line

from snncontrol.atomic import json_ready, write_json

N_ENVS = 64
N_LINKS = 6
RESULTS = Path(__file__).parent / "results" / "sim_step.json"


def policy(step: int, dt: float, phase: np.ndarray) -> np.ndarray:
    """Travelling sine wave [N_ENVS, n_joints]: 0.5 Hz, pi/2 lag per joint, a per-copy phase offset."""
    joints = np.arange(N_LINKS - 1)[None, :]
    return np.sin(2 * np.pi * 0.5 * step * dt - np.pi / 2 * joints + phase[:, None])


def run_closed_loop(env: gym.vector.VectorEnv, steps: int, dt: float, phase: np.ndarray, seed: int = 0) -> float:
    """Seconds for ``steps`` closed-loop control steps (policy included)."""
    env.reset(seed=seed)
    start = time.perf_counter()
    for k in range(steps):
        env.step(policy(k, dt, phase))
    return time.perf_counter() - start


def run_physics_limit(steps: int, dt: float, phase: np.ndarray, threads: int) -> float:
    """Seconds for one open-loop rollout of all copies over the same controls and physics steps."""
    env = SwimmerEnv(n_links=N_LINKS)
    model, frame_skip = env.core.model, env.core.frame_skip
    data = mujoco.MjData(model)
    state0 = np.zeros(mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_FULLPHYSICS))
    mujoco.mj_getState(model, data, state0, mujoco.mjtState.mjSTATE_FULLPHYSICS)
    controls = np.repeat(np.stack([policy(k, dt, phase) for k in range(steps)], axis=1), frame_skip, axis=1)
    states0 = np.tile(state0, (N_ENVS, 1))
    with rollout.Rollout(nthread=threads) as pool:
        datas = [mujoco.MjData(model) for _ in range(threads)]
        start = time.perf_counter()
        pool.rollout([model] * N_ENVS, datas, states0, controls)
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=integer(1, 1_000_000), default=1000)
    parser.add_argument("--repeats", type=integer(1, 1000), default=3)
    parser.add_argument("--seed", type=seed32_argument, default=0, help="phase offsets and resets (default 0)")
    args = parser.parse_args(argv)
    output = output_file(parser, RESULTS, "the result file")
    threads = os.cpu_count() or 1
    machine = machine_info()  # (its load average: before the timings)
    phase = np.random.default_rng(args.seed).uniform(0, 2 * np.pi, N_ENVS)

    ours_env = SwimmerVectorEnv(N_ENVS, n_links=N_LINKS, n_threads=threads)
    dt = ours_env.dt
    sync_env = gym.vector.SyncVectorEnv([lambda: SwimmerEnv(n_links=N_LINKS) for _ in range(N_ENVS)])
    # Interleaved repeats, each timed the same way (the best of them counts), so that load from other processes
    # hits the peer, ours and the limit alike.
    timings = [
        (
            run_closed_loop(sync_env, args.steps, dt, phase, args.seed),
            run_closed_loop(ours_env, args.steps, dt, phase, args.seed),
            run_physics_limit(args.steps, dt, phase, threads),
        )
        for _ in range(args.repeats)
    ]
    sync_env.close()
    ours_env.close()
    sync, ours, limit = (min(column) for column in zip(*timings, strict=True))

    env_steps = N_ENVS * args.steps
    result = {
        "benchmark": "sim_step",
        "machine": machine,
        "load_average_after": list(os.getloadavg()),
        "seed": args.seed,
        "n_envs": N_ENVS,
        "n_links": N_LINKS,
        "control_steps": args.steps,
        "physics_steps_per_control_step": round(dt / 0.005),
        "threads": threads,
        "mujoco": mujoco.__version__,
        "gymnasium": gym.__version__,
        "env_steps_per_s": {"ours": env_steps / ours, "sync_vector_env": env_steps / sync,
                            "physics_limit": env_steps / limit},
        "speedup_vs_syncvector": sync / ours,
        "fraction_of_physics_limit": limit / ours,
        "targets": {"speedup_vs_syncvector": 3.0, "fraction_of_physics_limit": 0.7},
    }
    line, result["result"] = result_line("sim_step", {
        "speedup_vs_syncvector": result["speedup_vs_syncvector"],
        "fraction_of_physics_limit": (result["fraction_of_physics_limit"], ".3f"),
        "env_steps_per_s": (env_steps / ours, ".0f")})
    write_json(output, result, indent=2)
    print(json.dumps(json_ready(result), indent=2))
    print(line)


if __name__ == "__main__":
    main()
