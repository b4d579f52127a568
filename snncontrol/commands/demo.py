"""`snncontrol demo`: fly the shipped blimp controller on a light and on a heavy blimp through the paper's set-point
schedule (0.5 / 1.0 / 1.5 m, 70 s each), beside the reference PID on the same plants; print tracking metrics, a
verdict per blimp and the SNN's energy figures, and write a plot per blimp (altitude, command, spike raster).

    snncontrol demo [--hover 0.2 2.0] [--model mujoco|ode] [--seed 0] [--out out/demo]

A blimp is given by its hover command (the command whose thrust holds it still, of the thrust unit's 3.3; negative:
lighter than air), within the operating envelope's -0.5 .. 2.2 (`BlimpEnvelope`): 0.2 is a nearly balanced blimp,
2.0 one as heavy as the paper's training model z'' = u - 2.02.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from sim_envs.blimp.envelope import MODELS, BlimpEnvelope
from snncontrol import atomic
from snncontrol.artifacts import Controller, load_controller
from snncontrol.controllers import resolve
from snncontrol.controllers.pid import BLIMP_PID, PIDPolicy
from snncontrol.errors import SnnControlError
from snncontrol.evaluation.blimp_flight import Flight, fly_blimp
from snncontrol.evaluation.plots import plot_flight
from snncontrol.policy import SNNPolicy
from snncontrol.seeding import seed_argument

SCHEDULE = {"kind": "levels", "values": [0.5, 1.0, 1.5], "hold_s": 70.0}
HOVER_RANGE = BlimpEnvelope().hover_command  # command units: the operating envelope's


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--artifact", default="shipped:blimp", help="controller artifact (default: shipped:blimp)")
    parser.add_argument("--hover", type=float, nargs="+", default=[0.2, 2.0],
                        help=f"hover commands of the blimps to fly, {HOVER_RANGE[0]:g} .. {HOVER_RANGE[1]:g} "
                        "(default: 0.2, light; 2.0, heavy)")
    parser.add_argument("--model", choices=sorted(MODELS), default="mujoco", help="plant model (default mujoco)")
    parser.add_argument("--seed", type=seed_argument, default=0, help="plant randomization seed")
    parser.add_argument("--out", default="out/demo", help="directory for the plots")


def _seconds(value: float) -> str:
    """A duration for the table; a step that never rose or settled within its hold reads 'never'."""
    return "never" if np.isnan(value) else f"{value:.1f}"


def verdict(flight: Flight) -> str:
    """One line on how a flight went: the worst steady-state error and overshoot, and any floor contact."""
    segments = flight.metrics().full_segments
    worst_ss = max(100 * s.steady_state_error for s in segments)
    overshoot = max(100 * s.overshoot for s in segments)
    contacts = flight.contacts()
    ground = f"touched the floor or ceiling {contacts} times after 5 s" if contacts else "no floor contact after 5 s"
    held = "held every set-point" if worst_ss <= 3.0 else "did not hold every set-point"
    return f"{held}: worst steady-state error {worst_ss:.1f} cm, largest overshoot {overshoot:.1f} cm, {ground}"


def _fly(args: argparse.Namespace, controller: Controller, hover: float) -> tuple[dict[str, Flight], SNNPolicy]:
    kwargs = {**BlimpEnvelope(hover_command=(hover, hover)).kwargs(args.model),
              "initial_altitude_range": (0.0, 0.0), "schedule": SCHEDULE, "episode_length_s": 210.0}
    policy = SNNPolicy.of(controller, record_spikes=True)
    flights = {
        "SNN": fly_blimp(policy, seed=args.seed, model=args.model, **kwargs),
        "PID": fly_blimp(PIDPolicy(BLIMP_PID, controller.io), seed=args.seed, model=args.model, **kwargs),
    }
    return flights, policy


def _plot_path(args: argparse.Namespace, hover: float) -> Path:
    return Path(args.out) / f"blimp_demo_hover_{hover:g}.png"


def run(args: argparse.Namespace) -> int:
    low, high = HOVER_RANGE
    for hover in args.hover:
        if not (math.isfinite(hover) and low <= hover <= high):
            raise SnnControlError(f"--hover must lie in the blimp envelope's {low:g} .. {high:g}, got {hover}")
    paths = [_plot_path(args, hover) for hover in args.hover]
    if len(set(paths)) < len(paths):  # (0.2 and 0.20000001 wrote one plot over the other)
        raise SnnControlError(f"--hover {' '.join(map(str, args.hover))}: two of them share the plot "
                              f"{next(p.name for p in paths if paths.count(p) > 1)}; give hover commands that differ "
                              "in their first 6 significant digits")
    for path in paths:  # now, not after the flights: a bad --out fails at once
        atomic.writable_file(path)
    controller = load_controller(resolve(args.artifact))
    controller.io.check(2, 1, controller.spec.n_inputs, controller.spec.n_outputs, "the blimp plant")
    print(f"controller {args.artifact}: {controller.spec.n_neurons} neurons, {controller.spec.parameters.size} "
          f"parameters; {args.model} plant, seed {args.seed}, take-off from the floor")
    for hover in args.hover:
        flights, policy = _fly(args, controller, hover)
        weight = "lighter than air" if hover < 0 else ("heavy" if hover >= 1.0 else "light")
        print(f"\nblimp with hover command {hover:g} of 3.3 ({weight}):")
        print(f"{'':4} {'set-point (m)':>14} {'steady-state error (cm)':>24} {'overshoot (cm)':>15} {'rise (s)':>9} "
              f"{'settle (s)':>11}")
        for name, flight in flights.items():
            metrics = flight.metrics()
            for s in metrics.full_segments:
                print(f"{name:4} {s.setpoint:>14.2f} {100 * s.steady_state_error:>24.1f} {100 * s.overshoot:>15.1f} "
                      f"{_seconds(s.rise_time_s):>9} {_seconds(s.settling_time_s):>11}")
            print(f"{name:4} RMSE {100 * metrics.rmse:.1f} cm; {verdict(flight)}")
        energy = policy.energy().summary()
        print(f"SNN: {energy['spikes_per_s']:.0f} spikes/s, {energy['sops_per_s']:.0f} SOPs/s, estimated synaptic "
              f"power {1e9 * energy['snn_power_w']:.2f} nW vs {1e9 * energy['ann_power_w']:.2f} nW for the same "
              "network as an ANN")
        plot = plot_flight(flights, _plot_path(args, hover), spikes=np.concatenate(policy.spikes))
        print(f"plot: {plot}")
    return 0
