"""The narrow-band tables and plots of docs/blimp.md's history (run after benchmarks/blimp_pipeline.py):

    .venv/bin/python benchmarks/blimp_report.py [--plants 20] [--seed 100]

1. Open loop: held-out test loss MAE + (1 - pearson) of each PD-SNN hidden variant (runs/blimp_pd_*/best) beside
   the paper's, and of the I-SNN; benchmarks/results/blimp_mimicry.png (test flights, target vs SNN).
2. Closed loop (`snncontrol.evaluation.blimp_eval`, plants seed .. seed + plants - 1, calm and disturbed): the
   PD-SNN alone, the PD+I mimics side by side (I-SNN from the paper's data or from blimp flights), each
   fine-tuned closed loop, the fine-tuned PD-SNN beside the constructed integrator I-SNN, that PD-SNN
   fine-tuned again with the integrator fixed, the constructed spiking PD beside the integrator (shipped until
   2026-12-06) and
   its decays fine-tuned, and the reference PID: does each stage help?
   benchmarks/results/blimp_flight.png: that constructed controller beside the PID in the first plant. Every
   table here is the narrow band's (docs/blimp.md's history); the envelope tables: benchmarks/blimp_closed_loop.py.
3. Integration: each I-SNN's command after 10 and 30 s of a constant error (does it integrate?); proportional
   maps: each PD-SNN's command (mean and std over 20 s) on constant errors of 0.5 to 20 cm, beside the reference
   PD's (does it see small errors, and is it steady?).
4. Two objectives: the NSGA-II front (runs/blimp_pd_i_nsga2/pareto) re-scored on 8 fixed validation episodes
   beside the fine-tuned controller; benchmarks/results/blimp_pareto.png.
Writes benchmarks/results/blimp_report.json and ends with `RESULT blimp_report stage=constructed_pd_i
ss_disturbed_cm=... pid_ss_disturbed_cm=... overshoot_cm=... pid_overshoot_cm=... pid_over_snn_overshoot=...`: the
disturbed figures of the stage `GRADED_STAGE` (the constructed spiking PD + integrator shipped until 2026-12-06,
the one docs/benchmarks.md quotes) beside the PID's (the JSON's `result` holds the same). A missing run is left
out of its table or plot; without the graded stage's run (`GRADED_RUN`) the tables of the runs there are printed,
nothing under benchmarks/results is replaced, and the line is `RESULT blimp_report stage=constructed_pd_i
status=missing_stage` (exit status 1).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import integer, output_file, ratio, result_line  # noqa: E402

from evolution.config import load_config  # noqa: E402
from evolution.fitness import build_fitness  # noqa: E402
from evolution.problem import Problem  # noqa: E402
from evolution.run_dir import non_dominated  # noqa: E402
from snncontrol.artifacts import load_controller, read_artifact  # noqa: E402
from snncontrol.atomic import write_json  # noqa: E402
from snncontrol.commands.eval_blimp import table  # noqa: E402
from snncontrol.compose import split_genome  # noqa: E402
from snncontrol.controllers.blimp.integrator import blimp_parts, constant_error_response  # noqa: E402
from snncontrol.controllers.pid import BLIMP_PID  # noqa: E402
from snncontrol.evaluation.blimp_eval import evaluate  # noqa: E402
from snncontrol.evaluation.plots import plot_flight, save_figure  # noqa: E402
from snncontrol.network import Network  # noqa: E402
from snncontrol.seeding import seed_argument  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
RUNS = ROOT / "runs"
PID_ROW = "PID (reference)"
#: The stage the RESULT line grades, the one docs/benchmarks.md quotes: (its key there, its name in the tables).
GRADED_STAGE = ("constructed_pd_i", "constructed spiking PD + integrator (shipped until 2026-12-06)")
#: Its controller: without it the report is not written (the committed one stays) and the RESULT line says so.
GRADED_RUN = RUNS / "blimp_pd_i_constructed" / "best"
PLOTS = {"mimicry": RESULTS / "blimp_mimicry.png", "flight": RESULTS / "blimp_flight.png",
         "pareto": RESULTS / "blimp_pareto.png"}
MAP_ERRORS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2)  # m
PAPER_TEST_LOSS = {"lif": 0.68, "iwta": 0.74, "rlif": 0.74, "riwta": 0.73}
NAMES = {
    "lif": "PD-SNN, LIF",
    "iwta": "PD-SNN, IWTA-LIF",
    "rlif": "PD-SNN, R-LIF",
    "riwta": "PD-SNN, R-IWTA-LIF",
    "i_iwta": "I-SNN, IWTA-LIF, double integrator (paper's data)",
    "i_blimp_iwta": "I-SNN, IWTA-LIF, blimp flights",
}


def last_row(run: Path) -> dict[str, str]:
    with open(run / "logbook.csv") as handle:
        return [row for row in csv.DictReader(handle) if row.get("test_loss")][-1]


def mimicry_rows() -> dict[str, dict[str, float]]:
    rows = {}
    for key in (*PAPER_TEST_LOSS, "i_iwta", "i_blimp_iwta"):
        run = RUNS / (f"blimp_pd_{key}" if key in PAPER_TEST_LOSS else f"blimp_{key}")
        if not (run / "best").is_dir():
            continue
        row = last_row(run)
        spec, *_ = read_artifact(run / "best")
        rows[key] = {"test_loss": float(row["test_loss"]), "train_loss": float(row["train_loss"]),
                     "generations": int(row["gen"]) + 1, "minutes": float(row["elapsed_s"]) / 60,
                     "parameters": spec.parameters.size, "neurons": spec.n_neurons,
                     "paper_test_loss": PAPER_TEST_LOSS.get(key, float("nan"))}
    return rows


def plot_mimicry(path: Path) -> Path | None:
    """Target vs SNN on a held-out test flight, one panel per mimic whose run and dataset are there (None, no
    plot, where none is)."""
    import matplotlib.pyplot as plt

    panels = [("blimp_pd_lif", "out/blimp_pd.npz", "PD-SNN (LIF)"),
              ("blimp_i_iwta", "out/blimp_i.npz", "I-SNN (IWTA), the paper's double integrator"),
              ("blimp_i_blimp_iwta", "out/blimp_i_blimp.npz", "I-SNN (IWTA), blimp flights")]
    panels = [panel for panel in panels if (RUNS / panel[0] / "best").is_dir() and (ROOT / panel[1]).is_file()]
    if not panels:
        return None
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 8 * len(panels) / 3), constrained_layout=True,
                             squeeze=False)
    for ax, (run, dataset, title) in zip(axes[:, 0], panels, strict=True):
        spec, genome, _, _ = read_artifact(RUNS / run / "best")
        with np.load(ROOT / dataset, allow_pickle=False) as npz:
            x, target = npz["test_inputs"][0], npz["test_targets"][0, :, 0]
        net = Network(spec)
        out, _ = net.rollout(net.params(genome), torch.as_tensor(x[:, None, :]), net.init_state(1))
        t = np.arange(len(target)) * spec.dt
        ax.plot(t, target, "k", lw=1, label="reference controller")
        ax.plot(t, out[:, 0, 0].numpy(), lw=0.8, label="SNN")
        ax.set(title=f"{title}, held-out test flight", ylabel="command u")
        ax.legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("time (s)")
    return save_figure(fig, path)


def closed_loop(plants: int, seed: int) -> dict[str, dict[str, dict[str, float]]]:
    """Figures of each stage's controller in both conditions; the PID once (it is the same in every row)."""
    stages = {"PD-SNN alone (mimic)": RUNS / "blimp_pd_lif" / "best",
              "PD+I mimics, I from the paper's data": RUNS / "blimp_pd_i" / "composite_di",
              "PD+I mimics, I from blimp flights": RUNS / "blimp_pd_i" / "composite",
              "PD+I (paper's I data) fine-tuned": RUNS / "blimp_pd_i_di_finetune" / "best",
              "PD+I fine-tuned closed loop, 1,000 generations": RUNS / "blimp_pd_i_finetune" / "best",
              "PD+I fine-tuned, 1,000 more generations": RUNS / "blimp_pd_i_finetune3" / "best",
              "PD+I fine-tuned, stage 2 with an overshoot term": RUNS / "blimp_pd_i_finetune2" / "best",
              "1,000 more, then the overshoot term (16 validation episodes)": RUNS / "blimp_pd_i_finetune4" / "best",
              "its PD-SNN + constructed integrator I-SNN": RUNS / "blimp_pd_i_integrator" / "composite",
              "that PD-SNN fine-tuned, integrator fixed": RUNS / "blimp_pd_i_integrator_finetune" / "best",
              "then on the steady-state error": RUNS / "blimp_pd_i_steady_finetune" / "best",
              GRADED_STAGE[1]: GRADED_RUN,
              "that with its PD-SNN's decays fine-tuned": RUNS / "blimp_pd_i_constructed_finetune" / "best"}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for condition in ("calm", "disturbed"):
        out[condition], pid = {}, {}
        for name, path in stages.items():
            if not path.is_dir():
                continue
            results = evaluate(load_controller(path), condition, plants, seed)
            out[condition][name], pid = results["SNN"].figures, results["PID"].figures
        if pid:  # (flown beside a stage: without any run, no row)
            out[condition][PID_ROW] = pid
    return out


