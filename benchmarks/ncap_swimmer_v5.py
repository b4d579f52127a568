"""NCAP on Gymnasium's Swimmer-v5 (issue #19): spiking NCAP (clock oscillator, 4 shared weights + the period)
vs graded NCAP (4 shared weights, 40-step ring) vs MLP(64, 64), each evolved with the same separable CMA-ES
from its initialization and the same budget of 500 episode evaluations (configs/ncap_swimmer_v5{,_graded,_mlp}.yaml),
5 seeds each; then the spiking NCAP given 5,000 evaluations (seed 0), against Gymnasium's reward threshold 360.
Returns are Swimmer-v5 returns over its 1000-step (40 s) episodes, about 1000 x the mean forward speed in m/s.

    .venv/bin/python benchmarks/ncap_swimmer_v5.py [--seeds 5] [--runs runs/ncap_swimmer_v5] [--quick]

Held-out return: each run's champion (best/) on 5 new episodes (reset seeds 10000..10004), mean over the
seeds (and std). Learning curves: best-so-far training return vs episode evaluations, mean +- std over seeds.
Finished runs in RUNS/<config>/seed<k> of the same config are reused (delete them to re-evolve). Writes
benchmarks/results/ncap_swimmer_v5.json and .png and ends with
`RESULT ncap_swimmer_v5 spiking_return_500=.. graded_return_500=.. mlp_return_500=.. spiking_worst_500=..
graded_worst_500=.. mlp_worst_500=.. spiking_over_mlp=.. spiking_over_graded=.. spiking_best_5000=..`
(*_worst_500: the held-out return of the worst seed's champion; spiking_over_*: the spiking NCAP's mean held-out
return over the peer's, nan where the peer's is not positive; spiking_best_5000: the held-out return of the
5,000-evaluation champion; the JSON's `result` holds the same). `--quick` (tests): 2 generations of
50-step episodes, 1 seed, 3 generations for the long run; writes its results under RUNS/results instead.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import integer, output_file, ratio, result_line  # noqa: E402
from ncap_learning import Runs, read_logbook  # noqa: E402

from evolution.config import ExperimentConfig, load_config  # noqa: E402
from evolution.errors import ConfigError  # noqa: E402
from snncontrol.atomic import write_json  # noqa: E402
from snncontrol.controllers.ncap import ncap_period  # noqa: E402
from snncontrol.evaluation.swimming import swim  # noqa: E402

CONFIGS = {
    "spiking NCAP": "ncap_swimmer_v5",
    "graded NCAP": "ncap_swimmer_v5_graded",
    "MLP(64, 64)": "ncap_swimmer_v5_mlp",
}
ENV_ID, N_LINKS = "Swimmer-v5", 3
EVAL_SEEDS = tuple(range(10_000, 10_005))
THRESHOLD = 360.0  # Gymnasium's reward threshold for Swimmer
LONG_EVALS = 5000
OUT = ROOT / "benchmarks" / "results"


def config(name: str, seed: int, generations: int | None = None, steps: int | None = None) -> ExperimentConfig:
    return load_config(
        ROOT / "configs" / f"{name}.yaml", seed=seed, generations=generations, **{"fitness.env.episode_steps": steps}
    )


def evolve(cfg: ExperimentConfig, run_dir: Path) -> Path:
    """Run one evolution in `run_dir`, or reuse it if it finished (its logbook has every generation) from this
    very experiment (its saved config.yaml, read as the config schema reads it today, is the same experiment as
    `cfg`: an edited config file re-evolves; a field the schema gained since, or a run setting, does not)."""
    from evolution.runner import Experiment

    logbook, saved = run_dir / "logbook.csv", run_dir / "config.yaml"
    finished = (run_dir / "best").is_dir() and logbook.is_file() and len(read_logbook(logbook)) >= cfg.generations
    if finished and saved.is_file() and same_experiment(saved, cfg):
        return run_dir
    shutil.rmtree(run_dir, ignore_errors=True)
    start = time.perf_counter()
    Experiment(cfg, run_dir, quiet=True).run()
    print(f"  evolved {cfg.name} seed {cfg.seed}: {time.perf_counter() - start:.0f} s", flush=True)
    return run_dir


def same_experiment(saved: Path, cfg: ExperimentConfig) -> bool:
    """Whether the config.yaml a run saved describes the experiment `cfg` (run settings aside)."""
    try:
        return load_config(saved).experiment_dict() == cfg.experiment_dict()
    except ConfigError:  # a config the schema no longer reads: another experiment
        return False


def heldout(runs: Runs, steps: int) -> np.ndarray:
    """Held-out return of every run's champion [S] on the EVAL_SEEDS episodes."""
    return swim(runs.spec, runs.genomes, runs.io, N_LINKS, EVAL_SEEDS, steps=steps, env_id=ENV_ID).returns


