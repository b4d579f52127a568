"""Action-to-sensing on the blimp: the adaptive-rate controller node skips SNN steps while the error is small
and the SNN quiet, and gives up little tracking for it (in-process lockstep graph, real DDS topics).

The report on the full paper schedule (0.5 / 1.0 / 1.5 m x 70 s): `python -m snncontrol_ros.graph`."""

from __future__ import annotations

import numpy as np
from snncontrol_ros.graph import run_blimp_graph

ADAPTIVE = {"control_mode": "adaptive", "adaptive_base": "event", "adaptive_delta": 0.05,
            "adaptive_max_interval": 8, "adaptive_error_band": 0.05, "adaptive_quiet_command_delta": 0.1}


def test_adaptive_rate_saves_snn_steps_for_little_tracking_error(ros_domain_id, fallback_artifact):
    fixed = run_blimp_graph(ros_domain_id, fallback_artifact, seed=0, episode_length_s=60.0)
    adaptive = run_blimp_graph(ros_domain_id, fallback_artifact, seed=0, episode_length_s=60.0,
                               controller_params=ADAPTIVE)
    assert fixed.snn_steps == fixed.ticks == 600
    assert adaptive.ticks == 600 and int(adaptive.log["timeouts"]) == 0
    assert adaptive.snn_steps < 0.9 * fixed.snn_steps  # >= 10 % of the SNN work saved
    tail = slice(-200, None)  # the last 20 s, at the 0.5 m set-point
    err_fixed = np.mean(np.abs(fixed.log["setpoint"][tail] - fixed.log["altitude"][tail]))
    err_adaptive = np.mean(np.abs(adaptive.log["setpoint"][tail] - adaptive.log["altitude"][tail]))
    assert err_adaptive < err_fixed + 0.01
    # skipped ticks re-send the held command: the sim got one command per reading throughout
    assert int(adaptive.log["commands_received"]) == 600


def test_fixed_rate_graph_reproduces_the_in_process_flight(ros_domain_id, blimp_artifact):
    from snncontrol.artifacts import load_controller
    from snncontrol.evaluation.blimp_flight import fly_blimp
    from snncontrol.policy import SNNPolicy

    run = run_blimp_graph(ros_domain_id, blimp_artifact, seed=1, episode_length_s=20.0)
    flight = fly_blimp(SNNPolicy.of(load_controller(blimp_artifact)), seed=1, episode_length_s=20.0)
    assert np.max(np.abs(flight.altitude - run.log["altitude"])) < 0.02