def integration_check() -> dict[str, dict[str, float]]:
    """Does each I-SNN integrate? Its command (from rest) after 10 and 30 s of a constant +1 cm and +5 cm error:
    an integrator's keeps growing, a proportional map's stays where it is."""
    networks = {name: read_artifact(path)[:2] for name, path in (
        ("I-SNN mimic, the paper's data", RUNS / "blimp_i_iwta" / "best"),
        ("I-SNN mimic, blimp flights", RUNS / "blimp_i_blimp_iwta" / "best")) if path.is_dir()}
    if GRADED_RUN.is_dir():
        old_spec, old_genome, _, _ = read_artifact(GRADED_RUN)
        parts = blimp_parts(old_spec)
        assert parts is not None, "the constructed controller is a PD+I composite"
        networks["I-SNN, constructed integrator (shipped until 2026-12-06, gain 0.025)"] = (
            parts[1], split_genome(parts, old_genome)[1])
    out = {}
    for name, (spec, genome) in networks.items():
        u = constant_error_response(spec, genome, np.array([0.01, 0.05]), 300)
        out[name] = {f"u_{cm}cm_{s}s": float(u[10 * s - 1, k]) for k, cm in enumerate((1, 5)) for s in (10, 30)}
    return out


def proportional_maps() -> dict[str, dict[str, list[float]]]:
    """Each PD-SNN's command on constant errors from rest: mean and std over 10-30 s, per error in `MAP_ERRORS`."""
    sources = {"PD-SNN mimic (LIF)": RUNS / "blimp_pd_lif" / "best",
               "PD-SNN fine-tuned beside the integrator": RUNS / "blimp_pd_i_integrator_finetune" / "best",
               "constructed spiking PD (shipped until 2026-12-06)": GRADED_RUN,
               "that, decays fine-tuned": RUNS / "blimp_pd_i_constructed_finetune" / "best"}
    out = {"reference PD": {"mean": [BLIMP_PID.kp * e for e in MAP_ERRORS], "std": [0.0] * len(MAP_ERRORS)}}
    for name, path in sources.items():
        if not Path(path).is_dir():
            continue
        spec, genome, _, _ = read_artifact(path)
        parts = blimp_parts(spec)
        if parts is not None:
            spec, genome = parts[0], split_genome(parts, genome)[0]
        u = constant_error_response(spec, genome, np.array(MAP_ERRORS), 300)[100:]
        out[name] = {"mean": u.mean(axis=0).tolist(), "std": u.std(axis=0).tolist()}
    return out


