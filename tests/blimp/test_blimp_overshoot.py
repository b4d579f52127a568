"""benchmarks/blimp_overshoot.py: its approach / later split is the evaluation's upward overshoot, its loop balance
reads the constructed seed's gain, and a short run ends with its RESULT line."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from snncontrol.artifacts import load_controller
from snncontrol.controllers import resolve
from snncontrol.controllers.pid import BLIMP_PID, PIDPolicy
from snncontrol.evaluation.blimp_eval import figures, plant_kwargs, steady_after_s
from snncontrol.evaluation.blimp_flight import fly_blimps
from snncontrol.policy import SNNPolicy


@pytest.fixture
def bench(load_benchmark):
    return load_benchmark("blimp_overshoot")


def test_the_larger_part_is_the_evaluations_upward_overshoot(bench):
    controller = load_controller(resolve("shipped:blimp"))
    seeds = [5012, 5013]  # the medium band's first selection plants
    kwargs = plant_kwargs("calm", bench.HOLD_S, "ode", "medium")
    for policy in (SNNPolicy.of(controller, batch=2), PIDPolicy(BLIMP_PID, controller.io, batch=2)):
        flights = fly_blimps(policy, seeds, model="ode", **kwargs)
        reported = figures(flights, steady_after_s(bench.HOLD_S))[1]["overshoot_up_cm"]
        parts = [bench.split_overshoot(flight, 5.0) for flight in flights]
        np.testing.assert_allclose([100 * max(p) for p in parts], reported, atol=1e-9)
        # the approach window is what it says: a window of 0 s leaves everything to "later"
        assert [100 * bench.split_overshoot(flight, 0.0)[1] for flight in flights] == pytest.approx(reported)
        assert all(bench.split_overshoot(flight, 0.0)[0] == 0.0 for flight in flights)


def test_loop_balance_reads_the_constructed_gain(bench):
    gains = bench.loop_gains("shipped:blimp_envelope_seed")  # built with kp 3: 0.15 command units at 5 cm
    assert gains["pd_errors_m"][2] == 0.05 and gains["pd_command"][2] == pytest.approx(3.0 * 0.05, rel=0.15)
    assert 0.0 < gains["ki"] < 5.0 and gains["pid_ki"] == BLIMP_PID.ki


def test_short_run_ends_with_its_result_line(bench, tmp_path, capsys):
    output = tmp_path / "blimp_overshoot.json"
    assert bench.main(["--plants", "1", "--models", "ode", "--bands", "heavy", "--output", str(output)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    keys = ["snn_up_cm", "snn_approach_cm", "snn_later_cm", "pid_up_cm", "pid_approach_cm", "pid_later_cm",
            "slow_d_pid_up_cm", "snn_ki_pid_up_cm", "snn_gains_pid_up_cm", "snn_kp_10cm", "snn_ki", "snn_over_pid"]
    assert re.fullmatch("RESULT blimp_overshoot " + " ".join(f"{k}=\\S+" for k in keys), last)
    document = json.loads(output.read_text())
    row = document["calm"]["ode"]["heavy"]
    assert set(row) == {"SNN", "PID", "slow_d", "snn_ki", "snn_gains"}
    assert document["peers"]["snn_ki"]["ki"] == document["loop_balance"]["ki"]
    assert all(f["up_cm"] == max(f["approach_cm"], f["later_cm"]) for f in row.values())  # one plant: no medians