def row(label: str, runs: Runs, returns: np.ndarray) -> dict:
    periods = [ncap_period(runs.spec, g) for g in runs.genomes] if label != "MLP(64, 64)" else []
    out = {
        "parameters": runs.spec.parameters.size,
        "heldout_return_mean": float(returns.mean()),
        "heldout_return_std": float(returns.std()),
        "heldout_return_worst": float(returns.min()),  # the worst seed's champion
        "heldout_returns": returns.tolist(),
        "training_best": runs.training_best,
        "periods_steps": periods,
        "evaluations": int(runs.curves[0][0][-1]),
        "seeds": len(runs.run_dirs),
    }
    print(f"{label}: {out}", flush=True)
    return out


def plot(curves: dict[str, dict], long: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    from snncontrol.evaluation.plots import save_figure

    fig, (ax, ax_long) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for label, curve in curves.items():
        best = np.array(curve["best"])
        mean, std = best.mean(0), best.std(0)
        (line,) = ax.plot(curve["evals"], mean, label=label)
        ax.fill_between(curve["evals"], mean - std, mean + std, color=line.get_color(), alpha=0.2)
    ax.set(xlabel="episode evaluations", ylabel="best-so-far training return", title="Swimmer-v5, separable CMA-ES")
    ax.legend(loc="lower right")
    ax_long.plot(long["evals"], long["best"], label="spiking NCAP, seed 0")
    ax_long.axhline(THRESHOLD, color="k", linestyle="--", label=f"Gymnasium threshold {THRESHOLD:.0f}")
    ax_long.set(xlabel="episode evaluations", ylabel="best-so-far training return", ylim=(0, THRESHOLD * 1.1))
    ax_long.legend(loc="lower right")
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=integer(1, 1000), default=5)
    parser.add_argument("--runs", default=str(ROOT / "runs" / "ncap_swimmer_v5"))
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny budget, results under RUNS/results")
    args = parser.parse_args(argv)
    runs_root = Path(args.runs)
    seeds = range(1 if args.quick else args.seeds)
    gens, steps, long_gens = (2, 50, 3) if args.quick else (None, None, None)
    out = runs_root / "results" if args.quick else OUT
    output = output_file(parser, out / "ncap_swimmer_v5.json", "the result file")
    plot_path = output_file(parser, out / "ncap_swimmer_v5.png", "the plot")
    start = time.perf_counter()
    rows, curves = {}, {}
    for label, name in CONFIGS.items():
        cfgs = [config(name, seed, gens, steps) for seed in seeds]
        runs = Runs.read([evolve(cfg, runs_root / name / f"seed{cfg.seed}") for cfg in cfgs])
        rows[label] = row(label, runs, heldout(runs, cfgs[0].fitness.env.episode_steps))
        curves[label] = {"evals": runs.curves[0][0].tolist(), "best": [c[1].tolist() for c in runs.curves]}
    short = config(CONFIGS["spiking NCAP"], 0, gens, steps)
    population = short.strategy.population
    long_cfg = config(CONFIGS["spiking NCAP"], 0, long_gens or LONG_EVALS // population, steps)
    long_runs = Runs.read([evolve(long_cfg, runs_root / f"{long_cfg.name}_5000" / "seed0")])
    long_return = float(heldout(long_runs, long_cfg.fitness.env.episode_steps)[0])
    long = {
        "evals": long_runs.curves[0][0].tolist(),
        "best": long_runs.curves[0][1].tolist(),
        "heldout_return": long_return,
        "training_best": long_runs.training_best[0],
        "period_steps": ncap_period(long_runs.spec, long_runs.genomes[0]),
        "threshold": THRESHOLD,
    }
    elapsed = time.perf_counter() - start
    print(f"spiking NCAP, {long['evals'][-1]} evaluations: held-out {long_return:.1f}, threshold {THRESHOLD:.0f}")
    spiking, graded, mlp = (rows[label] for label in CONFIGS)
    line, result = result_line("ncap_swimmer_v5", {
        "spiking_return_500": (spiking["heldout_return_mean"], ".1f"),
        "graded_return_500": (graded["heldout_return_mean"], ".1f"),
        "mlp_return_500": (mlp["heldout_return_mean"], ".1f"),
        "spiking_worst_500": (spiking["heldout_return_worst"], ".1f"),
        "graded_worst_500": (graded["heldout_return_worst"], ".1f"),
        "mlp_worst_500": (mlp["heldout_return_worst"], ".1f"),
        "spiking_over_mlp": ratio(spiking["heldout_return_mean"], mlp["heldout_return_mean"]),
        "spiking_over_graded": ratio(spiking["heldout_return_mean"], graded["heldout_return_mean"]),
        "spiking_best_5000": (long_return, ".1f"),
    })
    document = {
        "env": ENV_ID,
        "eval_seeds": list(EVAL_SEEDS),
        "table": rows,
        "curves": curves,
        "long": long,
        "elapsed_s": round(elapsed, 1),
        "quick": args.quick,
        "result": result,
    }
    write_json(output, document)
    plot(curves, long, plot_path)
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
