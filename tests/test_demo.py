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


def test_demo_command_prints_both_controllers_and_writes_the_plot(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "snncontrol.cli", "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("SNN ") >= 3 and result.stdout.count("PID ") >= 3
    assert "SOPs/s" in result.stdout
    assert (tmp_path / "blimp_demo.png").stat().st_size > 10_000
