"""The swimmer in simulation over real DDS: the graph of launch/swimmer_sim.launch.xml (sim node and controller
node in separate processes, lockstep, use_sim_time, the parameters of launch/config/swimmer_sim.yaml) with the
shipped spiking NCAP (`SHIPPED["swimmer_ncap"]`) swims forward, and its trajectory is the in-process closed
loop's (`SNNPolicy` on the same plant and seed; JointState carries float64, so the two agree to rounding)."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
from snncontrol_ros.launcher import config_file, run_sim_graph

import sim_envs  # noqa: F401  (registers sim_envs/Swimmer-v0)
from snncontrol.artifacts import load_controller
from snncontrol.controllers import SHIPPED
from snncontrol.policy import SNNPolicy

SEED, DURATION_S, DT = 0, 9.0, 0.03
STEPS = round(DURATION_S / DT)


def in_process_x(artifact: Path) -> np.ndarray:
    """Head x position (m) before each step of the same episode, closed in-process as the sim node steps."""
    env = gym.make("sim_envs/Swimmer-v0", max_episode_steps=STEPS)
    policy = SNNPolicy.of(load_controller(artifact))
    obs, info = env.reset(seed=SEED)
    xs = []
    for _ in range(STEPS):
        xs.append(info["x_position"])
        action = policy.act(np.asarray(obs, np.float64)[None])[0]
        obs, _, _, _, info = env.step(np.asarray(action, np.float32))  # as the sim node applies commands
    env.close()
    return np.asarray(xs)


def test_shipped_ncap_swims_forward_over_dds_as_in_process(ros_domain_id: int, tmp_path: Path):
    artifact = SHIPPED["swimmer_ncap"]
    log = run_sim_graph(config_file("swimmer_sim.yaml"), tmp_path / "run", {"artifact": str(artifact)},
                        {"seed": SEED, "episode_length_s": DURATION_S}, domain_id=ros_domain_id, timeout_s=180.0)
    assert len(log["times"]) == STEPS and int(log["timeouts"]) == 0 and int(log["safe_holds"]) == 0
    assert int(log["commands_received"]) >= STEPS  # one command per joint_states reading

    x, forward = log["x_position"], log["forward_velocity"]
    assert x[-1] - x[0] > 0.3, "the swimmer must swim forward (head x, m)"
    assert np.mean(forward[STEPS // 3 :]) > 0.05, "once under way, the head moves forward at > 5 cm/s"
    assert np.max(np.abs(x - in_process_x(artifact))) < 1e-9
