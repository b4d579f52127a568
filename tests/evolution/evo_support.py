"""Config builders and helpers shared by the evolution tests (kept tiny so the folder runs in minutes)."""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from evolution import loopback
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


def interrupted_run(data: dict[str, Any], run_dir: Path, after_evaluations: int) -> None:
    """Start a run of `data` in `run_dir` and stop it by Ctrl-C (a KeyboardInterrupt) at its `after_evaluations`-th
    call of the fitness."""
    experiment = Experiment(parse_config(data), run_dir, quiet=True)
    evaluate, calls = experiment.fitness.evaluate, []

    def interrupted(genomes, data):
        calls.append(1)
        if len(calls) == after_evaluations:
            raise KeyboardInterrupt
        return evaluate(genomes, data)

    experiment.fitness.evaluate = interrupted  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        experiment.run()


def logbook(run_dir: Path, drop: tuple[str, ...] = ("elapsed_s",)) -> list[dict[str, str]]:
    """logbook.csv rows without the wall-clock columns."""
    with open(run_dir / "logbook.csv", newline="") as handle:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(handle)]


def best_genome(run_dir: Path) -> np.ndarray:
    return read_artifact(run_dir / "best")[1]


def require_loopback() -> None:
    """Skip where the kernel refuses the namespaces `python -m evolution.loopback` needs; CI sets
    SNNCONTROL_REQUIRE_LOOPBACK=1 (.ci/run), which makes that a failure instead."""
    reason = loopback.unavailable()
    if reason is None:
        return
    if os.environ.get("SNNCONTROL_REQUIRE_LOOPBACK") == "1":
        pytest.fail(f"python -m evolution.loopback cannot run here: {reason}")
    pytest.skip(f"python -m evolution.loopback cannot run here: {reason}")


def faulty_config(tmp_path: Path, backend: dict[str, Any], signal: str = "SIGKILL") -> dict[str, Any]:
    """A sphere run whose first worker evaluation sends `signal` to its own process (tests/evolution/faulty.py)."""
    data = sphere_config({"name": "cmaes", "population": 8}, generations=3, backend=backend)
    data["fitness"] = {
        "kind": "custom",
        "factory": "faulty:make",
        "kwargs": {"marker": str(tmp_path / "killed.pid"), "driver_pid": os.getpid(), "signal": signal},
        "objectives": ["sphere"],
    }
    return data


def _process_state(pid: int) -> str:
    """The state letter of process `pid` (R, S, T for stopped, Z for zombie...), or 'gone'."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return "gone"


def check_killed_worker_run(tmp_path: Path) -> None:
    """The run of `faulty_config` in tmp_path/run lost a worker (killed or stopped), which is gone now, and still
    equals a clean serial run."""
    assert (tmp_path / "killed.pid").is_file(), "the fault was never injected"
    worker = int((tmp_path / "killed.pid").read_text())
    assert worker != os.getpid()
    deadline = time.monotonic() + 30  # a stopped worker is killed: gone, or a zombie until reaped (Ray: soon after)
    while _process_state(worker) not in ("gone", "Z") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _process_state(worker) in ("gone", "Z"), f"worker {worker} still there: state {_process_state(worker)}"
    run(sphere_config({"name": "cmaes", "population": 8}, generations=3), tmp_path / "reference")
    assert logbook(tmp_path / "run") == logbook(tmp_path / "reference")
    assert np.array_equal(best_genome(tmp_path / "run"), best_genome(tmp_path / "reference"))


def final_fitnesses(experiment: Experiment) -> np.ndarray:
    return np.array([ind.fitness.values for ind in experiment.state.population])


def _backend_results(name: str, workers: int | None, tmp_path: Path) -> tuple[list, np.ndarray, np.ndarray]:
    """(logbook, best genome, final fitnesses) of a 2-generation NSGA-II blimp run on backend `name`."""
    data = blimp_config(generations=2, objectives=["tracking_error", "energy"])
    data["strategy"] = {"name": "nsga2", "mu": 8}
    data["backend"] = {"name": name, "workers": workers}
    experiment = run(data, tmp_path / name)
    return logbook(tmp_path / name), best_genome(tmp_path / name), final_fitnesses(experiment)


def check_same_as_serial(name: str, workers: int, tmp_path: Path) -> None:
    """Backend `name` with `workers` gives the serial backend's logbook, champion and final fitnesses."""
    reference = _backend_results("serial", None, tmp_path)
    assert np.all(np.isfinite(reference[2])) and reference[2][:, 1].min() > 0  # errors (m) and energies (J)
    logbook, best, fitnesses = _backend_results(name, workers, tmp_path)
    assert logbook == reference[0]
    assert np.array_equal(best, reference[1])
    assert np.array_equal(fitnesses, reference[2])


def latest_generation(run_dir: Path) -> int:
    """The generation of run_dir's latest checkpoint (-1 before the first, or while it is being replaced)."""
    try:
        return json.loads((run_dir / "checkpoints" / "latest.json").read_text())["generation"]
    except (OSError, ValueError):
        return -1


def long_run_command(tmp_path: Path, backend: str, workers: int = 2) -> list[str]:
    """`snncontrol evolve` of a sphere run that would take days into tmp_path/run, on `backend` with `workers`."""
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(sphere_config({"name": "cmaes", "population": 8}, generations=100_000)))
    return [sys.executable, "-m", "snncontrol.cli", "evolve", str(config), "--run-dir", str(tmp_path / "run"),
            "--backend", backend, "--workers", str(workers), "--quiet"]
