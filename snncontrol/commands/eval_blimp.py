"""`snncontrol eval-blimp ARTIFACT`: a blimp controller beside the reference PID over the operating envelope.

    snncontrol eval-blimp shipped:blimp [--plants 8] [--seed 9100] [--models mujoco ode]
                          [--conditions calm disturbed] [--bands lighter light medium heavy heaviest]
                          [--sensor-noise LOW HIGH] [--out DIR]

Flies `--plants` held-out plants per band of hover command (`sim_envs.blimp.envelope.HOVER_BANDS`, from lighter
than air to a hover command of 2.2) in each plant model (the MuJoCo blimp and the independently formulated 1-D
ODE), calm and disturbed; see `snncontrol.evaluation.blimp_eval` for the protocol and the figures. Prints one
table per model and condition (a row per band), whether each target is met, writes DIR/eval_blimp.json (every
figure, per plant too), DIR/envelope.png (steady-state error against hover command, SNN and PID) and
DIR/<model>.png (the first calm plant of the heaviest band flown: altitude, command, spike raster).
`--sensor-noise 0 0` flies the same plants with a perfect rangefinder (the calm steady state is mostly its noise).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from sim_envs.blimp.envelope import HOVER_BANDS, MODELS
from snncontrol import atomic
from snncontrol.arguments import bounded
from snncontrol.artifacts import load_controller
from snncontrol.controllers import resolve
from snncontrol.errors import SnnControlError
from snncontrol.evaluation.blimp_eval import (
    CONDITIONS,
    ENVELOPE,
    HELD_OUT_SEED,
    EnvelopeResults,
    envelope_targets,
    evaluate_envelope,
)
from snncontrol.evaluation.plots import plot_envelope, plot_flight
from snncontrol.seeding import seed_argument

COLUMNS = (
    ("ss error (cm)", "ss_error_cm"),
    ("overshoot up (cm)", "overshoot_up_cm"),
    ("overshoot down (cm)", "overshoot_down_cm"),
    ("rise (s)", "rise_s"),
    ("settle (s)", "settle_s"),
    ("RMSE (cm)", "rmse_cm"),
)


#: The shortest hold (s) whose steady state the evaluation measures.
MIN_HOLD_S = 2.0
#: longest hold (s): an hour per set-point, three per flight
MAX_HOLD_S = 3600.0
MAX_SENSOR_NOISE_M = 1.0  # the rangefinder's noise (m): more is no rangefinder
#: most plants per band (each band flies them in every model and condition, beside the PID: 99999999999 was taken
#: and ended in a MemoryError)
MAX_PLANTS = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifact", help="controller artifact directory, or shipped:NAME (e.g. shipped:blimp)")
    parser.add_argument("--plants", type=bounded(int, 1, MAX_PLANTS), default=8,
                        help=f"randomized plants per band (default 8, at most {MAX_PLANTS})")
    parser.add_argument("--seed", type=seed_argument, default=HELD_OUT_SEED,
                        help=f"first plant seed (band b: seed + b * plants ..; default {HELD_OUT_SEED}: held out of "
                             "evolution and of every choice between controllers)")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    parser.add_argument("--conditions", nargs="+", choices=sorted(CONDITIONS), default=["calm", "disturbed"])
    parser.add_argument("--bands", nargs="+", choices=list(HOVER_BANDS), default=list(HOVER_BANDS),
                        help="bands of hover command (default: all, the whole envelope)")
    parser.add_argument("--hold-s", type=float, default=70.0, help="seconds each set-point is held (default 70)")
    noise = ENVELOPE.sensor_noise
    parser.add_argument("--sensor-noise", type=bounded(float, 0.0, MAX_SENSOR_NOISE_M), nargs=2,
                        metavar=("LOW", "HIGH"), default=None,
                        help=f"the rangefinder's noise (m, standard deviation) drawn from LOW .. HIGH instead of the "
                             f"envelope's {noise[0]:g} .. {noise[1]:g} (0 0: a perfect sensor)")
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


def band_table(by_band: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown rows, one per band of hover command: SNN and PID median (worst) steady-state error, median
    overshoot up / down (down: over the plants that descend, on their first approach), how many do, median
    rise / settle, plants with a floor or ceiling contact after 5 s, SNN spikes/s."""
    lines = [
        "| band (hover command) | SNN ss (cm) | PID ss (cm) | SNN overshoot up / down (cm) | PID overshoot up / down "
        "(cm) | plants descending | SNN rise / settle (s) | contacts SNN / PID | SNN spikes/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for band, results in by_band.items():
        snn, pid = results["SNN"].figures, results["PID"].figures
        low, high = HOVER_BANDS[band]
        ss_worst = [np.max(r.per_plant["ss_error_cm"]) for r in (results["SNN"], results["PID"])]
        lines.append(
            f"| {band} ({low:g} .. {high:g}) | {snn['ss_error_cm_median']:.2f} ({ss_worst[0]:.2f}) "
            f"| {pid['ss_error_cm_median']:.2f} ({ss_worst[1]:.2f}) "
            f"| {snn['overshoot_up_cm_median']:.1f} / {snn['overshoot_down_cm_median']:.1f} "
            f"| {pid['overshoot_up_cm_median']:.1f} / {pid['overshoot_down_cm_median']:.1f} "
            f"| {snn['plants_down']:.0f} of {len(results['SNN'].flights)} "
            f"| {snn['rise_s_median']:.1f} / {snn['settle_s_median']:.1f} "
            f"| {snn['contacts']:.0f} / {pid['contacts']:.0f} | {snn.get('spikes_per_s', float('nan')):.0f} |"
        )
    return lines


def envelope_report(results: EnvelopeResults) -> tuple[dict[str, Any], list[str]]:
    """(JSON-ready document of every figure and per-plant list, NaN as null, printed lines: a table per model and
    condition and the targets) of an envelope evaluation."""
    document: dict[str, Any] = {"models": {}, "targets": envelope_targets(results)}
    lines: list[str] = []
    for model, by_condition in results.items():
        for condition, by_band in by_condition.items():
            lines += ["", f"{model} plant, {condition}: per band, the steady-state error's median over its holds "
                          "(in brackets the worst plant, by the mean of its holds), the other figures' medians over "
                          "its plants"]
            lines += band_table(by_band)
            document["models"].setdefault(model, {})[condition] = {
                band: {name: atomic.json_ready({"figures": r.figures,
                                           "per_plant": {k: v for k, v in r.per_plant.items() if k != "spikes"}})
                       for name, r in by_controller.items()}
                for band, by_controller in by_band.items()
            }
    missed = [name for name, met in document["targets"].items() if not met]
    lines += ["", f"targets met: {len(document['targets']) - len(missed)} of {len(document['targets'])}"
              + (f"; missed: {', '.join(missed)}" if missed else "")]
    return document, lines


def plants_over_bands(results: EnvelopeResults) -> dict[str, dict[str, dict[str, dict[str, list[float]]]]]:
    """{model: {condition: {controller: {"hover_command": [...], "ss_error_cm": [...]}}}}: every plant of every
    band, as `plot_envelope` takes them."""
    per_plant: dict[str, dict[str, dict[str, dict[str, list[float]]]]] = {}
    for model, by_condition in results.items():
        for condition, by_band in by_condition.items():
            for by_controller in by_band.values():
                for name, r in by_controller.items():
                    entry = per_plant.setdefault(model, {}).setdefault(condition, {}).setdefault(
                        name, {"hover_command": [], "ss_error_cm": []})
                    entry["hover_command"] += r.per_plant["hover_command"]
                    entry["ss_error_cm"] += r.per_plant["ss_error_cm"]
    return per_plant


def plot_results(results: EnvelopeResults, out: Path) -> list[Path]:
    """DIR/envelope.png and, per model, the flight of the first calm plant of the heaviest band flown."""
    paths = [plot_envelope(plants_over_bands(results), out / "envelope.png")]
    for model, by_condition in results.items():
        condition = "calm" if "calm" in by_condition else next(iter(by_condition))
        heaviest = max(by_condition[condition], key=list(HOVER_BANDS).index)
        by_controller = by_condition[condition][heaviest]
        spikes = by_controller["SNN"].per_plant.get("spikes")
        flights = {name: r.flights[0] for name, r in by_controller.items()}
        paths.append(plot_flight(flights, out / f"{model}.png",
                                 spikes=None if spikes is None else np.asarray(spikes)[0]))
    return paths


def run(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.hold_s) and args.hold_s > 0):
        raise SnnControlError(f"--hold-s must be positive and finite, got {args.hold_s}")
    if args.hold_s < MIN_HOLD_S:  # (shorter holds have no steady state to measure: every figure was NaN)
        raise SnnControlError(f"--hold-s must be at least {MIN_HOLD_S:g} s (a hold of {MIN_HOLD_S / 0.1:.0f} control "
                              f"steps), got {args.hold_s:g}")
    if args.hold_s > MAX_HOLD_S:  # (1e5 s was taken and flew for days)
        raise SnnControlError(f"--hold-s must be at most {MAX_HOLD_S:g} s, got {args.hold_s:g}")
    envelope = ENVELOPE
    if args.sensor_noise is not None:
        low, high = args.sensor_noise
        if low > high:
            raise SnnControlError(f"--sensor-noise needs LOW <= HIGH, got {low:g} {high:g}")
        envelope = replace(envelope, sensor_noise=(low, high))
    controller = load_controller(resolve(args.artifact))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)  # now, not after the flights: a bad --out fails at once
    print(f"{args.artifact}: {controller.spec.n_neurons} neurons, {controller.spec.parameters.size} parameters; "
          f"{args.plants} plants per band of hover command from seed {args.seed}, set-points 0.5 / 1.0 / 1.5 m, "
          f"{args.hold_s:g} s each, sensor noise {envelope.sensor_noise[0]:g} .. {envelope.sensor_noise[1]:g} m")
    results = evaluate_envelope(controller, tuple(args.models), tuple(args.conditions), tuple(args.bands),
                                args.plants, args.seed, args.hold_s, record_spikes=True, envelope=envelope)
    document, lines = envelope_report(results)
    print("\n".join(lines))
    for path in plot_results(results, out):
        print(f"plot: {path}")
    report = {"artifact": args.artifact, "plants_per_band": args.plants, "seed": args.seed, "hold_s": args.hold_s,
              "sensor_noise_m": list(envelope.sensor_noise), **document}
    path = atomic.write_json(out / "eval_blimp.json", report)
    print(f"report: {path}")
    return 0
