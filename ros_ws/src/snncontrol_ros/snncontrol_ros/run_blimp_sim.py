"""One command for the blimp-in-simulation graph as separate processes talking over DDS: the sim node, the
controller node (lifecycle, autostart) and optionally the mcap recorder, with the parameters of
launch/config/blimp_sim.yaml (what launch/blimp_sim.launch.xml starts on a full ROS 2 install).

    snncontrol-ros-sim-blimp --duration 30 --record runs/blimp_bag
    python -m snncontrol_ros.run_blimp_sim --help
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

CONFIG = Path(__file__).resolve().parents[1] / "launch" / "config" / "blimp_sim.yaml"


def config_file() -> Path:
    """launch/config/blimp_sim.yaml from the source tree, or from the installed share/ directory."""
    if CONFIG.is_file():
        return CONFIG
    share = Path(sys.prefix) / "share" / "snncontrol_ros" / "launch" / "config" / "blimp_sim.yaml"
    if share.is_file():
        return share
    raise FileNotFoundError(f"blimp_sim.yaml not found at {CONFIG} or {share}")


def node_command(module: str, params: dict[str, object], params_file: Path | None = None,
                 executor: str = "single", name: str | None = None) -> list[str]:
    cmd = [sys.executable, "-m", f"snncontrol_ros.{module}", "--executor", executor, "--ros-args"]
    if name:
        cmd += ["-r", f"__node:={name}"]
    if params_file is not None:
        cmd += ["--params-file", str(params_file)]
    for key, value in params.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        cmd += ["-p", f"{key}:={text}"]
    return cmd


class Processes:
    """Started processes, stopped in reverse order: SIGINT, then SIGKILL after `grace_s`."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env
        self.procs: list[subprocess.Popen] = []

    def start(self, cmd: list[str], log: Path | None = None) -> subprocess.Popen:
        out = open(log, "w") if log is not None else None  # noqa: SIM115 (closed in stop)
        proc = subprocess.Popen(cmd, env=self.env, stdout=out or subprocess.DEVNULL, stderr=subprocess.STDOUT)
        proc.log_handle = out  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def stop(self, grace_s: float = 5.0) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + grace_s
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5.0)
            if getattr(proc, "log_handle", None) is not None:
                proc.log_handle.close()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def run(options: argparse.Namespace) -> dict[str, np.ndarray]:
    env = dict(os.environ)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    if options.domain_id is not None:
        env["ROS_DOMAIN_ID"] = str(options.domain_id)
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    log_file = out / "sim_log.npz"
    log_file.unlink(missing_ok=True)
    params_file = config_file()
    controller = {"artifact": options.artifact, "control_mode": options.control_mode, "autostart": True}
    sim = {"seed": options.seed, "episode_length_s": options.duration, "mode": options.mode,
           "log_file": str(log_file), "exit_on_done": True}
    with ExitStack() as stack:
        procs = stack.enter_context(Processes(env))
        if options.record:
            procs.start(node_command("recorder", {"output": options.record, "use_sim_time": True}),
                        out / "recorder.log")
        procs.start(node_command("controller_node", controller, params_file, options.executor, "snn_controller"),
                    out / "controller.log")
        sim_proc = procs.start(node_command("sim_node", sim, params_file, options.executor, "sim"), out / "sim.log")
        deadline = time.monotonic() + options.timeout
        while sim_proc.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the simulation did not finish in {options.timeout} s; see {out}/*.log")
            time.sleep(0.1)
    if not log_file.is_file():
        raise RuntimeError(f"the sim node wrote no log; see {out}/sim.log")
    with np.load(log_file) as data:
        return {key: data[key] for key in data.files}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="blimp in simulation: sim node + SNN controller node over DDS")
    p.add_argument("--artifact", default="shipped:blimp", help="controller artifact or shipped:NAME")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration", type=float, default=60.0, help="episode length (s of sim time)")
    p.add_argument("--mode", choices=("lockstep", "realtime"), default="lockstep")
    p.add_argument("--control-mode", choices=("timer", "event", "adaptive"), default="event")
    p.add_argument("--executor", choices=("single", "multi", "events"), default="events")
    p.add_argument("--record", default="", help="record the run to this bag directory (mcap)")
    p.add_argument("--domain-id", type=int, default=None, help="ROS_DOMAIN_ID (default: the environment's)")
    p.add_argument("--out", default="runs/blimp_sim", help="folder for the logs and sim_log.npz")
    p.add_argument("--timeout", type=float, default=900.0, help="wall-clock limit (s)")
    return p


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    log = run(options)
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
