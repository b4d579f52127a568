"""The blimp loop closed over real DDS: the sim node and the controller node in separate processes (lockstep,
use_sim_time, /clock), started by the same code as `snncontrol-ros-sim-blimp`, recorded to an mcap bag. The
blimp reaches and holds the set-point, and the trajectory matches the in-process closed loop (`fly_blimp`
with an SNNPolicy, same seed) within 2 cm (in practice ~1e-7 m: the only difference is the float32 Range
message).

Two controllers, both held to a 5 cm band: the shipped PD+I SNN (`SHIPPED["blimp"]`) and the hand-built PD+I
network of `snncontrol_ros.fallback`."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from snncontrol_ros.run_blimp_sim import parser, run

from snncontrol.artifacts import load_controller
from snncontrol.evaluation.blimp_flight import fly_blimp
from snncontrol.policy import SNNPolicy

SEED, DURATION_S = 4, 40.0


@pytest.mark.parametrize("which", ["shipped", "fallback"])
def test_blimp_closed_loop_over_dds_matches_in_process(ros_domain_id: int, request: pytest.FixtureRequest,
                                                       tmp_path: Path, which: str):
    blimp_artifact = request.getfixturevalue("blimp_artifact" if which == "shipped" else "fallback_artifact")
    band = 0.05
    options: argparse.Namespace = parser().parse_args([
        "--artifact", blimp_artifact, "--seed", str(SEED), "--duration", str(DURATION_S),
        "--domain-id", str(ros_domain_id), "--out", str(tmp_path / "run"), "--record", str(tmp_path / "bag"),
        "--timeout", "90",
    ])
    log = run(options)  # every process is stopped (SIGINT, then SIGKILL) when it returns or raises
    steps = round(DURATION_S / 0.1)
    assert len(log["times"]) == steps and int(log["timeouts"]) == 0 and int(log["safe_holds"]) == 0

    error = log["setpoint"] - log["altitude"]
    assert np.all(log["setpoint"] == 0.5)
    assert np.mean(np.abs(error[-100:])) < band, "the blimp must hold the 0.5 m set-point over the last 10 s"
    assert np.max(np.abs(error[-100:])) < 2 * band

    flight = fly_blimp(SNNPolicy.of(load_controller(blimp_artifact)), seed=SEED, episode_length_s=DURATION_S)
    assert np.max(np.abs(flight.altitude - log["altitude"])) < 0.02
    assert np.mean(np.abs(flight.altitude - log["altitude"])) < 0.005
    assert np.max(np.abs(flight.command - log["command"])) < 0.5

    with AnyReader([tmp_path / "bag"]) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        # every reading and its command: the recorder subscribes reliably and drains before it closes the bag
        assert counts["/altitude"] >= steps and counts["/thrust_command"] >= steps
        first = next(reader.messages(connections=[c for c in reader.connections if c.topic == "/altitude"]))
        assert reader.deserialize(first[2], first[0].msgtype).range == np.float32(log["measured"][0])
