"""The blimp-in-simulation graph in one process: sim node + controller node on one executor, lockstep, with the
parameters of launch/config/blimp_sim.yaml (what launch/blimp_sim.launch.xml and `snncontrol-ros-sim-blimp` run)
and only the overrides the run needs (`graph_parameters`).

Used by the tests and for the adaptive-rate report (`python -m snncontrol_ros.graph --help`). The nodes talk
over real DDS topics exactly as in separate processes; only the executor is shared. A bad option, a parameter a
node refuses or a controller that cannot configure (e.g. a missing artifact) is one line on stderr, before any
episode runs (exit 2 for an option, 1 otherwise).
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import rclpy
from rclpy.exceptions import ParameterException
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.logging import LoggingSeverity
from rclpy.parameter import Parameter

from snncontrol.arguments import bounded
from snncontrol.atomic import json_ready
from snncontrol.errors import SnnControlError
from snncontrol.evaluation.metrics import tracking_metrics
from snncontrol_ros.controller_node import RANGES as CONTROLLER_RANGES
from snncontrol_ros.controller_node import ControllerNode
from snncontrol_ros.launcher import config_file, node_parameters
from snncontrol_ros.runtime import DOMAIN_IDS, OneLineParser, make_executor, one_line
from snncontrol_ros.sim_node import SimNode
from snncontrol_ros.sim_ranges import RANGES as SIM_RANGES

PROG = "python -m snncontrol_ros.graph"
CONFIG = "blimp_sim.yaml"  # launch/config/: the sections "sim" and "snn_controller"


def overrides(params: dict[str, Any]) -> list[Parameter]:
    return [Parameter(name, value=value) for name, value in params.items()]


def graph_parameters(artifact: str, seed: int = 0, episode_length_s: float = 210.0,
                     controller_params: dict[str, Any] | None = None,
                     sim_params: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(controller, sim) parameters of the graph: launch/config/blimp_sim.yaml's sections with what the run sets
    over them: the artifact, `controller_params`, autostart off (the graph configures and activates the node
    itself); the seed, the episode length (s of sim time), lockstep (the graph steps the sim on its commands),
    `sim_params`."""
    config = config_file(CONFIG)
    controller = {**node_parameters(config, "snn_controller"), "artifact": artifact, **(controller_params or {}),
                  "autostart": False}
    sim = {**node_parameters(config, "sim"), "seed": seed, "episode_length_s": episode_length_s,
           "mode": "lockstep", **(sim_params or {})}
    return controller, sim


@dataclass
class GraphRun:
    log: dict[str, np.ndarray]
    ticks: int
    snn_steps: int
    sops: float
    spikes: float
    wall_s: float
    parameters: dict[str, dict[str, Any]]  # node name -> its parameters (name -> value) as the node holds them

    @property
    def mean_abs_error(self) -> float:
        return float(np.mean(np.abs(self.log["setpoint"] - self.log["altitude"])))

    def steady_state_error(self, steady_after_s: float = 50.0) -> float:
        """Mean |error| (m) from `steady_after_s` after each set-point change (the last 20 s of 70 s holds)."""
        log = self.log
        return tracking_metrics(log["times"], log["altitude"], log["setpoint"], steady_after_s).steady_state_error


def run_blimp_graph(
    domain_id: int,
    artifact: str,
    seed: int = 0,
    episode_length_s: float = 210.0,
    controller_params: dict[str, Any] | None = None,
    sim_params: dict[str, Any] | None = None,
    executor: str = "events",
    timeout_s: float = 600.0,
) -> GraphRun:
    """One lockstep episode of the blimp under the controller node (event mode, as launch/config sets it); returns
    the sim's log, the controller's counters and both nodes' parameters (`graph_parameters`)."""
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain_id)
    nodes: list[Any] = []
    ex = None
    try:
        ex = make_executor(executor, context)
        cparams, sparams = graph_parameters(artifact, seed, episode_length_s, controller_params, sim_params)
        controller = ControllerNode(context=context, parameter_overrides=overrides(cparams))
        nodes.append(controller)
        # configured and activated here, as autostart would: a failure is this function's one line (the node's
        # own ERROR line, the same reason, stays quiet), not a sim waiting for commands that never come
        logger = controller.get_logger()
        level = logger.get_effective_level()
        logger.set_level(LoggingSeverity.FATAL)
        try:
            configured = controller.trigger_configure() == TransitionCallbackReturn.SUCCESS
        finally:
            logger.set_level(level)
        if not configured:
            raise RuntimeError(f"the controller node cannot configure: {controller.failure}")
        if controller.trigger_activate() != TransitionCallbackReturn.SUCCESS:
            raise RuntimeError("the controller node cannot activate (see the log above)")
        sim = SimNode(context=context, keep_log=True, parameter_overrides=overrides(sparams))
        nodes.append(sim)
        for node in nodes:
            ex.add_node(node)
        start = time.monotonic()
        while not sim.finished.is_set():
            ex.spin_once(timeout_sec=0.1)
            if time.monotonic() - start > timeout_s:
                raise TimeoutError(f"the graph did not finish the episode in {timeout_s} s (at step {sim.k})")
        wall = time.monotonic() - start
        core = controller.core
        spikes, sops = core.policy.activity()
        held = {node.get_name(): {name: param.value for name, param in node.get_parameters_by_prefix("").items()}
                for node in nodes}
        return GraphRun(sim.log_arrays(), core.ticks, core.snn_steps, sops, spikes, wall, held)
    finally:
        if ex is not None:
            ex.shutdown()
        for node in nodes:
            node.destroy_node()
        context.try_shutdown()


