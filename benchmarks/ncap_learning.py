"""NCAP learning comparison: spiking NCAP vs graded NCAP vs MLP(64, 64), evolved with the same strategy and
evaluation budget (configs/ncap_{spiking,graded,mlp}.yaml: a (mu + lambda) GA, 468 episodes per run) on the
6-link swimmer, 5 seeds each; then robustness of the evolved controllers.

    .venv/bin/python benchmarks/ncap_learning.py [--seeds 5] [--runs runs/ncap_learning] [--skip-evolve]

Runs that already finished in RUNS/<config>/seed<k> are reused (delete them to re-evolve). Writes
benchmarks/results/ncap_learning.json and ncap_learning.png (best-so-far return vs evaluations, mean +- std
over seeds) and prints the README tables (markdown):
  - parameters; return at initialization (NCAP: the paper's +1/-1 weights; MLP: its seeded PyTorch-style
    init, one per seed); final return = the run's best/ controller on 5 held-out episodes, mean and std over
    the seeds; evaluations until the best-so-far return first reaches 90 % of its final value (mean over seeds);
  - robustness: mean return of the evolved controllers (all seeds, 5 held-out episodes) unperturbed and with
    observation noise (std 0.1 on every channel), a 10x more viscous and 2x denser fluid, and the dorsal muscle
    of joint 2 silenced; the drop in %.
Ends with `RESULT ncap_learning spiking_final=... graded_final=... mlp_final=... ratio=... params_ratio=...`.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evolution.config import load_config  # noqa: E402
from snncontrol.artifacts import read_artifact  # noqa: E402
from snncontrol.controllers.ncap import Perturbation, mlp_spec, ncap_io, ncap_spec, paper_genome, swim  # noqa: E402
from snncontrol.evaluation.plots import save_figure  # noqa: E402

CONFIGS = {"spiking NCAP": "ncap_spiking", "graded NCAP": "ncap_graded", "MLP(64, 64)": "ncap_mlp"}
N_LINKS = 6
EVAL_SEEDS = tuple(range(10_000, 10_005))
PERTURBATIONS = {
    "none": Perturbation(),
    "obs noise 0.1": Perturbation(obs_noise=0.1),
    "fluid 10x visc, 2x dens": Perturbation(viscosity=1e-2, density=6000.0),
    "dorsal muscle j2 off": Perturbation(silence_dorsal=2),
}
OUT = ROOT / "benchmarks" / "results"


def read_logbook(path: Path) -> list[dict[str, float]]:
    with open(path) as handle:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(handle)]


def evolve(config_name: str, seed: int, runs: Path) -> Path:
    """Run (or reuse) one evolution run; returns its run directory."""
    from evolution.runner import Experiment

    path = ROOT / "configs" / f"{config_name}.yaml"
    config = load_config(path, seed=seed)
    run_dir = runs / config_name / f"seed{seed}"
    logbook = run_dir / "logbook.csv"
    if logbook.is_file() and (run_dir / "best").is_dir() and len(read_logbook(logbook)) >= config.generations:
        return run_dir
    start = time.perf_counter()
    if (run_dir / "checkpoints").is_dir() and any((run_dir / "checkpoints").iterdir()):
        try:  # an interrupted run: continue it
            Experiment(config, run_dir, quiet=True).run(resume=True)
            print(f"  resumed {config_name} seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
            return run_dir
        except Exception as exc:
            print(f"  cannot resume {run_dir} ({exc}); starting over", flush=True)
    shutil.rmtree(run_dir, ignore_errors=True)
    Experiment(config, run_dir, quiet=True).run(resume=False)
    print(f"  evolved {config_name} seed {seed} in {time.perf_counter() - start:.0f} s", flush=True)
    return run_dir


def evals_to_90(rows: list[dict[str, float]]) -> tuple[float, np.ndarray, np.ndarray]:
    evals = np.array([r["evals"] for r in rows])
    best = np.maximum.accumulate(np.array([r["best"] for r in rows]))
    return float(evals[np.argmax(best >= 0.9 * best[-1])]), evals, best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--runs", default=str(ROOT / "runs" / "ncap_learning"))
    parser.add_argument("--skip-evolve", action="store_true", help="only evaluate runs that exist")
    args = parser.parse_args(argv)
    runs = Path(args.runs)
    io = ncap_io(N_LINKS)
    rows, curves, robustness = {}, {}, {}
    if not args.skip_evolve:  # seed by seed, so that an interrupted benchmark has every controller type
        for seed in range(args.seeds):
            for config_name in CONFIGS.values():
                evolve(config_name, seed, runs)
    for label, config_name in CONFIGS.items():
        print(f"{label}:", flush=True)
        run_dirs = [
            runs / config_name / f"seed{seed}"
            for seed in range(args.seeds)
            if (runs / config_name / f"seed{seed}" / "best").is_dir()
            and len(read_logbook(runs / config_name / f"seed{seed}" / "logbook.csv"))
            >= load_config(ROOT / "configs" / f"{config_name}.yaml").generations
        ]
        if not run_dirs:
            print("  no finished runs")
            continue
        if config_name == "ncap_mlp":
            inits = [mlp_spec(N_LINKS, seed=s) for s in range(args.seeds)]
            init_returns = [swim(s, s.parameters.initial(), io, N_LINKS, EVAL_SEEDS).returns[0] for s in inits]
            n_params = inits[0].parameters.size
        else:
            spec = ncap_spec(N_LINKS, config_name.removeprefix("ncap_"))
            init_returns = list(swim(spec, paper_genome(spec), io, N_LINKS, EVAL_SEEDS).copy_returns)
            n_params = spec.parameters.size
        finals, to90, seed_curves, pert = [], [], [], {name: [] for name in PERTURBATIONS}
        for run_dir in run_dirs:
            spec, genome, _, run_io = read_artifact(run_dir / "best")
            for name, perturbation in PERTURBATIONS.items():
                result = swim(spec, genome, run_io, N_LINKS, EVAL_SEEDS, perturbation=perturbation)
                pert[name].append(float(result.returns[0]))
            finals.append(pert["none"][-1])
            n90, evals, best = evals_to_90(read_logbook(run_dir / "logbook.csv"))
            to90.append(n90)
            seed_curves.append((evals, best))
        rows[label] = {
            "config": f"configs/{config_name}.yaml",
            "parameters": n_params,
            "init_return_mean": float(np.mean(init_returns)),
            "init_return_std": float(np.std(init_returns)),
            "final_return_mean": float(np.mean(finals)),
            "final_return_std": float(np.std(finals)),
            "final_returns": finals,
            "evals_to_90_mean": float(np.mean(to90)),
            "evaluations": int(seed_curves[0][0][-1]),
            "seeds": len(run_dirs),
        }
        curves[label] = {"evals": seed_curves[0][0].tolist(), "best": [c[1].tolist() for c in seed_curves]}
        robustness[label] = {name: float(np.mean(values)) for name, values in pert.items()}
        print(f"  {rows[label]}", flush=True)

    print("\n| controller | parameters | return at init | final return (mean ± std) | seeds | evals to 90 % |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, r in rows.items():
        print(
            f"| {label} | {r['parameters']} | {r['init_return_mean']:.0f} ± {r['init_return_std']:.0f} | "
            f"{r['final_return_mean']:.0f} ± {r['final_return_std']:.0f} | {r['seeds']} | {r['evals_to_90_mean']:.0f} |"
        )
    print("\n| controller | " + " | ".join(PERTURBATIONS) + " |")
    print("|---|" + "---:|" * len(PERTURBATIONS))
    for label, values in robustness.items():
        base = values["none"]
        cells = [f"{base:.0f}"] + [
            f"{values[name]:.0f} ({100 * (values[name] - base) / max(base, 1e-9):+.0f} %)"
            for name in list(PERTURBATIONS)[1:]
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for label, curve in curves.items():
        best = np.array(curve["best"])
        mean, std = best.mean(0), best.std(0)
        ax.plot(curve["evals"], mean, label=f"{label} ({rows[label]['parameters']} params)")
        ax.fill_between(curve["evals"], mean - std, mean + std, alpha=0.2)
    ax.set(xlabel="episode evaluations", ylabel="best-so-far return (max 1000)", ylim=(0, 1000),
           title=f"NCAP vs MLP, 6-link swimmer, mean ± std over {args.seeds} seeds")
    ax.legend(loc="lower right")
    save_figure(fig, OUT / "ncap_learning.png")
    document = {"n_links": N_LINKS, "eval_seeds": list(EVAL_SEEDS), "table": rows, "curves": curves,
                "robustness": robustness, "perturbations": {k: vars(v) for k, v in PERTURBATIONS.items()}}
    (OUT / "ncap_learning.json").write_text(json.dumps(document, indent=1) + "\n")
    if {"spiking NCAP", "MLP(64, 64)"} <= set(rows):
        s, m = rows["spiking NCAP"], rows["MLP(64, 64)"]
        print(
            f"RESULT ncap_learning spiking_final={s['final_return_mean']:.1f} "
            f"graded_final={rows.get('graded NCAP', {}).get('final_return_mean', float('nan')):.1f} "
            f"mlp_final={m['final_return_mean']:.1f} "
            f"ratio={s['final_return_mean'] / max(m['final_return_mean'], 1e-9):.2f} "
            f"params_ratio={m['parameters'] / s['parameters']:.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
