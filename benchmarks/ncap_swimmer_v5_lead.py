"""Why the Swimmer-v5 recipe reads the joint angles ahead (issue #19, docs/swimmer.md): how fast the spiking NCAP
can swim Gymnasium's Swimmer-v5 at all, with proprioception from the joint angles alone (the peer) and from the
angles read `lead` seconds ahead, angle + lead x angular velocity (ours, the recipe's lead 0.5 s).

    .venv/bin/python benchmarks/ncap_swimmer_v5_lead.py [--genomes 300] [--seed 0] [--quick]

Two measurements, both without evolution:
1. Open-loop gaits: full-torque square waves on both joints, the tail's wave lagging the head's by a fraction
   of the stroke, over strokes of 36..80 control steps (0.04 s each); one episode (reset seed 0) each. Shows
   which lag the fast gaits need.
2. The circuit's reach: the same `--genomes` random genomes (drawn with `--seed`) of the spiking NCAP with the
   clock oscillator (excitatory weights uniform in 0..2, inhibitory in -2..0, period uniform in 24..100 steps),
   swum for one training episode (reset seed 0) with each lead in LEADS; the best genome of each lead is then
   swum on 5 held-out episodes (reset seeds 10000..10004).
Returns are Swimmer-v5 returns over 1000 steps (about 1000 x the mean forward speed in m/s). Writes
benchmarks/results/ncap_swimmer_v5_lead.json and ends with
`RESULT ncap_swimmer_v5_lead angles_alone_best=.. lead_best=.. ratio=.. openloop_best=.. openloop_best_lag=..`
(angles_alone_best / lead_best: held-out return of the best random genome without / with the recipe's lead; ratio
lead_best / angles_alone_best, nan where angles_alone_best <= 0).
`--quick` (tests): 6 genomes, 60-step episodes; `--out DIR` writes the results there instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import integer, output_file, ratio, result_line  # noqa: E402

from snncontrol.atomic import write_json  # noqa: E402
from snncontrol.controllers.ncap import ncap_genome, ncap_io, ncap_spec  # noqa: E402
from snncontrol.evaluation.swimming import make_swimmer, swim  # noqa: E402
from snncontrol.seeding import seed_argument  # noqa: E402
from snncontrol.spec import NetworkSpec  # noqa: E402

ENV_ID, N_LINKS, DT = "Swimmer-v5", 3, 0.04
ANGLES, RATES = [1, 2], [6, 7]  # Swimmer-v5 observation indices of the joint angles and their rates
RECIPE_LEAD = 0.5  # s, configs/ncap_swimmer_v5.yaml
LEADS = (0.0, 0.3, 0.5, 0.8, 1.2)  # s
STROKES = (36, 40, 44, 48, 52, 56, 64, 72, 80)  # control steps
LAGS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35)  # fraction of a stroke
EVAL_SEEDS = tuple(range(10_000, 10_005))
OUT = ROOT / "benchmarks" / "results"


def open_loop(steps: int) -> np.ndarray:
    """Return of every (stroke, lag) square-wave gait [len(STROKES), len(LAGS)] over one episode."""
    strokes, lags = (a.ravel() for a in np.meshgrid(STROKES, LAGS, indexing="ij"))
    env = make_swimmer(ENV_ID, strokes.size, steps, None)
    try:
        env.reset(seed=0)
        total = np.zeros(strokes.size)
        for t in range(steps):
            head = np.sign(np.sin(2 * np.pi * t / strokes))
            tail = np.sign(np.sin(2 * np.pi * (t / strokes - lags)))
            _, reward, *_ = env.step(np.stack([head, tail], axis=1))
            total += reward
    finally:
        env.close()
    return total.reshape(len(STROKES), len(LAGS))


def random_genomes(n: int, seed: int = 0) -> tuple[NetworkSpec, np.ndarray]:
    """(spec, genomes [n, 5]): the recipe's circuit with `n` random weights and periods (see the module doc)."""
    spec = ncap_spec(N_LINKS, "spiking", oscillator="clock", period=80, dt=DT)
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.0, 2.0, (n, 4)) * np.array([1, 1, 1, -1])
    periods = rng.uniform(24.0, 100.0, n)
    names = ("proprioceptive", "oscillator", "ipsilateral", "contralateral")
    pairs = zip(weights, periods, strict=True)
    genomes = np.stack([ncap_genome(spec, dict(zip(names, w, strict=True)), p) for w, p in pairs])
    return spec, genomes


def reach(n: int, steps: int, seed: int = 0) -> dict[str, dict]:
    """Per lead: the training returns' best and median, the best genome and its held-out return."""
    spec, genomes = random_genomes(n, seed)
    out = {}
    for lead in LEADS:
        io = ncap_io(N_LINKS, angles=ANGLES, rates=RATES if lead else None, lead=lead)
        train = swim(spec, genomes, io, N_LINKS, (0,), steps=steps, env_id=ENV_ID).returns
        best = int(np.argmax(train))
        held = swim(spec, genomes[best], io, N_LINKS, EVAL_SEEDS, steps=steps, env_id=ENV_ID).copy_returns
        out[f"{lead:g}"] = {
            "training_best": float(train[best]),
            "training_median": float(np.median(train)),
            "best_genome": genomes[best].tolist(),
            "heldout_return": float(held.mean()),
        }
        print(f"lead {lead:g} s: {out[f'{lead:g}']}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genomes", type=integer(1, 1_000_000), default=300,
                        help="random genomes per lead (default 300)")
    parser.add_argument("--seed", type=seed_argument, default=0, help="seed of the random genomes (default 0)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 6 genomes, 60-step episodes")
    parser.add_argument("--out", type=Path, default=OUT, help=f"results directory (default {OUT})")
    args = parser.parse_args(argv)
    n, steps = (6, 60) if args.quick else (args.genomes, 1000)
    output = output_file(parser, args.out / "ncap_swimmer_v5_lead.json", "--out")
    start = time.perf_counter()
    gaits = open_loop(steps)
    i, j = np.unravel_index(np.argmax(gaits), gaits.shape)
    print(f"open loop: best {gaits[i, j]:.1f} at a stroke of {STROKES[i]} steps, tail lag {LAGS[j]} strokes")
    leads = reach(n, steps, args.seed)
    alone, ours = leads["0"]["heldout_return"], leads[f"{RECIPE_LEAD:g}"]["heldout_return"]
    document = {
        "env": ENV_ID,
        "open_loop": {"strokes_steps": list(STROKES), "lags_strokes": list(LAGS), "returns": gaits.tolist()},
        "leads_s": leads,
        "genomes": n,
        "seed": args.seed,
        "episode_steps": steps,
        "elapsed_s": round(time.perf_counter() - start, 1),
        "quick": args.quick,
    }
    line, document["result"] = result_line("ncap_swimmer_v5_lead", {
        "angles_alone_best": (alone, ".1f"), "lead_best": (ours, ".1f"), "ratio": ratio(ours, alone),
        "openloop_best": (gaits[i, j], ".1f"), "openloop_best_lag": (LAGS[j], "")})
    write_json(output, document)
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
