"""One command for the blimp-in-simulation graph as separate processes talking over DDS: the sim node, the
controller node (lifecycle, autostart) and optionally the mcap recorder, with the parameters of
launch/config/blimp_sim.yaml (what launch/blimp_sim.launch.xml starts on a full ROS 2 install).

    snncontrol-ros-sim-blimp --duration 30 --record runs/blimp_bag
    python -m snncontrol_ros.run_blimp_sim --help

A bad option is refused in one line before any node starts (exit 2); a run that fails says why in one line, the
last line of the log of the node that stopped it (exit 1). `--out` is replaced only by a run that succeeded (see
`snncontrol_ros.launcher.run_sim_graph`).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import numpy as np

from snncontrol.arguments import bounded
from snncontrol_ros.launcher import RUN_FILES, config_file, failed_folder, run_sim_graph
from snncontrol_ros.runtime import DOMAIN_IDS, EXECUTORS, OneLineParser
from snncontrol_ros.sim_ranges import RANGES

PROG = "snncontrol-ros-sim-blimp"
SEEDS, DURATION_S = RANGES["seed"], RANGES["episode_length_s"]  # the sim node's


def run(options: argparse.Namespace) -> dict[str, np.ndarray]:
    """The graph of launch/blimp_sim.launch.xml for one episode; returns the sim's log (see `run_sim_graph`)."""
    controller = {"artifact": options.artifact, "control_mode": options.control_mode, "autostart": True}
    sim = {"seed": options.seed, "episode_length_s": options.duration, "mode": options.mode}
    return run_sim_graph(config_file("blimp_sim.yaml"), Path(options.out), controller, sim,
                         record=Path(options.record) if options.record else None,
                         record_params={"use_sim_time": True}, executor=options.executor,
                         domain_id=options.domain_id, timeout_s=options.timeout)


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog=PROG, description="blimp in simulation: sim node + SNN controller node over DDS")
    p.add_argument("--artifact", default="shipped:blimp", help="controller artifact or shipped:NAME")
    p.add_argument("--seed", type=bounded(int, *SEEDS), default=0, help=f"episode seed ({SEEDS[0]}..{SEEDS[1]})")
    p.add_argument("--duration", type=bounded(float, *DURATION_S), default=60.0,
                   help=f"episode length (s of sim time, {DURATION_S[0]:g}..{DURATION_S[1]:g})")
    p.add_argument("--mode", choices=("lockstep", "realtime"), default="lockstep")
    p.add_argument("--control-mode", choices=("timer", "event", "adaptive"), default="event")
    p.add_argument("--executor", choices=EXECUTORS, default="events")
    p.add_argument("--record", default="", help="record the run to this bag directory (mcap; must not exist, "
                                                "nor be inside --out)")
    p.add_argument("--domain-id", type=bounded(int, *DOMAIN_IDS), default=None,
                   help=f"ROS_DOMAIN_ID, {DOMAIN_IDS[0]}..{DOMAIN_IDS[1]} (default: the environment's)")
    p.add_argument("--out", default="runs/blimp_sim",
                   help=f"folder for the run's {', '.join(RUN_FILES)}; an earlier run's folder there is replaced "
                        "once this run has succeeded (a folder holding other files is refused), and a run that "
                        "fails leaves it as it was, with its own logs in OUT.failed")
    p.add_argument("--timeout", type=bounded(float, 0.0, float("inf"), above=True), default=900.0,
                   help="wall-clock limit (s)")
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
    except (RuntimeError, ValueError, OSError) as exc:  # (each one line: run_sim_graph, config_file)
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; the nodes were stopped, their logs are in "
              f"{failed_folder(Path(options.out))}", file=sys.stderr)
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
