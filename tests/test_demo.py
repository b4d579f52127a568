"""The shipped demo controller and `snncontrol demo`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from snncontrol.artifacts import load_controller
from snncontrol.controllers import SHIPPED
from snncontrol.evaluation.blimp_flight import fly_blimp
from snncontrol.policy import SNNPolicy


def test_shipped_blimp_controller_keeps_the_blimp_near_its_setpoint() -> None:
    controller = load_controller(SHIPPED["blimp"])
    schedule = {"kind": "levels", "values": [1.0], "hold_s": 70.0}
    flight = fly_blimp(SNNPolicy.of(controller), seed=0, buoyancy_bias=-0.01, episode_length_s=70.0, schedule=schedule)
    error = np.abs(flight.setpoint - flight.altitude)[200:]  # after 20 s
    # The PD+I SNN holds the set-point within a limit cycle of a few cm.
    assert error.mean() < 0.05 and error.max() < 0.12


def test_demo_flies_a_light_and_a_heavy_blimp_and_says_how_each_did(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "snncontrol.cli", "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "hover command 0.2 of 3.3 (light)" in out and "hover command 2 of 3.3 (heavy)" in out
    assert out.count("SNN ") >= 6 and out.count("PID ") >= 6 and out.count("SOPs/s") == 2
    verdicts = [line for line in out.splitlines() if line.startswith("SNN  RMSE")]
    assert len(verdicts) == 2 and all("held every set-point" in v and "no floor contact" in v for v in verdicts)
    for hover in ("0.2", "2"):
        assert (tmp_path / f"blimp_demo_hover_{hover}.png").stat().st_size > 10_000


def test_demo_refuses_a_hover_command_the_thrust_unit_cannot_give(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "snncontrol.cli", "demo", "--hover", "4", "--out", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "--hover" in result.stderr
