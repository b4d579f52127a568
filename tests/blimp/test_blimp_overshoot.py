"""benchmarks/blimp_overshoot.py: its approach / later split is the evaluation's upward overshoot, its loop balance
reads the constructed seed's gains, the SNN's halves summed act as the SNN, and a short run ends with its RESULT
line."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from snncontrol.artifacts import load_controller
from snncontrol.controllers import resolve
from snncontrol.controllers.blimp.integrator import constant_error_response
from snncontrol.controllers.pid import BLIMP_PID, PIDPolicy
from snncontrol.evaluation.blimp_eval import figures, plant_kwargs, steady_after_s
from snncontrol.evaluation.blimp_flight import Flight, fly_blimps
from snncontrol.policy import SNNPolicy


@pytest.fixture
def bench(load_benchmark):
    return load_benchmark("blimp_overshoot")


def known_flight(passes: tuple[tuple[float, float], ...]) -> Flight:
    """Set-points 0.5 / 1.0 / 1.5 m held 70 s, the blimp 2 cm below them but for `passes`: (s, m above the
    set-point) at those times."""
    times = np.arange(2100) * 0.1
    setpoint = np.repeat([0.5, 1.0, 1.5], 700)
    altitude = setpoint - 0.02
    for at_s, past in passes:
        altitude[round(at_s * 10)] = setpoint[round(at_s * 10)] + past
    return Flight(times, altitude, altitude.copy(), setpoint, np.zeros(2100), 1.0, altitude[-1], setpoint[-1])


def test_split_of_a_known_flight(bench):
    """The blimp passes 1.0 m by 3 cm 2 s after the change and by 5 cm 30 s after it, 1.5 m by 4 cm 3 s after and by
    1 cm 40 s after, and never passes 0.5 m from below."""
    flight = known_flight(((72.0, 0.03), (100.0, 0.05), (143.0, 0.04), (180.0, 0.01)))
    assert bench.split_overshoot(flight, 5.0) == pytest.approx((0.04, 0.05))
    assert bench.split_overshoot(flight, 35.0) == pytest.approx((0.05, 0.01))
    assert bench.split_overshoot(flight, 100.0) == pytest.approx((0.05, 0.0))  # the window ends with the hold


def test_band_figures_give_medians_and_the_worst_plant(bench):
    flights = [known_flight(((72.0, past), (150.0, 0.01))) for past in (0.02, 0.03, 0.09)]  # approach 2, 3, 9 cm
    figures_cm = bench.band_figures(flights, 5.0)
    assert figures_cm["up_cm"] == pytest.approx(3.0) and figures_cm["approach_cm"] == pytest.approx(3.0)
    assert figures_cm["later_cm"] == pytest.approx(1.0) and figures_cm["up_worst_cm"] == pytest.approx(9.0)


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


def test_the_halves_summed_act_as_the_composite(bench):
    controller = load_controller(resolve("shipped:blimp"))
    pd, integrator = bench.snn_parts(controller)
    halves = bench.SummedPolicy(SNNPolicy.of(pd, batch=3), SNNPolicy.of(integrator, batch=3), controller.io)
    whole = SNNPolicy.of(controller, batch=3)
    readings = 1.0 - 0.6 * np.sin(np.linspace(0.0, 12.0, 300))[:, None] * np.array([0.2, 0.6, 1.2])  # m
    for reading in readings:
        observation = np.stack([reading, np.full(3, 1.0)], axis=1)  # altitude reading, set-point (m)
        np.testing.assert_allclose(halves.act(observation), whole.act(observation), atol=1e-5)


def test_the_ramped_setpoint_moves_at_its_rate_from_the_first_reading(bench):
    seen = []

    class Recorder:
        dt = 0.1

        def reset(self) -> None:
            seen.clear()

        def act(self, observation: np.ndarray) -> np.ndarray:
            seen.append(observation[:, 1].copy())
            return np.zeros((len(observation), 1))

    ramped = bench.RampedSetpoint(Recorder(), 0.3, 0.1)  # 3 cm a step
    for _ in range(2):  # a reset starts the ramp again from the new first reading
        ramped.reset()
        for setpoint in (1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5):
            ramped.act(np.array([[0.9, setpoint], [0.2, setpoint]]))  # readings 0.9 and 0.2 m
        np.testing.assert_allclose(np.array(seen)[:, 0], [0.93, 0.96, 0.99, 0.96, 0.93, 0.9, 0.87])
        np.testing.assert_allclose(np.array(seen)[:, 1], [0.23, 0.26, 0.29, 0.32, 0.35, 0.38, 0.41])
    ramped.reset()
    ramped.act(np.array([[np.nan, 1.0]]))  # a lost first reading: the ramp starts at the set-point
    np.testing.assert_allclose(seen[-1], [1.0])


def test_loop_balance_reads_the_constructed_gain(bench):
    seed = load_controller(resolve("shipped:blimp_envelope_seed"))
    pd, integrator = bench.snn_parts(seed)
    gains = bench.loop_gains(pd, integrator)  # built with kp: kp x 0.05 command units at 5 cm
    kp = seed.metadata.extra["pd_gains"]["kp"]
    assert gains.pd_errors_m[2] == 0.05 and gains.pd_command[2] == pytest.approx(kp * 0.05, rel=0.15)
    # the integral gain per m and s: a least-squares slope of the I-SNN's command over 5-15 s of a 2 cm error
    command = constant_error_response(integrator.spec, integrator.genome, np.array([0.02]), 150)[50:, 0]
    slope = np.polyfit(np.arange(50, 150) * integrator.spec.dt, command, 1)[0]
    assert gains.i_errors_m[1] == 0.02 and gains.ki_each[1] == pytest.approx(slope / 0.02, rel=0.2)
    assert gains.kp_10cm == pytest.approx((gains.pd_command[3] - gains.pd_command[0]) / 0.1)
    assert gains.pid_ki == BLIMP_PID.ki


def test_short_run_ends_with_its_result_line(bench, tmp_path, capsys):
    output = tmp_path / "blimp_overshoot.json"
    assert bench.main(["--plants", "1", "--models", "ode", "--bands", "heavy", "--output", str(output)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    keys = ["snn_up_cm", "snn_approach_cm", "snn_later_cm", "pid_up_cm", "pid_approach_cm", "pid_later_cm",
            "snn_up_worst_cm", "pid_up_worst_cm", "slow_d_pid_up_cm", "snn_ki_pid_up_cm", "snn_gains_pid_up_cm",
            "snn_pd_pid_i_up_cm", "pid_pd_snn_i_up_cm", "snn_ramp_up_cm", "pid_ramp_up_cm", "snn_kp_10cm", "snn_ki",
            "snn_over_pid"]
    assert re.fullmatch("RESULT blimp_overshoot " + " ".join(f"{k}=\\S+" for k in keys), last)
    document = json.loads(output.read_text())
    printed = {key: None if value == "nan" else float(value) for key, value in (w.split("=") for w in last.split()[2:])}
    assert document["result"] == printed and list(document["result"]) == keys  # the JSON carries the headline
    row = document["calm"]["ode"]["heavy"]
    assert set(row) == {"SNN", "PID", "slow_d", "snn_ki", "snn_gains", "snn_pd_pid_i", "pid_pd_snn_i", "snn_ramp",
                        "pid_ramp"}
    assert document["peers"]["snn_ki"]["ki"] == document["loop_balance"]["ki"]
    assert document["halves"]["snn_pd_pid_i"]["i"]["ki"] == BLIMP_PID.ki
    # one plant: the median is the worst plant
    assert all(f["up_cm"] == max(f["approach_cm"], f["later_cm"]) == f["up_worst_cm"] for f in row.values())
