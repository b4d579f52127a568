"""`snncontrol demo`: fly the shipped blimp controller through the paper's set-point schedule (0.5 / 1.0 /
1.5 m, 70 s each) in the MuJoCo blimp plant, beside the reference PID on the same plant, print tracking
metrics and the SNN's energy figures, and write a plot (altitude, command, spike raster)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from snncontrol.artifacts import load_controller
from snncontrol.controllers import resolve
from snncontrol.controllers.pid import BLIMP_PID, PIDPolicy
from snncontrol.evaluation.blimp_flight import Flight, fly_blimp
from snncontrol.evaluation.plots import plot_flight
from snncontrol.policy import SNNPolicy


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--artifact", default="shipped:blimp", help="controller artifact (default: shipped:blimp)")
    parser.add_argument("--seed", type=int, default=0, help="plant randomization seed")
    parser.add_argument(
        "--buoyancy", type=float, default=-0.01, help="buoyancy bias in N (negative: heavier than air; default -0.01)"
    )
    parser.add_argument("--out", default="out/demo", help="directory for the plot and metrics")


def _seconds(value: float) -> str:
    """A duration for the table; a step that never rose or settled within its hold reads 'never'."""
    return "never" if np.isnan(value) else f"{value:.1f}"


def run(args: argparse.Namespace) -> int:
    controller = load_controller(resolve(args.artifact))
    controller.io.check(2, 1, controller.spec.n_inputs, controller.spec.n_outputs, "the blimp plant")
    policy = SNNPolicy.of(controller, record_spikes=True)
    flights: dict[str, Flight] = {
        "SNN": fly_blimp(policy, seed=args.seed, buoyancy_bias=args.buoyancy),
        "PID": fly_blimp(PIDPolicy(BLIMP_PID, controller.io), seed=args.seed, buoyancy_bias=args.buoyancy),
    }
    print(
        f"controller {args.artifact}: {controller.spec.n_neurons} neurons, {controller.spec.parameters.size} "
        f"parameters; plant seed {args.seed}, buoyancy bias {flights['SNN'].buoyancy_bias:+.3f} N"
    )
    print(
        f"{'':4} {'set-point (m)':>14} {'steady-state error (cm)':>24} {'overshoot (cm)':>15} {'rise (s)':>9} "
        f"{'settle (s)':>11}"
    )
    for name, flight in flights.items():
        metrics = flight.metrics()
        for s in metrics.full_segments:
            print(
                f"{name:4} {s.setpoint:>14.2f} {100 * s.steady_state_error:>24.1f} {100 * s.overshoot:>15.1f} "
                f"{_seconds(s.rise_time_s):>9} {_seconds(s.settling_time_s):>11}"
            )
        print(f"{name:4} RMSE {100 * metrics.rmse:.1f} cm")
    energy = policy.energy().summary()
    print(
        f"SNN: {energy['spikes_per_s']:.0f} spikes/s, {energy['sops_per_s']:.0f} SOPs/s, estimated synaptic power "
        f"{1e9 * energy['snn_power_w']:.2f} nW vs {1e9 * energy['ann_power_w']:.2f} nW for the same network as an ANN"
    )
    plot = plot_flight(flights, Path(args.out) / "blimp_demo.png", spikes=np.concatenate(policy.spikes))
    print(f"plot: {plot}")
    return 0
