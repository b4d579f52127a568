"""serial == process == ray for one seed (any worker count), and a worker killed mid-evaluation is survived."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from evo_support import best_genome, blimp_config, logbook, run, sphere_config

ray = pytest.importorskip("ray")
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module: 2 CPUs, bound to 127.0.0.1, no dashboard, no usage stats."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(HERE), "RAY_USAGE_STATS_ENABLED": "0"}},
    )
    yield ray
    ray.shutdown()


def _final_population(experiment) -> np.ndarray:
    return np.array([ind.fitness.values for ind in experiment.state.population])


def test_serial_process_ray_give_identical_results(local_ray, tmp_path):
    results = {}
    for name, workers in (("serial", None), ("process", 2), ("ray", 3)):
        data = blimp_config(generations=2, objectives=["tracking_error", "energy"])
        data["strategy"] = {"name": "nsga2", "mu": 8}
        data["backend"] = {"name": name, "workers": workers}
        experiment = run(data, tmp_path / name)
        results[name] = (logbook(tmp_path / name), best_genome(tmp_path / name), _final_population(experiment))
    reference = results["serial"]
    assert np.all(np.isfinite(reference[2])) and reference[2][:, 1].min() > 0  # errors (m) and energies (J)
    for name in ("process", "ray"):
        assert results[name][0] == reference[0], name
        assert np.array_equal(results[name][1], reference[1]), name
        assert np.array_equal(results[name][2], reference[2]), name


def _faulty(tmp_path: Path, backend: dict) -> dict:
    data = sphere_config({"name": "cmaes", "population": 8}, generations=3, backend=backend)
    data["fitness"] = {
        "kind": "custom",
        "factory": "faulty:make",
        "kwargs": {"marker": str(tmp_path / "killed.pid"), "driver_pid": os.getpid()},
        "objectives": ["sphere"],
    }
    return data


@pytest.mark.parametrize("backend", ["process", "ray"])
def test_a_killed_worker_is_retried_and_nothing_is_lost(backend, local_ray, tmp_path):
    run(_faulty(tmp_path, {"name": backend, "workers": 2, "max_retries": 2}), tmp_path / "run")
    assert (tmp_path / "killed.pid").is_file(), "the fault was never injected"
    assert int((tmp_path / "killed.pid").read_text()) != os.getpid()
    run(sphere_config({"name": "cmaes", "population": 8}, generations=3), tmp_path / "reference")
    assert logbook(tmp_path / "run") == logbook(tmp_path / "reference")
    assert np.array_equal(best_genome(tmp_path / "run"), best_genome(tmp_path / "reference"))
