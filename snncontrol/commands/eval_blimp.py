"""`snncontrol eval-blimp ARTIFACT`: a blimp controller beside the reference PID in randomized plants, closed loop.

    snncontrol eval-blimp shipped:blimp [--plants 20] [--seed 100] [--conditions calm disturbed] [--out DIR]

Prints one table per condition (see `snncontrol.evaluation.blimp_eval` for the protocol and the figures),
writes DIR/eval_blimp.json (every figure, per plant too) and DIR/<condition>.png (altitude and set-point,
command and spike raster of the first plant).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from snncontrol import atomic
from snncontrol.artifacts import load_controller
from snncontrol.controllers import resolve
from snncontrol.errors import SnnControlError
from snncontrol.evaluation.blimp_eval import CONDITIONS, evaluate
from snncontrol.evaluation.plots import plot_flight

COLUMNS = (
    ("ss error (cm)", "ss_error_cm"),
    ("overshoot up (cm)", "overshoot_up_cm"),
    ("overshoot down (cm)", "overshoot_down_cm"),
    ("rise (s)", "rise_s"),
    ("settle (s)", "settle_s"),
    ("RMSE (cm)", "rmse_cm"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifact", help="controller artifact directory, or shipped:NAME (e.g. shipped:blimp)")
    parser.add_argument("--plants", type=int, default=20, help="randomized plants (default 20)")
    parser.add_argument("--seed", type=int, default=100,
                        help="first plant seed (plants seed .. seed + plants - 1; default 100: held out of evolution)")
    parser.add_argument("--conditions", nargs="+", choices=sorted(CONDITIONS), default=["calm", "disturbed"])
    parser.add_argument("--hold-s", type=float, default=70.0, help="seconds each set-point is held (default 70)")
    parser.add_argument("--out", default="out/eval_blimp", help="directory for the JSON report and plots")


def table(figures: dict[str, dict[str, float]]) -> list[str]:
    """Markdown rows: median (worst) of every figure, per controller (name -> `ControllerFigures.figures`)."""
    head = "| controller | " + " | ".join(name for name, _ in COLUMNS) + " | spikes/s | SOPs/s | power (nW) |"
    lines = [head, "|---|" + "---:|" * (len(COLUMNS) + 3)]
    for name, f in figures.items():
        cells = [f"{f[f'{key}_median']:.1f} ({f[f'{key}_worst']:.1f})" for _, key in COLUMNS]
        energy = [f"{f[k]:.0f}" if k in f else "-" for k in ("spikes_per_s", "sops_per_s")]
        energy.append(f"{f['power_nw']:.2f}" if "power_nw" in f else "-")
        lines.append(f"| {name} | " + " | ".join(cells + energy) + " |")
    return lines


def run(args: argparse.Namespace) -> int:
    if args.plants < 1 or not (math.isfinite(args.hold_s) and args.hold_s > 0):
        raise SnnControlError(f"--plants and --hold-s must be positive and finite, got {args.plants} and {args.hold_s}")
    controller = load_controller(resolve(args.artifact))
    out = Path(args.out)
    report: dict[str, object] = {"artifact": args.artifact, "plants": args.plants, "seed": args.seed,
                                 "hold_s": args.hold_s, "conditions": {}}
    print(f"{args.artifact}: {controller.spec.n_neurons} neurons, {controller.spec.parameters.size} parameters; "
          f"{args.plants} randomized plants with negative buoyancy, set-points 0.5 / 1.0 / 1.5 m, "
          f"{args.hold_s:g} s each; median (worst) over plants")
    for condition in args.conditions:
        results = evaluate(controller, condition, args.plants, args.seed, args.hold_s, record_spikes=True)
        print(f"\n{condition}:")
        print("\n".join(table({name: r.figures for name, r in results.items()})))
        report["conditions"][condition] = {  # type: ignore[index]
            name: {"figures": r.figures, "per_plant": {k: v for k, v in r.per_plant.items() if k != "spikes"}}
            for name, r in results.items()
        }
        spikes = np.asarray(results["SNN"].per_plant["spikes"])[0]
        flights = {name: r.flights[0] for name, r in results.items()}
        print(f"plot: {plot_flight(flights, out / f'{condition}.png', spikes=spikes)}")
    path = atomic.write_text(out / "eval_blimp.json", json.dumps(report, indent=1, allow_nan=True) + "\n")
    print(f"report: {path}")
    return 0
