"""The blimp commands end to end: eval-blimp (SNN beside the PID over the envelope), compose (PD + I as one)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from snncontrol.artifacts import load_controller, save_controller
from snncontrol.controllers import resolve
from snncontrol.controllers.blimp import i_snn, pd_snn
from snncontrol.evaluation.blimp_eval import ENVELOPE, evaluate


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "snncontrol.cli", *args], capture_output=True, text=True,
                          timeout=300, check=False)


def test_eval_blimp_reports_every_band_of_the_envelope_in_both_models_and_writes_json_and_plots(
    tmp_path: Path,
) -> None:
    result = _cli("eval-blimp", "shipped:blimp", "--plants", "2", "--hold-s", "20", "--bands", "lighter", "heaviest",
                  "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    # a table per model and condition, a row per band
    assert result.stdout.count("| lighter (-0.5 .. 0) |") == 4 and result.stdout.count("| heaviest (1.5 .. 2.2) |") == 4
    assert "targets met:" in result.stdout
    def not_json(constant: str) -> None:
        raise AssertionError(f"eval_blimp.json holds {constant}, which is not JSON")

    # strict JSON: a plant that never descends has no downward overshoot, written null (NaN before)
    report = json.loads((tmp_path / "eval_blimp.json").read_text(), parse_constant=not_json)
    for model in ("mujoco", "ode"):
        for condition in ("calm", "disturbed"):
            heaviest = report["models"][model][condition]["heaviest"]
            snn, pid = heaviest["SNN"], heaviest["PID"]
            assert len(snn["per_plant"]["ss_error_cm"]) == 2 and snn["figures"]["spikes_per_s"] > 0
            assert all(1.5 <= h <= 2.2 for h in snn["per_plant"]["hover_command"])
            assert snn["per_plant"]["hover_command"] == pid["per_plant"]["hover_command"]  # the same plants
        assert (tmp_path / f"{model}.png").stat().st_size > 10_000
    assert (tmp_path / "envelope.png").stat().st_size > 10_000
    assert set(report["targets"]) >= {"mujoco_calm_no_contacts", "ode_disturbed_ss_worst",
                                      "ode_calm_overshoot_down_below_pid"}


def test_eval_blimp_refuses_a_missing_artifact_in_one_line(tmp_path: Path) -> None:
    result = _cli("eval-blimp", str(tmp_path / "nothing"), "--plants", "1")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "not found" in result.stderr


def test_compose_writes_one_controller_that_sums_its_parts(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    parts = []
    for name, spec in (("pd", pd_snn("lif", 2, 4)), ("i", i_snn("iwta", 2, 3))):
        genome = spec.parameters.sample(1, rng)[0]
        for entry in spec.parameters.entries:  # low thresholds and a positive drive: both networks spike
            if entry.name.endswith(".theta") or entry.name == "encoder.bias":
                genome[entry.slice] = rng.uniform(0.05, 0.5, entry.size)
        parts.append(save_controller(tmp_path / name, spec, genome))
    result = _cli("compose", str(parts[0]), str(parts[1]), "--out", str(tmp_path / "pdi"))
    assert result.returncode == 0, result.stderr
    controllers = [load_controller(path, dtype=torch.float64) for path in (*parts, tmp_path / "pdi")]
    xs = torch.as_tensor(rng.normal(0.0, 0.3, size=(100, 1, 1)))
    pd, i, both = (c.network.rollout(c.params, xs, c.init_state())[0] for c in controllers)
    assert torch.equal(both, pd + i) and pd.abs().sum() > 0 and i.abs().sum() > 0
    assert controllers[2].spec.n_neurons == controllers[0].spec.n_neurons + controllers[1].spec.n_neurons + 1
    assert _cli("compose", str(parts[0]), "--out", str(tmp_path / "one")).returncode == 2


def test_eval_blimp_flies_the_same_plants_with_another_sensor_noise(tmp_path: Path) -> None:
    """--sensor-noise 0 0: the rangefinder reads the true altitude (calm: no lost returns), the plants are the same
    (hover commands), and the shipped controller's calm steady state falls below 3 mm: with the envelope's 5-15 mm
    most of it is the noise passed to the thrust (docs/blimp.md)."""
    controller = load_controller(resolve("shipped:blimp"))
    perfect = replace(ENVELOPE, sensor_noise=(0.0, 0.0))
    noisy, clean = (evaluate(controller, "calm", 2, 5012, 70.0, model="ode", band="medium", envelope=envelope)
                    for envelope in (ENVELOPE, perfect))
    assert noisy["SNN"].per_plant["hover_command"] == clean["SNN"].per_plant["hover_command"]
    for flight in clean["SNN"].flights:
        np.testing.assert_array_equal(flight.measured, flight.altitude)
    assert clean["SNN"].figures["ss_error_cm_median"] < 0.3 < noisy["SNN"].figures["ss_error_cm_median"]
    result = _cli("eval-blimp", "shipped:blimp", "--sensor-noise", "0.02", "0.01", "--out", str(tmp_path))
    assert result.returncode == 2 and result.stderr.strip().endswith("--sensor-noise needs LOW <= HIGH, got 0.02 0.01")
    result = _cli("eval-blimp", "shipped:blimp", "--sensor-noise", "-1", "0", "--out", str(tmp_path))
    assert result.returncode == 2 and "argument --sensor-noise: must be >= 0" in result.stderr
