"""What holding altitude is sensitive to, tested on the reference PID: its command rounded to coarse steps,
delayed, or smoothed, in the randomized blimp plants of `snncontrol eval-blimp`.

    .venv/bin/python benchmarks/blimp_pid_lag.py [--plants 20] [--seed 100] [--hold-s 70] [--output PATH]

Why: the shipped PD+I SNN limit-cycles by a few cm where the PID it mimics does not (README, blimp section).
A spiking command is coarse (a few spikes per 10 Hz step) and lags (membranes integrate before they fire);
this shows which of the two a closed loop of this plant cannot afford. Peer: the plain reference PID
(`snncontrol.controllers.pid.BLIMP_PID`); beside it the same PID with one change each: its command (thrust
units) rounded to multiples of q, delayed by k control steps (0.1 s each), or low-passed (y = d * y + (1 - d) *
u, no delay), calm and disturbed plants (seeds 100..119 by default), each variant's steady-state error
(median, worst), overshoot and RMSE and its ratio to the plain PID's steady-state error. ss_error_cm_worst is
the worst single segment (one plant at one set-point); `worst_plant_ss_error_cm` beside the rows is the worst
plant's (the largest over the plants of each plant's mean over its held set-points), per condition and variant.
Writes benchmarks/results/blimp_pid_lag.json and ends with `RESULT blimp_pid_lag ss_cm_plain=...
ss_cm_rounded_0.8=... ss_cm_delay_2=... ss_cm_lowpass_0.7=...` (calm medians).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import deque
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import integer, number, output_file, ratio, result_line  # noqa: E402

from snncontrol.adapters import IOAdapters  # noqa: E402
from snncontrol.artifacts import load_controller  # noqa: E402
from snncontrol.atomic import write_json  # noqa: E402
from snncontrol.commands.eval_blimp import MAX_HOLD_S, MIN_HOLD_S  # noqa: E402
from snncontrol.controllers import SHIPPED  # noqa: E402
from snncontrol.controllers.pid import BLIMP_PID, PIDPolicy  # noqa: E402
from snncontrol.evaluation.blimp_eval import figures, plant_kwargs, steady_after_s  # noqa: E402
from snncontrol.evaluation.blimp_flight import fly_blimps  # noqa: E402
from snncontrol.seeding import seed_argument  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "blimp_pid_lag.json"
VARIANTS: dict[str, dict[str, float]] = {
    "plain": {},
    "rounded_0.2": {"q": 0.2}, "rounded_0.8": {"q": 0.8},
    "delay_1": {"delay": 1}, "delay_2": {"delay": 2}, "delay_3": {"delay": 3},
    "lowpass_0.5": {"d": 0.5}, "lowpass_0.7": {"d": 0.7}, "lowpass_0.85": {"d": 0.85},
}  # fmt: skip


class ShapedPID:
    """The reference PID for P plants with its command rounded to multiples of `q`, delayed by `delay` steps
    and/or low-passed with decay `d` (the command the plant gets; the PID's own state is untouched)."""

    def __init__(self, io: IOAdapters, batch: int, q: float = 0.0, delay: int = 0, d: float = 0.0) -> None:
        self.pid = PIDPolicy(BLIMP_PID, io, batch=batch)
        self.q, self.delay, self.d = q, int(delay), d
        self.reset()

    @property
    def dt(self) -> float:
        return self.pid.dt

    def reset(self) -> None:
        self.pid.reset()
        self.smoothed: np.ndarray | None = None
        self.queue: deque[np.ndarray] = deque()

    def act(self, observation: np.ndarray) -> np.ndarray:
        u = self.pid.act(observation)
        self.smoothed = u if self.smoothed is None else self.d * self.smoothed + (1.0 - self.d) * u
        command = np.round(self.smoothed / self.q) * self.q if self.q else self.smoothed
        self.queue.append(command)
        return self.queue.popleft() if len(self.queue) > self.delay else np.zeros_like(command)


def fly_variant(io: IOAdapters, settings: dict[str, float], condition: str, seeds: list[int],
                hold_s: float) -> tuple[dict[str, float], dict[str, list[float]]]:
    """(figures over the plants, per-plant lists) of one variant (`blimp_eval.figures`)."""
    policy = ShapedPID(io, len(seeds), **settings)  # type: ignore[arg-type]
    return figures(fly_blimps(policy, seeds, **plant_kwargs(condition, hold_s)), steady_after_s(hold_s))


def run_variant(io: IOAdapters, settings: dict[str, float], condition: str, seeds: list[int],
                hold_s: float) -> dict[str, float]:
    return fly_variant(io, settings, condition, seeds, hold_s)[0]


def worst(values: list[float]) -> float:
    """The largest finite value (NaN: a plant without a measured steady state has no say), NaN if none."""
    return max((v for v in values if np.isfinite(v)), default=float("nan"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=integer(1, 10_000), default=20)
    parser.add_argument("--seed", type=seed_argument, default=100, help="first plant seed")
    parser.add_argument("--hold-s", type=number(MIN_HOLD_S, MAX_HOLD_S), default=70.0,
                        help=f"s each set-point is held (>= {MIN_HOLD_S:g}: a steady state to measure)")
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args(argv)
    output = output_file(parser, args.output, "--output")
    seeds = [args.seed + i for i in range(args.plants)]
    io = load_controller(SHIPPED["blimp"]).io  # the blimp's adapters: altitude error in, clipped thrust out
    worst_plant: dict[str, dict[str, float]] = {}
    document: dict[str, object] = {"benchmark": "blimp_pid_lag", "plants": args.plants, "seeds": seeds,
                                   "hold_s": args.hold_s, "load_average_before": os.getloadavg(), "conditions": {},
                                   "worst_plant_ss_error_cm": worst_plant}
    calm: dict[str, float] = {}
    for condition in ("calm", "disturbed"):
        flown = {name: fly_variant(io, settings, condition, seeds, args.hold_s) for name, settings in VARIANTS.items()}
        rows = {name: f for name, (f, _) in flown.items()}
        worst_plant[condition] = {name: worst(per_plant["ss_error_cm"]) for name, (_, per_plant) in flown.items()}
        plain = rows["plain"]["ss_error_cm_median"]
        print(f"{condition}, {args.plants} plants: ss error median (worst segment, worst plant) cm, overshoot up / "
              "down cm, RMSE cm, ss error / plain PID's")
        for name, f in rows.items():
            print(f"  {name:<13} {f['ss_error_cm_median']:5.2f} ({f['ss_error_cm_worst']:5.2f}, "
                  f"{worst_plant[condition][name]:5.2f})  "
                  f"{f['overshoot_up_cm_median']:5.1f} / {f['overshoot_down_cm_median']:5.1f}  "
                  f"{f['rmse_cm_median']:5.1f}  {ratio(f['ss_error_cm_median'], plain):5.2f}x")
        document["conditions"][condition] = rows  # type: ignore[index]
        if condition == "calm":
            calm = {name: f["ss_error_cm_median"] for name, f in rows.items()}
    line, document["result"] = result_line("blimp_pid_lag", {
        "ss_cm_plain": calm["plain"], "ss_cm_rounded_0.8": calm["rounded_0.8"], "ss_cm_delay_2": calm["delay_2"],
        "ss_cm_lowpass_0.7": calm["lowpass_0.7"]})
    write_json(output, document, indent=2)
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
