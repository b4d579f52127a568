"""Config builders and helpers shared by the evolution tests (kept tiny so the folder runs in minutes)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from evolution.config import ExperimentConfig, parse_config
from evolution.runner import Experiment
from snncontrol.artifacts import read_artifact

TINY_NET = {"builder": "evolution.builders:paired_lif_readout", "kwargs": {"n_pairs": 2, "n_hidden": 3}}
BLIMP_IO = {
    "observation": {"kind": "setpoint_error", "measurement": 0, "setpoint": 1},
    "action": {"kind": "affine_clip", "low": -3.3, "high": 3.3},
}


def sphere_config(
    strategy: dict[str, Any], generations: int = 20, centers: list[float] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "seed": 3,
        "generations": generations,
        "network": TINY_NET,
        "strategy": strategy,
        "fitness": {"kind": "sphere", "centers": centers or [0.3]},
        "output": {"plot_every": 1000},
        **extra,
    }


def blimp_config(generations: int = 2, objectives: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "seed": 5,
        "generations": generations,
        "network": TINY_NET,
        "strategy": {"name": "cmaes", "population": 6},
        "fitness": {
            "kind": "closed_loop",
            "env": {
                "id": "sim_envs/BlimpAltitude-v0",
                "kwargs": {"episode_length_s": 2.0},
                "worker_kwargs": {"n_threads": 1},
                "episode_steps": 25,
                "episodes": 2,
            },
            "io": BLIMP_IO,
            "objectives": objectives or ["tracking_error"],
        },
        "output": {"plot_every": 1000},
        **extra,
    }


def run(data: dict[str, Any], run_dir: Path, resume: bool = False) -> Experiment:
    config: ExperimentConfig = parse_config(data, allow_import=("faulty",))  # tests/evolution/faulty.py
    experiment = Experiment(config, run_dir, quiet=True)
    experiment.run(resume=resume)
    return experiment


def logbook(run_dir: Path, drop: tuple[str, ...] = ("elapsed_s",)) -> list[dict[str, str]]:
    """logbook.csv rows without the wall-clock columns."""
    with open(run_dir / "logbook.csv", newline="") as handle:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(handle)]


def best_genome(run_dir: Path) -> np.ndarray:
    return read_artifact(run_dir / "best")[1]
