"""The shipped PD+I SNN beside the reference PID over the blimp's whole operating envelope, in both plant models.

    .venv/bin/python benchmarks/blimp_closed_loop.py [--plants 8] [--seed 9100] [--artifact shipped:blimp]
        [--output benchmarks/results/blimp_closed_loop.json] [--plot PNG]

Protocol (`snncontrol.evaluation.blimp_eval.evaluate_envelope`, the same as `snncontrol eval-blimp`): per band of
hover command (`sim_envs.blimp.envelope.HOVER_BANDS`, -0.5 .. 2.2 in five bands) `--plants` held-out plants
(default 8: 40 per model and condition), set-points 0.5 / 1.0 / 1.5 m held 70 s, calm and disturbed (gusts,
helium leak, 10 % lost returns), in the MuJoCo plant and in the independently formulated 1-D ODE plant. Seeds
9100 .. 9139 by default (`blimp_eval.HELD_OUT_SEED`), never drawn by an evolution run nor flown to choose between
controllers (100 .. 139, the default until 2026-12-06, were, 300 .. 315 chose the seed's gains, and 9000 .. 9039
chose between the shipped genome and a rerun of its config on 2026-12-07). Writes
benchmarks/results/blimp_closed_loop.json and benchmarks/results/blimp_envelope.png (steady-state error against
hover command; with another `--output` X.json, X.png beside it, or `--plot`: comparing candidates leaves the
headline results alone) and ends with

    RESULT blimp_closed_loop targets_met=K/N ss_calm_median_cm=.. ss_disturbed_median_cm=.. ss_worst_cm=..
        contacts=.. overshoot_up_cm=.. pid_overshoot_up_cm=.. overshoot_down_cm=.. pid_overshoot_down_cm=..
        pid_over_snn_overshoot=..

ss_*_median_cm: the largest band median over models (the targets are per band: <= 1.0 calm, <= 2.0 disturbed);
ss_worst_cm: the worst plant anywhere; contacts: plants touching the floor or ceiling after 5 s (SNN);
overshoot_*: the largest band median over models and conditions, SNN and PID (down: over the plants whose first
approach descends); pid_over_snn_overshoot: their ratio for the upward steps. The JSON's `result` holds the same
keys and values; it is written before the plot (a plot path matplotlib cannot render, or the --output file, is
refused before the flights). This is the grade: it flies the held-out plants on purpose (the diagnosis scripts,
e.g. blimp_overshoot.py, refuse them).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import integer, output_file, plot_file, ratio, result_line  # noqa: E402

from snncontrol.artifacts import load_controller  # noqa: E402
from snncontrol.atomic import write_json  # noqa: E402
from snncontrol.commands.eval_blimp import envelope_report, plants_over_bands  # noqa: E402
from snncontrol.controllers import resolve  # noqa: E402
from snncontrol.errors import SnnControlError  # noqa: E402
from snncontrol.evaluation.blimp_eval import HELD_OUT_SEED, EnvelopeResults, evaluate_envelope  # noqa: E402
from snncontrol.evaluation.plots import plot_envelope  # noqa: E402
from snncontrol.seeding import seed_argument  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
OUT = RESULTS / "blimp_closed_loop.json"
PLOT = RESULTS / "blimp_envelope.png"  # the plot of the default --output


def largest(results: EnvelopeResults, controller: str, key: str, conditions: tuple[str, ...]) -> float:
    """The largest value of figure `key` of `controller` over models, the given conditions and bands (NaN, a band
    where no plant stepped that way, has no say)."""
    return np.nanmax([
        by_band[band][controller].figures[key]
        for by_condition in results.values()
        for condition, by_band in by_condition.items()
        if condition in conditions
        for band in by_band
    ])


def plot_beside(output: Path) -> Path:
    """The envelope plot's default path for the result file `output`: blimp_envelope.png beside the default one
    (the headline figures), else `output` with .png (a candidate's run overwrites no headline)."""
    return PLOT if output.resolve() == OUT.resolve() else output.with_suffix(".png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=integer(1, 10_000), default=8,
                        help="plants per band (default 8: 40 per model)")
    parser.add_argument("--seed", type=seed_argument, default=HELD_OUT_SEED)
    parser.add_argument("--artifact", default="shipped:blimp")
    parser.add_argument("--output", type=Path, default=OUT, help=f"result JSON (default {OUT.relative_to(ROOT)})")
    parser.add_argument("--plot", type=Path, default=None,
                        help=f"envelope plot (default {PLOT.relative_to(ROOT)} for the default --output, else the "
                        "--output path with .png)")
    args = parser.parse_args(argv)
    output = output_file(parser, args.output, "--output")
    plot = plot_file(parser, args.plot or plot_beside(args.output), "--plot", output)
    try:
        controller = load_controller(resolve(args.artifact))
    except SnnControlError as exc:
        parser.error(f"--artifact: {exc}")
    load = os.getloadavg()
    try:  # a controller of another kind (its adapters do not fit the blimp) or control step: refused at the first
        # flight, as `snncontrol eval-blimp` refuses it (the same evaluation's checks)
        results = evaluate_envelope(controller, plants=args.plants, seed=args.seed)
    except SnnControlError as exc:
        parser.error(f"--artifact {args.artifact}: {exc}")
    document, lines = envelope_report(results)
    print("\n".join(lines))
    both = ("calm", "disturbed")
    figures = {
        "ss_calm_median_cm": largest(results, "SNN", "ss_error_cm_median", ("calm",)),
        "ss_disturbed_median_cm": largest(results, "SNN", "ss_error_cm_median", ("disturbed",)),
        "ss_worst_cm": float(np.max([band["SNN"].per_plant["ss_error_cm"] for by_condition in results.values()
                                     for by_band in by_condition.values() for band in by_band.values()])),
        "contacts": sum(band["SNN"].figures["contacts"]
                        for by_condition in results.values() for by_band in by_condition.values()
                        for band in by_band.values()),
        "overshoot_up_cm": largest(results, "SNN", "overshoot_up_cm_median", both),
        "pid_overshoot_up_cm": largest(results, "PID", "overshoot_up_cm_median", both),
        "overshoot_down_cm": largest(results, "SNN", "overshoot_down_cm_median", both),
        "pid_overshoot_down_cm": largest(results, "PID", "overshoot_down_cm_median", both),
    }
    figures["pid_over_snn_overshoot"] = ratio(figures["pid_overshoot_up_cm"], figures["overshoot_up_cm"])
    targets = document["targets"]
    line, result = result_line("blimp_closed_loop",
                               {"targets_met": f"{sum(targets.values())}/{len(targets)}", **figures})
    write_json(output, {"benchmark": "blimp_closed_loop", "artifact": args.artifact, "plants_per_band": args.plants,
                        "seed": args.seed, "load_average_before": load, "figures": figures, "result": result,
                        **document})  # before the plot: a plot that fails loses no flight
    print(f"plot: {plot_envelope(plants_over_bands(results), plot)}")
    print(f"PID overshoot up / SNN overshoot up (largest band medians): {figures['pid_over_snn_overshoot']:.2f}")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
