"""Crash-safe checkpoints: SIGKILL at a random generation + resume == an uninterrupted run, bit for bit."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from evo_support import best_genome, logbook, run, sphere_config

from evolution.errors import ResumeError

CMAES = {"name": "cmaes", "population": 10}


def _latest(run_dir: Path) -> int:
    try:
        return json.loads((run_dir / "checkpoints" / "latest.json").read_text())["generation"]
    except (OSError, ValueError):
        return -1


def _final_checkpoint(run_dir: Path) -> dict[str, np.ndarray]:
    generation = _latest(run_dir)
    with np.load(run_dir / "checkpoints" / f"gen_{generation:06d}.npz", allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


@pytest.mark.parametrize(
    ("strategy", "checkpoint_every"),
    [(CMAES, 1), ({**CMAES, "covariance": "diagonal"}, 3), ({"name": "nsga2", "mu": 8}, 1)],
    ids=["cmaes", "sep-cmaes-every-3", "nsga2"],
)
def test_sigkill_then_resume_is_bit_identical(strategy, checkpoint_every, tmp_path):
    generations = 60
    centers = [0.3] if strategy["name"] == "cmaes" else [0.3, 0.6]
    data = sphere_config(strategy, generations=generations, centers=centers)
    data["output"]["checkpoint_every"] = checkpoint_every
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data))
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    kill_at = random.Random().randint(2, 20)
    command = [sys.executable, "-m", "snncontrol.cli", "evolve", str(config), "--run-dir", str(killed), "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _latest(killed) < kill_at and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    stopped = _latest(killed)
    assert 0 < stopped < generations, f"the run was not killed mid-way (generation {stopped})"
    resumed = subprocess.run(
        [sys.executable, "-m", "snncontrol.cli", "evolve", "--resume", str(killed), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    run(data, reference)
    assert logbook(killed) == logbook(reference)
    assert np.array_equal(best_genome(killed), best_genome(reference))
    final, expected = _final_checkpoint(killed), _final_checkpoint(reference)
    assert final.keys() == expected.keys()
    for key in final:
        assert np.array_equal(final[key], expected[key], equal_nan=True), key


def test_extending_generations_equals_a_longer_run(tmp_path):
    run(sphere_config(CMAES, generations=4), tmp_path / "a")
    run(sphere_config(CMAES, generations=9), tmp_path / "a", resume=True)
    run(sphere_config(CMAES, generations=9), tmp_path / "b")
    assert logbook(tmp_path / "a") == logbook(tmp_path / "b")
    assert len(logbook(tmp_path / "a")) == 9
    assert sorted(p.name for p in (tmp_path / "a" / "checkpoints").glob("gen_*.json")) == [
        f"gen_{g:06d}.json" for g in (7, 8, 9)
    ]


def test_changed_config_is_refused_on_resume(tmp_path):
    run(sphere_config(CMAES, generations=2), tmp_path)
    changed = sphere_config({**CMAES, "sigma": 0.2}, generations=3)
    with pytest.raises(ResumeError, match="config differs"):
        run(changed, tmp_path, resume=True)
    with pytest.raises(ResumeError, match="already holds a run"):
        run(sphere_config(CMAES, generations=3), tmp_path)
    # A run setting (the backend) is not part of the experiment: resuming with it changed is fine.
    run(sphere_config(CMAES, generations=3, backend={"name": "serial", "workers": 3}), tmp_path, resume=True)


def test_checkpoints_hold_no_pickle(tmp_path):
    run(sphere_config(CMAES, generations=2), tmp_path)
    arrays = _final_checkpoint(tmp_path)
    assert all(array.dtype != object for array in arrays.values())
    assert {"cma_C", "cma_centroid", "cma_B", "cma_BD", "cma_pc", "cma_ps", "rng_numpy", "rng_torch"} <= set(arrays)
    meta = json.loads((tmp_path / "checkpoints" / "gen_000002.json").read_text())
    assert {"sigma", "update_count", "lambda_"} <= set(meta["strategy"]["cma"])
    assert len(meta["config_hash"]) == 64 and len(meta["logbook"]) == 2
