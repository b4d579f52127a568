"""`snncontrol blimp-dataset OUT.npz [--seed N]`: generate the PD-mimicry dataset for the blimp SNNs."""

from __future__ import annotations

import argparse

from snncontrol.controllers.blimp_data import pd_mimicry_dataset, save_dataset


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output", help="the .npz file to write")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed (flights, plants, PID gains)")
    parser.add_argument("--train", type=int, default=100, help="number of training flights")
    parser.add_argument("--train-s", type=float, default=60.0, help="length of each training flight (s)")
    parser.add_argument("--test-s", type=float, default=500.0, help="length of the held-out test flight (s)")


def run(args: argparse.Namespace) -> int:
    if args.train < 1 or args.train_s <= 0 or args.test_s <= 0:
        raise SystemExit("snncontrol blimp-dataset: error: --train, --train-s and --test-s must be positive")
    arrays = pd_mimicry_dataset(args.seed, args.train, args.train_s, args.test_s)
    path = save_dataset(args.output, arrays)
    print(f"wrote {path}: {args.train} x {args.train_s:g} s training flights, {args.test_s:g} s test flight")
    return 0
