"""NCAP learning comparison: spiking NCAP vs graded NCAP vs MLP(64, 64), evolved with the same strategy and
evaluation budget (configs/ncap_{spiking,graded,mlp}.yaml: a (mu + lambda) GA whose first generation is uniform
in the parameter bounds, 468 episodes of 1000 steps per run) on the 6-link swimmer, 5 seeds each; then
robustness of the evolved controllers. Returns are NCAP returns (max 1000 per episode).

    .venv/bin/python benchmarks/ncap_learning.py [--seeds 5] [--runs runs/ncap_learning] [--skip-evolve] [--ship]

Runs that already finished in RUNS/<config>/seed<k> are reused (delete them to re-evolve), interrupted ones
resumed. Writes benchmarks/results/ncap_learning.json and ncap_learning.png (best-so-far training return vs
episode evaluations, mean +- std over seeds, the return at initialization at 0) and prints the README tables:
  - parameters; return at initialization on the 5 held-out episodes (NCAP: the paper's +1/-1 weights, one
    genome, +- over the episodes; MLP: its seeded PyTorch-style init, one per seed, +- over the seeds); final
    return = each run's best/ controller on the 5 held-out episodes, mean and std over the seeds; evaluations
    until a run's best-so-far training return first reaches 90 % of its last value (mean and std over seeds);
  - robustness: mean held-out return of the evolved controllers (all seeds) unperturbed and with observation
    noise (std 0.1 on every channel), a 10x more viscous and 2x denser fluid, and the dorsal muscle of joint 2
    silenced; the change in %.
`--ship` also writes the spiking run with the best final return as the shipped controller
(snncontrol/controllers/swimmer_ncap). Ends with
`RESULT ncap_learning spiking_final=... graded_final=... mlp_final=... spiking_worst=... graded_worst=...
mlp_worst=... ratio=... spiking_init=... mlp_init=... params_ratio=...` (*_worst: the worst seed's final return;
the JSON's `result` holds the same); where the spiking or the MLP runs are missing, `status=missing_runs` and
nan for their figures, and where no run finished `status=no_runs` (both exit with status 1).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import integer, output_file, ratio, result_line  # noqa: E402

from evolution.config import load_config  # noqa: E402
from snncontrol.adapters import IOAdapters  # noqa: E402
from snncontrol.artifacts import Metadata, read_artifact, save_controller  # noqa: E402
from snncontrol.atomic import write_json  # noqa: E402
from snncontrol.controllers import SHIPPED  # noqa: E402
from snncontrol.controllers.ncap import (  # noqa: E402
    SPIKING,
    effective_weights,
    mlp_spec,
    ncap_io,
    ncap_spec,
    ncap_weights,
    paper_genome,
)
from snncontrol.evaluation.swimming import Perturbation, swim  # noqa: E402
from snncontrol.spec import NetworkSpec  # noqa: E402

CONFIGS = {"spiking NCAP": "ncap_spiking", "graded NCAP": "ncap_graded", "MLP(64, 64)": "ncap_mlp"}
N_LINKS = 6
EVAL_SEEDS = tuple(range(10_000, 10_005))  # every run's champion is graded here (and --ship chooses among them)
TEST_SEEDS = tuple(range(20_000, 20_040))  # the shipped one's held-out figure: seeds nothing chose on
PERTURBATIONS = {
    "none": Perturbation(),
    "obs noise 0.1": Perturbation(obs_noise=0.1),
    "fluid 10x visc, 2x dens": Perturbation(viscosity=1e-2, density=6000.0),
    "dorsal muscle j2 off": Perturbation(silence_dorsal=2),
}
OUT = ROOT / "benchmarks" / "results"
COMPARED = {"spiking NCAP", "MLP(64, 64)"}  # the RESULT line's ratio: ours and the peer


def read_logbook(path: Path) -> list[dict[str, float]]:
    with open(path) as handle:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(handle)]


def generations(config_name: str) -> int:
    return load_config(ROOT / "configs" / f"{config_name}.yaml").generations


def finished(run_dir: Path, config_name: str) -> bool:
    logbook = run_dir / "logbook.csv"
    return (run_dir / "best").is_dir() and logbook.is_file() and len(read_logbook(logbook)) >= generations(config_name)


def evolve(config_name: str, seed: int, runs: Path) -> Path:
    """Run (or reuse, or resume) one evolution run; returns its run directory."""
    from evolution.runner import Experiment

    config = load_config(ROOT / "configs" / f"{config_name}.yaml", seed=seed)
    run_dir = runs / config_name / f"seed{seed}"
    if finished(run_dir, config_name):
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
    """(evaluations until the best-so-far return first reaches 90 % of its last value, evals, best-so-far)."""
    evals = np.array([r["evals"] for r in rows])
    best = np.maximum.accumulate(np.array([r["best"] for r in rows]))
    return float(evals[np.argmax(best >= 0.9 * best[-1])]), evals, best


def one_network(specs: list[NetworkSpec]) -> NetworkSpec:
    """The network shared by `specs`, which may differ only in their initial values (the MLP's init seed), so
    that all their genomes swim as one batch."""

    def structure(spec: NetworkSpec) -> dict:
        data = spec.to_dict()
        return {**data, "layers": [{k: v for k, v in layer.items() if k != "init"} for layer in data["layers"]]}

    if any(structure(spec) != structure(specs[0]) for spec in specs[1:]):
        raise ValueError(f"runs of different networks cannot be compared: {sorted({s.name for s in specs})}")
    return specs[0]


def init_returns(config_name: str, seeds: range) -> tuple[int, np.ndarray]:
    """(parameters, held-out returns at initialization): the MLP's seeded inits, one mean return per seed [S];
    NCAP's one paper initialization, one return per held-out episode [E]."""
    if config_name == "ncap_mlp":
        specs = [mlp_spec(N_LINKS, seed=s) for s in seeds]
        genomes = np.stack([s.parameters.initial() for s in specs])
        result = swim(one_network(specs), genomes, ncap_io(N_LINKS), N_LINKS, EVAL_SEEDS)
        return specs[0].parameters.size, result.returns
    spec = ncap_spec(N_LINKS, config_name.removeprefix("ncap_"))
    return spec.parameters.size, swim(spec, paper_genome(spec), ncap_io(N_LINKS), N_LINKS, EVAL_SEEDS).copy_returns


@dataclasses.dataclass
class Runs:
    """The finished runs of one config: their best/ controllers [S] and learning curves."""

    run_dirs: list[Path]
    spec: NetworkSpec
    genomes: np.ndarray
    io: IOAdapters
    training_best: list[float]
    curves: list[tuple[np.ndarray, np.ndarray]]
    to90: list[float]

    @classmethod
    def read(cls, run_dirs: list[Path]) -> Runs:
        artifacts = [read_artifact(run_dir / "best") for run_dir in run_dirs]
        if any(io.to_dict() != artifacts[0][3].to_dict() for _, _, _, io in artifacts):
            raise ValueError(f"runs {run_dirs} use different adapters")
        curves, to90 = [], []
        for run_dir in run_dirs:
            n90, evals, best = evals_to_90(read_logbook(run_dir / "logbook.csv"))
            to90.append(n90)
            curves.append((evals, best))
        return cls(
            run_dirs, one_network([a[0] for a in artifacts]), np.stack([a[1] for a in artifacts]), artifacts[0][3],
            [float(a[2].fitness) for a in artifacts], curves, to90,
        )


def compare(label: str, config_name: str, runs: Runs, seeds: range) -> tuple[dict, dict[str, np.ndarray], dict]:
    """(table row, held-out returns [S] per perturbation, learning curves) of one config's runs."""
    n_params, init = init_returns(config_name, seeds)
    results = {
        name: swim(runs.spec, runs.genomes, runs.io, N_LINKS, EVAL_SEEDS, perturbation=perturbation)
        for name, perturbation in PERTURBATIONS.items()
    }
    returns = {name: result.returns for name, result in results.items()}
    finals, speeds = results["none"].returns, results["none"].speeds
    row = {
        "config": f"configs/{config_name}.yaml",
        "parameters": n_params,
        "init_return_mean": float(np.mean(init)),
        "init_return_std": float(np.std(init)),
        "final_return_mean": float(np.mean(finals)),
        "final_return_std": float(np.std(finals)),
        "final_return_worst": float(np.min(finals)),  # the worst seed's
        "final_returns": finals.tolist(),
        "final_speeds_m_s": speeds.tolist(),
        "evals_to_90_mean": float(np.mean(runs.to90)),
        "evals_to_90_std": float(np.std(runs.to90)),
        "evaluations": int(runs.curves[0][0][-1]),
        "seeds": len(runs.run_dirs),
    }
    print(f"{label}: {row}", flush=True)
    return row, returns, {"evals": runs.curves[0][0].tolist(), "best": [c[1].tolist() for c in runs.curves]}


def print_tables(rows: dict[str, dict], robustness: dict[str, dict[str, float]]) -> None:
    print("\n| controller | parameters | return at init | final return (mean ± std) | seeds | evals to 90 % |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, r in rows.items():
        print(
            f"| {label} | {r['parameters']:,} | {r['init_return_mean']:.0f} ± {r['init_return_std']:.0f} | "
            f"{r['final_return_mean']:.0f} ± {r['final_return_std']:.0f} | {r['seeds']} | "
            f"{r['evals_to_90_mean']:.0f} ± {r['evals_to_90_std']:.0f} |"
        )
    print("\n| controller | " + " | ".join(PERTURBATIONS) + " |")
    print("|---|" + "---:|" * len(PERTURBATIONS))
    for label, values in robustness.items():
        base = values["none"]
        cells = [f"{base:.0f}"] + [
            f"{values[name]:.0f} ({100 * (ratio(values[name], base) - 1):+.0f} %)"
            for name in list(PERTURBATIONS)[1:]
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")


def plot(rows: dict[str, dict], curves: dict[str, dict], path: Path) -> None:
    import matplotlib.pyplot as plt

    from snncontrol.evaluation.plots import save_figure

    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for label, curve in curves.items():
        best = np.array(curve["best"])
        mean, std = best.mean(0), best.std(0)
        (line,) = ax.plot(curve["evals"], mean, label=f"{label} ({rows[label]['parameters']:,} params)")
        ax.fill_between(curve["evals"], mean - std, mean + std, color=line.get_color(), alpha=0.2)
        ax.errorbar(0, rows[label]["init_return_mean"], rows[label]["init_return_std"], color=line.get_color(),
                    marker="o", capsize=3)
    seeds = max(r["seeds"] for r in rows.values())
    ax.set(xlabel="episode evaluations (dot at 0: return at initialization)", ylabel="best-so-far return (max 1000)",
           ylim=(0, 1000), title=f"NCAP vs MLP, 6-link swimmer, GA, mean ± std over {seeds} seeds")
    ax.legend(loc="lower right")
    save_figure(fig, path)


def ship(runs: Runs, finals: np.ndarray, config_name: str) -> Path:
    """Write the run with the best final return (on EVAL_SEEDS, which chose it) as the shipped spiking NCAP
    controller; its held-out figure is its return on TEST_SEEDS."""
    k = int(np.argmax(finals))
    test = swim(runs.spec, runs.genomes[k], runs.io, N_LINKS, TEST_SEEDS)
    weights = ncap_weights(runs.spec, runs.genomes[k])
    run = runs.run_dirs[k]
    metadata = Metadata(
        seed=int(run.name.removeprefix("seed")),
        fitness=float(finals[k]),
        description=(
            "Spiking NCAP swimmer controller (Bhattasali et al. 2022 circuit on LIF neurons), 4 shared "
            f"sign-constrained weights, evolved on the {N_LINKS}-link swimmer (configs/{config_name}.yaml), the "
            "best of benchmarks/ncap_learning.py's runs on its grading episodes. Other bodies: "
            "snncontrol.controllers.ncap.retarget(spec, genome, n_links)."
        ),
        extra={
            "n_links": N_LINKS,
            "config": f"configs/{config_name}.yaml",
            "run": str(run.relative_to(ROOT)) if run.is_relative_to(ROOT) else str(run),
            "weights": weights,
            "effective_weights": effective_weights(weights),
            "selection_return_mean": float(finals[k]),
            "selection_seeds": list(EVAL_SEEDS),
            "heldout_return_mean": float(test.returns[0]),
            "heldout_return_worst": float(test.copy_returns.min()),
            "heldout_speed_mean_m_s": float(test.speeds[0]),
            "heldout_seeds": list(TEST_SEEDS),
            "spiking_constants": dataclasses.asdict(SPIKING),
            "evolution_fitness": runs.training_best[k],
        },
    )
    path = save_controller(SHIPPED["swimmer_ncap"], runs.spec, runs.genomes[k], metadata, runs.io)
    print(f"shipped {run} (return {finals[k]:.1f} on the seeds that chose it, {test.returns[0]:.1f} held out) as "
          f"{path}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=integer(1, 1000), default=5)
    parser.add_argument("--runs", default=str(ROOT / "runs" / "ncap_learning"))
    parser.add_argument("--skip-evolve", action="store_true", help="only evaluate runs that exist")
    parser.add_argument("--ship", action="store_true", help="write the best spiking run as the shipped controller")
    args = parser.parse_args(argv)
    output = output_file(parser, OUT / "ncap_learning.json", "the result file")
    plot_path = output_file(parser, OUT / "ncap_learning.png", "the plot")
    runs_root, seeds = Path(args.runs), range(args.seeds)
    if not args.skip_evolve:  # seed by seed, so that an interrupted benchmark has every controller type
        for seed in seeds:
            for config_name in CONFIGS.values():
                evolve(config_name, seed, runs_root)
    rows, curves, robustness = {}, {}, {}
    for label, config_name in CONFIGS.items():
        run_dirs = [runs_root / config_name / f"seed{s}" for s in seeds]
        run_dirs = [run_dir for run_dir in run_dirs if finished(run_dir, config_name)]
        if not run_dirs:
            print(f"{label}: no finished runs")
            continue
        runs = Runs.read(run_dirs)
        rows[label], returns, curves[label] = compare(label, config_name, runs, seeds)
        robustness[label] = {name: float(np.mean(values)) for name, values in returns.items()}
        if args.ship and config_name == "ncap_spiking":
            ship(runs, returns["none"], config_name)
    line, headline = result(rows)
    if not rows:
        print(line)
        return 1
    print_tables(rows, robustness)
    document = {"n_links": N_LINKS, "eval_seeds": list(EVAL_SEEDS), "table": rows, "curves": curves,
                "robustness": robustness, "perturbations": {k: vars(v) for k, v in PERTURBATIONS.items()},
                "result": headline}
    write_json(output, document)  # before the plot: a plot that fails loses no evaluation
    plot(rows, curves, plot_path)
    print(line)
    return 0 if set(rows) >= COMPARED else 1


def result(rows: dict[str, dict]) -> tuple[str, dict[str, object]]:
    """(the RESULT line of the table rows, its mapping): `status=no_runs` without any, `status=missing_runs` (nan
    for the figures of the missing ones) without the spiking NCAP's or the MLP's; *_worst: the worst seed's final
    return."""
    if not rows:
        return result_line("ncap_learning", {"status": "no_runs"})
    spiking, graded, mlp = (rows.get(label, {}) for label in CONFIGS)
    nan = float("nan")
    status = {} if set(rows) >= COMPARED else {"status": "missing_runs"}
    return result_line("ncap_learning", {
        **status,
        **{f"{name}_final": (row.get("final_return_mean", nan), ".1f")
           for name, row in (("spiking", spiking), ("graded", graded), ("mlp", mlp))},
        **{f"{name}_worst": (row.get("final_return_worst", nan), ".1f")
           for name, row in (("spiking", spiking), ("graded", graded), ("mlp", mlp))},
        "ratio": ratio(spiking.get("final_return_mean", nan), mlp.get("final_return_mean", nan)),
        "spiking_init": (spiking.get("init_return_mean", nan), ".1f"),
        "mlp_init": (mlp.get("init_return_mean", nan), ".1f"),
        "params_ratio": (ratio(mlp.get("parameters", nan), spiking.get("parameters", nan)), ".0f"),
    })


if __name__ == "__main__":
    sys.exit(main())