def adaptive_report(domain_id: int, artifact: str, seed: int = 0, episode_length_s: float = 210.0,
                    settings: Sequence[dict[str, Any]] = ({},)) -> dict[str, Any]:
    """Fixed-rate (event) baseline against adaptive mode(s) on the paper schedule: SNN steps and SOPs saved
    against the tracking error given up."""
    base = run_blimp_graph(domain_id, artifact, seed, episode_length_s)
    rows = []
    for extra in settings:
        params = {"control_mode": "adaptive", "adaptive_base": "event", **extra}
        run = run_blimp_graph(domain_id, artifact, seed, episode_length_s, controller_params=params)
        rows.append({
            "settings": extra,
            "snn_steps": run.snn_steps,
            "ticks": run.ticks,
            "steps_saved_pct": 100.0 * (1 - run.snn_steps / base.snn_steps),
            "sops": run.sops,
            "sops_saved_pct": 100.0 * (1 - run.sops / base.sops) if base.sops else math.nan,
            "mean_abs_error_m": run.mean_abs_error,
            "ss_error_m": run.steady_state_error(),
            "mean_abs_error_increase_m": run.mean_abs_error - base.mean_abs_error,
            "ss_error_increase_m": run.steady_state_error() - base.steady_state_error(),
        })
    return {
        "artifact": artifact,
        "seed": seed,
        "episode_length_s": episode_length_s,
        "baseline": {"snn_steps": base.snn_steps, "sops": base.sops, "mean_abs_error_m": base.mean_abs_error,
                     "ss_error_m": base.steady_state_error()},
        "adaptive": rows,
    }


def main(argv: list[str] | None = None) -> int:
    interval = CONTROLLER_RANGES["adaptive_max_interval"]
    parser = OneLineParser(prog=PROG, description="adaptive-rate report on the blimp (in-process ROS graph)")
    parser.add_argument("--artifact", default="shipped:blimp", help="controller artifact or shipped:NAME")
    parser.add_argument("--seed", type=bounded(int, *SIM_RANGES["seed"]), default=0)
    parser.add_argument("--episode-length", type=bounded(float, *SIM_RANGES["episode_length_s"]), default=210.0,
                        help="s of sim time")
    parser.add_argument("--domain-id", type=bounded(int, *DOMAIN_IDS), default=77,
                        help=f"ROS_DOMAIN_ID of the graph ({DOMAIN_IDS[0]}..{DOMAIN_IDS[1]})")
    parser.add_argument("--max-interval", type=bounded(int, *interval), nargs="+", default=[4, 8],
                        help=f"adaptive_max_interval of each adaptive run ({interval[0]}..{interval[1]})")
    parser.add_argument("--delta", type=bounded(float, 0.0, float("inf"), above=True), default=0.05,
                        help="adaptive_delta (> 0)")
    options = parser.parse_args(argv)
    settings = [{"adaptive_max_interval": m, "adaptive_delta": options.delta} for m in options.max_interval]
    try:
        report = adaptive_report(options.domain_id, options.artifact, options.seed, options.episode_length, settings)
    except (RuntimeError, ValueError, OSError, ParameterException, SnnControlError) as exc:
        print(f"{PROG}: {one_line(exc)}", file=sys.stderr)
        return 1
    print(json.dumps(json_ready(report), indent=1, allow_nan=False))  # strict: a figure that does not exist is null
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
