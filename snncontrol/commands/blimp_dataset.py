"""`snncontrol blimp-dataset OUT.npz`: generate a mimicry dataset for the blimp SNNs.

    snncontrol blimp-dataset out/blimp_pd.npz --kind pd [--seed N]     # simulated flights, reference PD target
    snncontrol blimp-dataset out/blimp_i.npz --kind i [--seed N]       # double integrator, reference I target
    snncontrol blimp-dataset out/blimp_i_blimp.npz --kind i-blimp      # blimp flights, reference I target
    snncontrol blimp-dataset out/mine.npz --csv flight1.csv flight2.csv --target pd
    snncontrol blimp-dataset out/mine.npz --bag runs/blimp_bag --target recorded

Recordings (`--csv`, `--bag`): see `snncontrol.controllers.blimp.recordings` for the CSV columns and the bag
topics; the last `--test-s` seconds of the last recording are the held-out test sequence. Sizes are bounded
(`MAX_TRAINING_S` s of training flight in all, `MAX_TEST_S` s of test) so that a typo is an error, not a
multi-GiB allocation.
"""

from __future__ import annotations

import argparse
import math

from snncontrol import atomic
from snncontrol.controllers.blimp.recordings import RecordingError, load_bag, load_csv, recordings_dataset
from snncontrol.controllers.pid import BLIMP_PID
from snncontrol.evaluation.blimp_datasets import i_blimp_dataset, i_mimicry_dataset, pd_mimicry_dataset, save_dataset
from snncontrol.seeding import seed_argument

#: (training sequence length, test length) in s by kind
DEFAULT_LENGTHS = {"pd": (60.0, 500.0), "i": (250.0, 500.0), "i-blimp": (60.0, 500.0)}
MAKERS = {"pd": pd_mimicry_dataset, "i": i_mimicry_dataset, "i-blimp": i_blimp_dataset}
MAX_TRAINING_S = 1_000_000.0  # --train x --train-s (s): 10^7 steps of 0.1 s
MAX_TEST_S = 100_000.0
#: the bag topics read: (option name, default topic, what it carries)
TOPICS = (("altitude", "/altitude", "the altitude (m)"), ("setpoint", "/setpoint", "the set-point (m)"),
          ("command", "/thrust_command", "the command ('' for none)"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output", help="the .npz file to write")
    parser.add_argument("--kind", choices=sorted(MAKERS), default=None,
                        help="simulated data: pd (blimp flights, PD target), i (the paper's double integrator, "
                        "I target) or i-blimp (blimp flights, I target); default pd")
    parser.add_argument("--seed", type=seed_argument, default=None, help="dataset seed (flights, plants, gains; "
                        "default 0)")
    parser.add_argument("--train", type=int, default=None, help="number of simulated training flights (default 100)")
    parser.add_argument("--train-s", type=float, help="length of each training sequence (s); pd 60, i 250")
    parser.add_argument("--test-s", type=float, help="length of the held-out test sequence (s); default 500")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--csv", nargs="+", metavar="FILE", help="recordings as CSV files instead of simulation")
    source.add_argument("--bag", nargs="+", metavar="BAG", help="recordings as ROS 2 bags instead of simulation")
    parser.add_argument("--target", choices=["recorded", "pd", "i"], default=None,
                        help="target of recordings: the recorded command or a reference controller (default pd)")
    parser.add_argument("--dt", type=float, default=None, help="control step of recordings (s, default 0.1)")
    for name, default, what in TOPICS:
        parser.add_argument(f"--{name}-topic", default=None, help=f"bag topic of {what} (default {default})")


def run(args: argparse.Namespace) -> int:
    recorded = bool(args.csv or args.bag)
    simulation_only = {"--kind": args.kind, "--seed": args.seed, "--train": args.train}
    if recorded and (given := [name for name, value in simulation_only.items() if value is not None]):
        # (each would be ignored: --kind i set the training length of recordings to its own 250 s, silently)
        raise RecordingError(f"{', '.join(given)} shape simulated flights, not recordings: leave them out with "
                             "--csv / --bag (--target picks the recordings' target)")
    if not recorded and (given := [name for name, value in {"--target": args.target, "--dt": args.dt}.items()
                                   if value is not None]):
        raise RecordingError(f"{', '.join(given)} shape recordings (--csv / --bag): leave them out for simulated "
                             "flights")
    if not args.bag and (given := [f"--{name}-topic" for name, _, _ in TOPICS
                                   if getattr(args, f"{name}_topic") is not None]):
        raise RecordingError(f"{', '.join(given)} name bag topics: they are read only with --bag")
    args.kind = args.kind or "pd"
    args.target = args.target or "pd"
    args.dt = 0.1 if args.dt is None else args.dt
    topics = {name: default if getattr(args, f"{name}_topic") is None else getattr(args, f"{name}_topic")
              for name, default, _ in TOPICS}
    args.seed = 0 if args.seed is None else args.seed
    args.train = 100 if args.train is None else args.train
    train_s, test_s = DEFAULT_LENGTHS[args.kind]
    train_s = args.train_s if args.train_s is not None else train_s
    test_s = args.test_s if args.test_s is not None else test_s
    if args.train < 1 or not all(math.isfinite(s) and s > 0 for s in (train_s, test_s)):
        raise RecordingError(f"--train, --train-s and --test-s must be positive and finite, got {args.train}, "
                             f"{train_s:g} and {test_s:g}")
    step_s = args.dt if recorded else BLIMP_PID.dt  # the simulated flights' control step: the reference PID's
    if math.isfinite(step_s) and step_s > 0 and min(train_s, test_s) < 2 * step_s:  # a bad --dt: said by the loader
        raise RecordingError(f"--train-s and --test-s must each span 2 control steps of {step_s:g} s or more, got "
                             f"{train_s:g} and {test_s:g}")
    atomic.check_suffix(args.output, (".npz",), "the dataset is an .npz file", RecordingError)
    atomic.writable_file(args.output)  # now, not after the flights: a bad output path fails at once
    if (1 if recorded else args.train) * train_s > MAX_TRAINING_S or test_s > MAX_TEST_S:
        raise RecordingError(f"at most {MAX_TRAINING_S:g} s of training flights (--train x --train-s) and "
                             f"{MAX_TEST_S:g} s of test (--test-s)")
    if recorded:
        if args.csv:
            recordings = [load_csv(path, args.dt) for path in args.csv]
        else:
            recordings = [
                load_bag(path, topics["altitude"], topics["setpoint"], topics["command"] or None, args.dt)
                for path in args.bag
            ]
        arrays = recordings_dataset(recordings, args.target, train_s, test_s)
        what = f"{len(recordings)} recording(s), target {args.target}"
    else:
        arrays = MAKERS[args.kind](args.seed, args.train, train_s, test_s)
        what = f"simulated {args.kind} data, seed {args.seed}"
    path = save_dataset(args.output, arrays)
    count = arrays["train_inputs"].shape[0]
    print(f"wrote {path}: {what}: {count} x {train_s:g} s training sequences, {test_s:g} s test sequence")
    return 0