def plot_shipped_flight(path: Path, seed: int) -> Path:
    """The constructed controller shipped until 2026-12-06 (`GRADED_RUN`) beside the PID in the first calm plant
    of the narrow band: altitude, command, spike raster."""
    results = evaluate(load_controller(GRADED_RUN), "calm", plants=1, seed=seed, record_spikes=True)
    flights = {name: r.flights[0] for name, r in results.items()}
    return plot_flight(flights, path, spikes=np.asarray(results["SNN"].per_plant["spikes"])[0])


def plot_pareto(front_cm: np.ndarray, front_nw: np.ndarray, own_cm: float, own_nw: float, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.scatter(front_cm, front_nw, s=14, label="NSGA-II front (re-scored)")
    ax.scatter([own_cm], [own_nw], marker="*", s=120, c="k", label="fine-tuned PD+I")
    ax.set(xlabel="time-weighted tracking error (cm)", ylabel="synaptic power (nW)",
           title="PD+I SNN: tracking error vs energy, 8 disturbed episodes")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def pareto(path: Path | None) -> dict[str, object] | None:
    """The NSGA-II front and the fine-tuned controller on the same 8 fixed validation episodes (plotted to `path`
    unless None)."""
    front_file = RUNS / "blimp_pd_i_nsga2" / "pareto" / "front.npz"
    tuned = RUNS / "blimp_pd_i_finetune" / "best"
    if not front_file.is_file() or not tuned.is_dir():
        return None
    config = load_config(ROOT / "configs" / "blimp_pd_i_nsga2.yaml")
    controller = load_controller(tuned)
    fitness = build_fitness(config, Problem(controller.spec, controller.genome, controller.io))
    with np.load(front_file, allow_pickle=False) as npz:
        genomes = npz["genomes"]
    episodes = fitness.selection_data()  # the config's 8 validation episodes
    front = fitness.evaluate(genomes, episodes)
    own = fitness.evaluate(controller.genome[None], episodes)[0]
    seconds = config.fitness.env.episode_steps * controller.spec.dt  # type: ignore[union-attr]
    front_nw, own_nw = 1e9 * front[:, 1] / seconds, 1e9 * float(own[1]) / seconds
    if path is not None:
        plot_pareto(100 * front[:, 0], front_nw, 100 * float(own[0]), own_nw, path)
    dominated = not non_dominated(np.vstack([own, front]), (-1.0, -1.0))[0]  # (both objectives minimized)
    return {"front_itae_cm": (100 * front[:, 0]).tolist(), "front_power_nw": front_nw.tolist(),
            "finetuned_itae_cm": 100 * float(own[0]), "finetuned_power_nw": own_nw,
            "front_dominates_finetuned": dominated, "front_size": len(front)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=integer(1, 10_000), default=20)
    parser.add_argument("--seed", type=seed_argument, default=100)
    args = parser.parse_args(argv)
    output = output_file(parser, RESULTS / "blimp_report.json", "the result file")
    plots = {name: output_file(parser, path, "a figure") for name, path in PLOTS.items()}
    graded = GRADED_RUN.is_dir()  # else the tables of the runs there are printed, no file replaced
    if not graded:
        print(f"{GRADED_RUN} (the graded stage) is missing: the tables of the runs there follow; "
              f"{output} and its figures are left as they are")
    report: dict[str, object] = {"mimicry": mimicry_rows()}
    print("| network | test loss (ours) | paper | train loss | generations | minutes | parameters |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for key, row in report["mimicry"].items():  # type: ignore[union-attr]
        name = NAMES[key]
        paper = f"{row['paper_test_loss']:.2f}" if np.isfinite(row["paper_test_loss"]) else "-"
        print(f"| {name} | {row['test_loss']:.3f} | {paper} | {row['train_loss']:.3f} | {row['generations']} | "
              f"{row['minutes']:.1f} | {row['parameters']} |")
    if graded:
        plot_mimicry(plots["mimicry"])
    report["closed_loop"] = closed_loop(args.plants, args.seed)
    for condition, figures in report["closed_loop"].items():  # type: ignore[union-attr]
        print(f"\n{condition}, {args.plants} plants (seeds {args.seed}..{args.seed + args.plants - 1}), "
              "median (worst):")
        print("\n".join(table(figures)))
    report["integration"] = integration_check()
    print("\n| I-SNN | command at +1 cm, 10 s | 30 s | at +5 cm, 10 s | 30 s |\n|---|---:|---:|---:|---:|")
    for name, row in report["integration"].items():  # type: ignore[union-attr]
        print(f"| {name} | " + " | ".join(f"{v:+.2f}" for v in row.values()) + " |")
    report["proportional_maps"] = proportional_maps()
    header = " | ".join(f"{100 * e:g} cm" for e in MAP_ERRORS)
    print(f"\n| PD-SNN: command (std) on a constant error of | {header} |\n|---|" + "---:|" * len(MAP_ERRORS))
    for name, row in report["proportional_maps"].items():  # type: ignore[union-attr]
        print(f"| {name} | " + " | ".join(f"{m:+.2f} ({s:.2f})" for m, s in zip(row["mean"], row["std"], strict=True))
              + " |")
    if graded:
        plot_shipped_flight(plots["flight"], args.seed)
    report["pareto"] = pareto(plots["pareto"] if graded else None)
    if report["pareto"] is not None:
        p = report["pareto"]
        print(f"\nNSGA-II front ({p['front_size']} members, re-scored): itae {min(p['front_itae_cm']):.1f}.."  # type: ignore[index]
              f"{max(p['front_itae_cm']):.1f} cm, power {min(p['front_power_nw']):.2f}.."  # type: ignore[index]
              f"{max(p['front_power_nw']):.2f} nW; fine-tuned: {p['finetuned_itae_cm']:.1f} cm, "  # type: ignore[index]
              f"{p['finetuned_power_nw']:.2f} nW; a front member dominates it: {p['front_dominates_finetuned']}")  # type: ignore[index]
    report["graded_stage"] = GRADED_STAGE[1]
    line, report["result"] = result(report["closed_loop"])  # type: ignore[arg-type]
    flown = "status" not in report["result"]  # type: ignore[operator]
    if flown:
        write_json(output, report)
    print(line)
    return 0 if flown else 1


def result(closed_loop: dict[str, dict[str, dict[str, float]]]) -> tuple[str, dict[str, object]]:
    """(the RESULT line, its mapping): the disturbed steady-state error and overshoot of the stage `GRADED_STAGE`
    beside the PID's (the peer, on the same plants), PID overshoot / SNN overshoot; `status=missing_stage` where it
    was not flown (its run is missing)."""
    key, name = GRADED_STAGE
    disturbed = closed_loop.get("disturbed", {})
    if name not in disturbed:
        return result_line("blimp_report", {"stage": key, "status": "missing_stage"})
    pid, snn = disturbed[PID_ROW], disturbed[name]
    return result_line("blimp_report", {
        "stage": key, "ss_disturbed_cm": snn["ss_error_cm_median"], "pid_ss_disturbed_cm": pid["ss_error_cm_median"],
        "overshoot_cm": (snn["overshoot_up_cm_median"], ".1f"),
        "pid_overshoot_cm": (pid["overshoot_up_cm_median"], ".1f"),
        "pid_over_snn_overshoot": ratio(pid["overshoot_up_cm_median"], snn["overshoot_up_cm_median"])})


if __name__ == "__main__":
    sys.exit(main())
