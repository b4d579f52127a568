"""Node graphs as separate processes talking over DDS, with the parameter files of launch/config: what
`ros2 launch` does with launch/*.launch.xml, for machines without a full ROS 2 install (and for the tests).

- `config_file(name)`: launch/config/<name> from the source tree, or from the installed share/ directory.
- `node_parameters(config, node)`: one node's section of such a parameter file.
- `node_command(...)`: the command line of one snncontrol_ros node.
- `Processes`: starts processes and stops them in reverse order, one at a time, each with its own grace
  period (SIGINT, then SIGKILL when it runs out), and keeps how each one ended.
- `run_sim_graph(...)`: a sim node in lockstep with a controller node (and optionally the recorder) until the
  episode ends; the controller is stopped first, then the recorder gets its grace period to drain what is in
  flight and close the bag. A node that ends before the sim (e.g. a recorder refusing a bag that exists, a
  controller whose autostart failed), or a sim that ends without its log, stops the run at once with the last
  line of its log. The run writes into a temporary folder beside its output folder and replaces that folder
  only once it has succeeded: an earlier run's results stay until then, and a failed run's logs go to
  `<out>.failed`. Returns the sim's log (`SimNode.log_arrays`).
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import yaml

from snncontrol import atomic
from snncontrol_ros.runtime import DOMAIN_IDS

PACKAGE = "snncontrol_ros"
CONFIG_DIR = Path(__file__).resolve().parents[1] / "launch" / "config"
#: Grace periods (s, wall clock) between SIGINT and SIGKILL: a node sends its safe command and exits in well
#: under a second on an idle machine; the recorder first drains (at most its drain_timeout_s) and closes.
NODE_GRACE_S, RECORDER_GRACE_S = 10.0, 60.0
READY_TOPIC = "/recorder/ready"
#: what a run writes into its output folder (and all an earlier run's folder may hold to be replaced)
RUN_FILES = ("sim_log.npz", "sim.log", "controller.log", "recorder.log")


class RunFailed(RuntimeError):
    """The run ended without its result; the message ends with where its logs are."""


def failed_folder(out: Path) -> Path:
    """Where the logs of a run into `out` that failed go: `<out>.failed`, beside it."""
    return out.with_name(f"{out.name}.failed")


def config_file(name: str) -> Path:
    """launch/config/`name`: from the source tree; else from the share directory of the installed package, found
    through the ament index (AMENT_PREFIX_PATH: a colcon install puts this module under
    install/snncontrol_ros/lib/python3.x/site-packages, the files under install/snncontrol_ros/share) or under
    sys.prefix (a pip install). FileNotFoundError (one line, naming where it looked) when none holds it."""
    places = [CONFIG_DIR, Path(sys.prefix) / "share" / PACKAGE / "launch" / "config"]
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
    except ImportError:  # (a plain pip install without ROS: the two places above)
        pass
    else:
        # (not in the ament index: AMENT_PREFIX_PATH unset (an OSError) or naming other workspaces only)
        with contextlib.suppress(PackageNotFoundError, ValueError, OSError):
            places.insert(1, Path(get_package_share_directory(PACKAGE, print_warning=False)) / "launch" / "config")
    for place in places:
        if (place / name).is_file():
            return place / name
    raise FileNotFoundError(f"{name} not found in {', '.join(str(place) for place in places)}")


def node_parameters(config: Path, node: str) -> dict[str, Any]:
    """The parameters that the parameter file `config` (launch/config/*.yaml) gives the node named `node`: its
    `<node>: ros__parameters:` section (ValueError, one line, when the file has none)."""
    document = yaml.safe_load(Path(config).read_text())
    section = document.get(node) if isinstance(document, dict) else None
    if not isinstance(section, dict) or not isinstance(section.get("ros__parameters"), dict):
        raise ValueError(f"{config} has no '{node}: ros__parameters:' section")
    return dict(section["ros__parameters"])


def yaml_value(value: object) -> str:
    """`value` as the YAML that rcl reads after `-p name:=`: a string double-quoted (JSON's quoting is valid YAML),
    so that it stays a string whatever it looks like ("2024", "a #b", "x: y", "true"); a bool as true / false, a
    float's NaN and infinities as .nan / .inf / -.inf, a list or tuple as a flow sequence of such values."""
    if isinstance(value, np.generic):  # (numpy scalars: np.float64(1.5) wrote itself so, np.int64(5) as "5")
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_value(item) for item in value) + "]"
    return json.dumps(str(value))


def node_command(module: str, params: dict[str, object], params_file: Path | None = None,
                 executor: str = "events", name: str | None = None) -> list[str]:
    """`python -m snncontrol_ros.<module>` with a node name, a parameter file and `-p` overrides (each value
    written by `yaml_value`, so that rcl reads it back as it was given)."""
    cmd = [sys.executable, "-m", f"snncontrol_ros.{module}", "--executor", executor, "--ros-args"]
    if name:
        cmd += ["-r", f"__node:={name}"]
    if params_file is not None:
        cmd += ["--params-file", str(params_file)]
    for key, value in params.items():
        cmd += ["-p", f"{key}:={yaml_value(value)}"]
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
    """Started processes, stopped in reverse order of start (SIGINT, then SIGKILL after each one's grace). They share
    the starter's process group, so a terminal's Ctrl-C or hang-up reaches each of them too, and each stops as on
    Ctrl-C (`runtime.run_node` handles SIGINT, SIGTERM and SIGHUP)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env
        self.started: list[Started] = []

    def start(self, cmd: list[str], log: Path | None = None, grace_s: float = NODE_GRACE_S) -> Started:
        out = open(log, "w") if log is not None else None  # noqa: SIM115 (closed in stop)
        proc = subprocess.Popen(cmd, env=self.env, stdout=out or subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.started.append(Started(proc, out, grace_s))
        return self.started[-1]

    def stop(self) -> None:
        """Each process in turn: SIGINT, wait up to its grace period, SIGKILL if it is still running. A Ctrl-C or
        SIGTERM / SIGHUP that arrives meanwhile (raised here as KeyboardInterrupt / SystemExit) is raised once every
        process is stopped, each within its own grace (a second signal ended this loop and left the recorder,
        stopped last, running with its bag open)."""
        interrupted: BaseException | None = None
        for item in reversed(self.started):
            deadline, signalled = time.monotonic() + item.grace_s, False
            while True:
                try:
                    if not signalled and item.proc.poll() is None:
                        item.proc.send_signal(signal.SIGINT)
                    signalled = True
                    self._end(item, deadline)
                    break
                except (KeyboardInterrupt, SystemExit) as exc:  # (the first one stays the one raised)
                    interrupted = interrupted or exc
        self.started = []
        if interrupted is not None:
            raise interrupted

    @staticmethod
    def _end(item: Started, deadline: float) -> None:
        """Wait for `item` until `deadline` (time.monotonic), then SIGKILL it; close its log."""
        try:
            item.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            item.proc.kill()
            item.proc.wait(timeout=5.0)
        item.returncode = item.proc.returncode
        if item.log is not None:
            item.log.close()

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
    these overrides, the recorder writing the bag `record` when given, until the sim's episode ends. The logs
    (`RUN_FILES`: sim_log.npz, <node>.log) are written into a temporary folder beside `out`, which replaces `out`
    once the run has succeeded; until then an earlier run's folder `out` stays as it was. A run that fails or is
    interrupted leaves `out` untouched and its logs in `failed_folder(out)` (replacing an earlier failed run's),
    and raises RunFailed (a RuntimeError) naming the reason: a node that ended before the sim (the last line of
    its log), a sim that ended without its log, a recorder that did not close the bag cleanly, or `timeout_s`
    passed. Checked before anything starts (ValueError / FileExistsError / OSError, one line): `domain_id` in
    `DOMAIN_IDS`, `timeout_s` > 0, a bag `record` that does not exist and is not inside `out`, and an `out` (and
    `<out>.failed`) that is absent or an earlier run's folder, holding only `RUN_FILES` (anything else there is
    never replaced). ROS_DOMAIN_ID: `domain_id`, else the environment's; discovery stays on this host."""
    out = Path(out)
    if domain_id is not None and not DOMAIN_IDS[0] <= domain_id <= DOMAIN_IDS[1]:
        raise ValueError(f"domain id must be within {DOMAIN_IDS[0]}..{DOMAIN_IDS[1]}, got {domain_id}")
    if not timeout_s > 0:
        raise ValueError(f"timeout must be > 0 s, got {timeout_s}")
    if out.name in ("", ".", ".."):
        raise ValueError(f"the output folder must be named (each run replaces it), got {str(out)!r}")
    if record is not None and record.exists():  # the recorder would refuse it: say so before anything starts
        raise FileExistsError(f"{record} exists already: the recorder writes a new bag directory")
    failed = failed_folder(out)
    bag = Path(os.path.abspath(record)) if record is not None else None
    if bag is not None and any(bag == Path(os.path.abspath(f)) or Path(os.path.abspath(f)) in bag.parents
                               for f in (out, failed)):
        raise ValueError(f"the bag {record} would be in the output folder {out} (or {failed.name}), which each run "
                         "replaces: record it elsewhere")
    atomic.restore_aside(out.parent, glob.escape(out.name))  # an earlier run's folder a kill left renamed aside
    for folder in (out, failed):
        atomic.check_replaceable(folder, RUN_FILES, files_only=True)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot write {out}: {exc.strerror or exc}") from None
    atomic.check_can_create_in(out.parent, out)
    work = atomic.new_sibling_folder(out, "run.")  # (a killed run's stays: it may be another run's, live)
    try:
        log = _run(config, work, controller, sim, record, record_params, executor, domain_id, timeout_s)
    except Exception as exc:
        kept = f"; {out} is as it was" if out.exists() else ""
        raise RunFailed(f"{exc}; logs in {_keep(work, failed)}{kept}") from None
    except BaseException:  # Ctrl-C, SIGTERM: the nodes were stopped; their logs are kept all the same
        _keep(work, failed)
        raise
    where = _keep(work, out)
    if where != out:  # (files were put into `out` meanwhile)
        raise RunFailed(f"{out} holds files of another kind now: not replaced; this run's results are in {where}")
    return log


def _keep(work: Path, folder: Path) -> Path:
    """Put the run's folder `work` in place of `folder` (absent, or an earlier run's: `atomic.check_replaceable`)
    with one rename, the earlier one renamed aside first and removed afterwards; anything else there is never
    replaced: then `work` stays where it is. Returns where the run's files are. A run killed outright leaves its
    hidden folder `.<name>.run.*` beside `folder` (not removed by later runs: it may be another run's, live)."""
    for entry in work.iterdir():  # e.g. a temporary a killed write left: the folder holds RUN_FILES only
        if entry.name in RUN_FILES:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    try:
        atomic.check_replaceable(folder, RUN_FILES, files_only=True)
    except FileExistsError:
        return work
    atomic.replace_directory(work, folder)  # (a kill between its two renames: restored by the next run)
    return folder


def run_environment(domain_id: int | None) -> dict[str, str]:
    """The environment of a run's nodes: this process's, with discovery on this host only, whatever the caller's
    environment says (ROS_AUTOMATIC_DISCOVERY_RANGE LOCALHOST, no ROS_STATIC_PEERS: a simulated graph has nothing
    to find elsewhere, and no traffic may leave the machine), in domain `domain_id` where given."""
    env = dict(os.environ)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env.pop("ROS_STATIC_PEERS", None)
    if domain_id is not None:
        env["ROS_DOMAIN_ID"] = str(domain_id)
    return env


def _run(config: Path, work: Path, controller: dict[str, object], sim: dict[str, object], record: Path | None,
         record_params: dict[str, object] | None, executor: str, domain_id: int | None,
         timeout_s: float) -> dict[str, np.ndarray]:
    """The run of `run_sim_graph`, its files in the folder `work`."""
    env = run_environment(domain_id)
    log_file = work / "sim_log.npz"
    sim = {**sim, "log_file": str(log_file), "exit_on_done": True}
    with Processes(env) as procs:
        recorder = None
        if record is not None:
            params = {"output": str(record), "reliability": "reliable", "ready_topic": READY_TOPIC,
                      **(record_params or {})}
            recorder = procs.start(node_command("recorder", params), work / "recorder.log", RECORDER_GRACE_S)
            # the first reading waits until the recorder hears every publisher and the sim hears the recorder
            sim.update(lockstep_subscribers=2, start_after_topic=READY_TOPIC)
        procs.start(node_command("controller_node", controller, config, executor, "snn_controller"),
                    work / "controller.log")
        sim_node = procs.start(node_command("sim_node", sim, config, executor, "sim"), work / "sim.log")
        deadline = time.monotonic() + timeout_s
        while sim_node.proc.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the simulation did not finish in {timeout_s:g} s")
            for item in procs.started:
                if item.proc.poll() is not None and item is not sim_node:
                    raise RuntimeError(f"{Path(item.log.name).name if item.log else 'a node'} ended before the "
                                       f"simulation (exit {item.proc.returncode}): {item.last_line()}")
            time.sleep(0.1)
    if sim_node.returncode != 0 or not log_file.is_file():
        raise RuntimeError(f"sim.log ended without the simulation's log (exit {sim_node.returncode}): "
                           f"{sim_node.last_line()}")
    if recorder is not None and recorder.returncode != 0:
        raise RuntimeError(f"the recorder did not close {record} cleanly (exit {recorder.returncode}): "
                           f"{recorder.last_line()}")
    with np.load(log_file) as data:
        return {key: data[key] for key in data.files}
