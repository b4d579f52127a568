"""One command for the blimp-in-simulation graph as separate processes talking over DDS: the sim node, the
controller node (lifecycle, autostart) and optionally the mcap recorder, with the parameters of
launch/config/blimp_sim.yaml (what launch/blimp_sim.launch.xml starts on a full ROS 2 install).

    snncontrol-ros-sim-blimp --duration 30 --record runs/blimp_bag
    python -m snncontrol_ros.run_blimp_sim --help
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import numpy as np

from snncontrol_ros.launcher import config_file, run_sim_graph
from snncontrol_ros.runtime import EXECUTORS


def run(options: argparse.Namespace) -> dict[str, np.ndarray]:
    """The graph of launch/blimp_sim.launch.xml for one episode; returns the sim's log (see `run_sim_graph`)."""
    controller = {"artifact": options.artifact, "control_mode": options.control_mode, "autostart": True}
    sim = {"seed": options.seed, "episode_length_s": options.duration, "mode": options.mode}
    return run_sim_graph(config_file("blimp_sim.yaml"), Path(options.out), controller, sim,
                         record=Path(options.record) if options.record else None,
                         record_params={"use_sim_time": True}, executor=options.executor,
                         domain_id=options.domain_id, timeout_s=options.timeout)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="blimp in simulation: sim node + SNN controller node over DDS")
    p.add_argument("--artifact", default="shipped:blimp", help="controller artifact or shipped:NAME")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration", type=float, default=60.0, help="episode length (s of sim time)")
    p.add_argument("--mode", choices=("lockstep", "realtime"), default="lockstep")
    p.add_argument("--control-mode", choices=("timer", "event", "adaptive"), default="event")
    p.add_argument("--executor", choices=EXECUTORS, default="events")
    p.add_argument("--record", default="", help="record the run to this bag directory (mcap)")
    p.add_argument("--domain-id", type=int, default=None, help="ROS_DOMAIN_ID (default: the environment's)")
    p.add_argument("--out", default="runs/blimp_sim", help="folder for the logs and sim_log.npz")
    p.add_argument("--timeout", type=float, default=900.0, help="wall-clock limit (s)")
    return p


def _exit_on(signum: int, frame: object) -> None:
    """SIGTERM / SIGHUP end the run as Ctrl-C does: the nodes are stopped in order (the recorder closes the bag),
    none is left behind (Python's default action ended this process and orphaned them)."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if options.mode == "lockstep" and options.control_mode != "event":
        parser().error(f"--control-mode {options.control_mode} ticks on sim time, which a lockstep sim moves only when "
                       "a command comes: use --control-mode event, or --mode realtime")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on)
    try:
        log = run(options)
    except (TimeoutError, RuntimeError, FileNotFoundError, FileExistsError) as exc:
        print(f"snncontrol-ros-sim-blimp: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("snncontrol-ros-sim-blimp: interrupted; the nodes were stopped", file=sys.stderr)
        return 130
    error = log["setpoint"] - log["altitude"]
    tail = slice(max(0, len(error) - 100), None)
    print(
        f"{len(error)} steps, lockstep timeouts {int(log['timeouts'])}, mean |error| {np.mean(np.abs(error)):.4f} m, "
        f"last 10 s mean |error| {np.mean(np.abs(error[tail])):.4f} m; log {options.out}/sim_log.npz"
        + (f", bag {options.record}" if options.record else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
