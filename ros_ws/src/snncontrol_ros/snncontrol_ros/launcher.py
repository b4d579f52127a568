"""Node graphs as separate processes talking over DDS, with the parameter files of launch/config: what
`ros2 launch` does with launch/*.launch.xml, for machines without a full ROS 2 install (and for the tests).

- `config_file(name)`: launch/config/<name> from the source tree, or from the installed share/ directory.
- `node_command(...)`: the command line of one snncontrol_ros node.
- `Processes`: starts processes and stops them in reverse order, one at a time, each with its own grace
  period (SIGINT, then SIGKILL when it runs out), and keeps how each one ended.
- `run_sim_graph(...)`: a sim node in lockstep with a controller node (and optionally the recorder) until the
  episode ends; the controller is stopped first, then the recorder gets its grace period to drain what is in
  flight and close the bag. A node that ends before the sim (e.g. a recorder refusing a bag that exists) stops
  the run at once with the last line of its log. Returns the sim's log (`SimNode.log_arrays`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

CONFIG_DIR = Path(__file__).resolve().parents[1] / "launch" / "config"
#: Grace periods (s, wall clock) between SIGINT and SIGKILL: a node sends its safe command and exits in well
#: under a second on an idle machine; the recorder first drains (at most its drain_timeout_s) and closes.
NODE_GRACE_S, RECORDER_GRACE_S = 10.0, 60.0
READY_TOPIC = "/recorder/ready"


def config_file(name: str) -> Path:
    """launch/config/`name` from the source tree, or from share/snncontrol_ros/launch/config when installed."""
    share = Path(sys.prefix) / "share" / "snncontrol_ros" / "launch" / "config" / name
    for path in (CONFIG_DIR / name, share):
        if path.is_file():
            return path
    raise FileNotFoundError(f"{name} not found in {CONFIG_DIR} or {share.parent}")


def node_command(module: str, params: dict[str, object], params_file: Path | None = None,
                 executor: str = "events", name: str | None = None) -> list[str]:
    """`python -m snncontrol_ros.<module>` with a node name, a parameter file and `-p` overrides."""
    cmd = [sys.executable, "-m", f"snncontrol_ros.{module}", "--executor", executor, "--ros-args"]
    if name:
        cmd += ["-r", f"__node:={name}"]
    if params_file is not None:
        cmd += ["--params-file", str(params_file)]
    for key, value in params.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        cmd += ["-p", f"{key}:={text}"]
    return cmd


@dataclass
class Started:
    proc: subprocess.Popen
    log: IO[str] | None
    grace_s: float
    returncode: int | None = None  # how it ended: 0 after a clean exit, -9 if it had to be killed

    def last_line(self) -> str:
        """The last line of its log ('' without one)."""
        if self.log is None:
            return ""
        lines = Path(self.log.name).read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""


class Processes:
    """Started processes, stopped in reverse order of start (SIGINT, then SIGKILL after each one's grace)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env
        self.started: list[Started] = []

    def start(self, cmd: list[str], log: Path | None = None, grace_s: float = NODE_GRACE_S) -> Started:
        out = open(log, "w") if log is not None else None  # noqa: SIM115 (closed in stop)
        proc = subprocess.Popen(cmd, env=self.env, stdout=out or subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.started.append(Started(proc, out, grace_s))
        return self.started[-1]

    def stop(self) -> None:
        """Each process in turn: SIGINT, wait up to its grace period, SIGKILL if it is still running."""
        for item in reversed(self.started):
            if item.proc.poll() is None:
                item.proc.send_signal(signal.SIGINT)
                try:
                    item.proc.wait(timeout=item.grace_s)
                except subprocess.TimeoutExpired:
                    item.proc.kill()
                    item.proc.wait(timeout=5.0)
            item.returncode = item.proc.returncode
            if item.log is not None:
                item.log.close()
        self.started = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def run_sim_graph(
    config: Path,
    out: Path,
    controller: dict[str, object],
    sim: dict[str, object],
    record: Path | None = None,
    record_params: dict[str, object] | None = None,
    executor: str = "events",
    domain_id: int | None = None,
    timeout_s: float = 900.0,
) -> dict[str, np.ndarray]:
    """Run `sim` (node "sim") and `controller` (node "snn_controller") with the parameter file `config` plus
    these overrides, the recorder writing the bag `record` when given, until the sim's episode ends; the logs
    go to `out`/*.log. Raises TimeoutError past `timeout_s` and RuntimeError when the sim wrote no log or the
    recorder did not close the bag cleanly. ROS_DOMAIN_ID: `domain_id`, else the environment's; discovery stays
    on this host."""
    if record is not None and record.exists():  # the recorder would refuse it: say so before anything starts
        raise FileExistsError(f"{record} exists already: the recorder writes a new bag directory")
    env = dict(os.environ)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    if domain_id is not None:
        env["ROS_DOMAIN_ID"] = str(domain_id)
    out.mkdir(parents=True, exist_ok=True)
    log_file = out / "sim_log.npz"
    log_file.unlink(missing_ok=True)
    sim = {**sim, "log_file": str(log_file), "exit_on_done": True}
    with Processes(env) as procs:
        recorder = None
        if record is not None:
            params = {"output": str(record), "reliability": "reliable", "ready_topic": READY_TOPIC,
                      **(record_params or {})}
            recorder = procs.start(node_command("recorder", params), out / "recorder.log", RECORDER_GRACE_S)
            # the first reading waits until the recorder hears every publisher and the sim hears the recorder
            sim.update(lockstep_subscribers=2, start_after_topic=READY_TOPIC)
        procs.start(node_command("controller_node", controller, config, executor, "snn_controller"),
                    out / "controller.log")
        sim_proc = procs.start(node_command("sim_node", sim, config, executor, "sim"), out / "sim.log").proc
        deadline = time.monotonic() + timeout_s
        while sim_proc.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the simulation did not finish in {timeout_s} s; see {out}/*.log")
            for item in procs.started:
                if item.proc.poll() is not None and item.proc is not sim_proc:
                    raise RuntimeError(f"{Path(item.log.name).name if item.log else 'a node'} ended before the "
                                       f"simulation (exit {item.proc.returncode}): {item.last_line()}")
            time.sleep(0.1)
    if recorder is not None and recorder.returncode != 0:
        raise RuntimeError(f"the recorder did not close {record} cleanly (exit {recorder.returncode}); "
                           f"see {out}/recorder.log")
    if not log_file.is_file():
        raise RuntimeError(f"the sim node wrote no log; see {out}/sim.log")
    with np.load(log_file) as data:
        return {key: data[key] for key in data.files}
