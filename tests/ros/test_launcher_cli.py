"""The commands a new user runs first: `snncontrol-ros-sim-blimp` (`snncontrol_ros.run_blimp_sim`, separate node
processes) and `python -m snncontrol_ros.graph` (in-process graph). A bad option is one line before any node
starts; a controller that cannot configure ends the run at once with its reason (it waited for a 15-minute
timeout); a rerun into an earlier run's folder replaces it only once it has succeeded (the earlier sim_log.npz was
deleted before the new run started, and its recorder.log stayed among the new logs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from snncontrol_ros import graph, run_blimp_sim, sim_node
from snncontrol_ros.launcher import RunFailed, config_file, run_sim_graph


def launcher(*args: str) -> list[str]:
    return [sys.executable, "-m", "snncontrol_ros.run_blimp_sim", *args]


def earlier_run(out: Path) -> dict[str, bytes]:
    """A folder as an earlier recorded run left it: its files' contents."""
    out.mkdir(parents=True)
    np.savez(out / "sim_log.npz", altitude=np.arange(3.0))
    for name in ("sim.log", "controller.log", "recorder.log"):
        (out / name).write_text(f"earlier {name}\n")
    return {path.name: path.read_bytes() for path in out.iterdir()}


def test_the_launcher_ranges_are_the_sim_nodes():
    assert sim_node.RANGES["seed"] == run_blimp_sim.SEEDS
    assert sim_node.RANGES["episode_length_s"] == run_blimp_sim.DURATION_S


@pytest.mark.parametrize(("args", "reason"), [
    (["--duration", "0"], "argument --duration: must be >= 0.01"),
    (["--duration", "-5"], "argument --duration: must be >= 0.01"),
    (["--duration", "nan"], "argument --duration: must be >= 0.01"),
    (["--seed", "-1"], "argument --seed: must be >= 0"),
    (["--domain-id", "300"], "argument --domain-id: must be >= 0 and <= 232, got '300'"),
    (["--timeout", "0"], "argument --timeout: must be > 0"),
    (["--control-mode", "timer"], "--control-mode timer ticks on sim time"),
])
def test_bad_launcher_options_say_why_in_one_line_before_any_node_starts(tmp_path: Path, capsys, args, reason):
    """`--duration 0` started the nodes and said 'the sim node wrote no log; see .../sim.log'."""
    with pytest.raises(SystemExit) as stop:
        run_blimp_sim.main([*args, "--out", str(tmp_path / "run")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(lines) == 1 and reason in lines[0], lines
    assert lines[0].startswith("snncontrol-ros-sim-blimp: error: ")
    assert not (tmp_path / "run").exists()  # nothing started


@pytest.mark.parametrize(("artifact", "reason"), [
    ("/nonexistent", "artifact /nonexistent: not found"),
    ("shipped:swimmer_ncap", "do not fit the artifact"),
])
def test_a_rerun_whose_controller_cannot_configure_stops_at_once_and_keeps_the_earlier_run(
        ros_domain_id, tmp_path: Path, artifact, reason):
    out = tmp_path / "run"
    before = earlier_run(out)
    start = time.monotonic()
    done = subprocess.run(launcher("--duration", "5", "--artifact", artifact, "--out", str(out),
                                   "--domain-id", str(ros_domain_id)),
                          env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert time.monotonic() - start < 50.0  # (the old code waited out its 900 s timeout)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "controller.log ended before the simulation (exit 1)" in lines[0] and reason in lines[0], lines[0]
    assert f"logs in {out}.failed; {out} is as it was" in lines[0]
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before  # the earlier run, untouched
    assert reason in (tmp_path / "run.failed" / "controller.log").read_text()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run", "run.failed"]  # no temporary left


def test_a_rerun_that_succeeds_replaces_the_earlier_run_whole(ros_domain_id, tmp_path: Path):
    out = tmp_path / "run"
    earlier_run(out)
    (tmp_path / "run.failed").mkdir()  # an earlier failed run's logs stay where they are
    done = subprocess.run(launcher("--duration", "1", "--out", str(out), "--domain-id", str(ros_domain_id)),
                          env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in out.iterdir()) == ["controller.log", "sim.log", "sim_log.npz"]  # no recorder
    with np.load(out / "sim_log.npz") as log:
        assert len(log["altitude"]) == 10  # 1 s at 10 Hz: this run's
    assert "earlier" not in (out / "sim.log").read_text()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run", "run.failed"]


def test_an_output_folder_that_is_not_a_runs_is_never_replaced(ros_domain_id, tmp_path: Path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"holds notes\.txt, not an output of this kind: not replaced"):
        run_sim_graph(config_file("blimp_sim.yaml"), out, {}, {}, domain_id=ros_domain_id)
    for bag in (tmp_path / "run" / "bag", tmp_path / "run", tmp_path / "run.failed" / "bag"):  # (the last two ran
        with pytest.raises(ValueError, match="would be in the output folder"):  # a whole flight before failing)
            run_sim_graph(config_file("blimp_sim.yaml"), tmp_path / "run", {}, {}, record=bag)
    assert (out / "notes.txt").read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_a_sim_that_ends_early_says_why(ros_domain_id, tmp_path: Path):
    """It said only 'the sim node wrote no log; see .../sim.log'."""
    with pytest.raises(RunFailed, match=r"sim.log ended without the simulation's log \(exit 2\): .*cannot start: "
                                        r".*episode_length_s out of range"):
        run_sim_graph(config_file("blimp_sim.yaml"), tmp_path / "run", {}, {"episode_length_s": 0.0},
                      domain_id=ros_domain_id, timeout_s=60.0)


@pytest.mark.parametrize(("args", "reason"), [
    (["--episode-length", "-1"], "argument --episode-length: must be >= 0.01"),
    (["--max-interval", "0"], "argument --max-interval: must be >= 1 and <= 1000, got '0'"),
    (["--max-interval", "4", "two"], "argument --max-interval: expected an integer"),
    (["--delta", "-1"], "argument --delta: must be > 0, got '-1'"),
    (["--seed", "-3"], "argument --seed: must be >= 0"),
    (["--domain-id", "233"], "argument --domain-id: must be >= 0 and <= 232"),
])
def test_bad_graph_numbers_say_why_in_one_line(capsys, args, reason):
    """`--episode-length -1` ended in rclpy's InvalidParameterValueException traceback (`--max-interval 0` after
    a whole baseline episode); `--delta -1` ran until the 600 s timeout."""
    with pytest.raises(SystemExit) as stop:
        graph.main(args)
    lines = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(lines) == 1 and reason in lines[0], lines
    assert lines[0].startswith("python -m snncontrol_ros.graph: error: ")


def test_the_graph_with_a_controller_that_cannot_configure_says_why_in_one_line(ros_domain_id, capfd):
    """It ran the sim against a silent controller until its 600 s timeout."""
    start = time.monotonic()
    assert graph.main(["--artifact", "/nonexistent", "--domain-id", str(ros_domain_id)]) == 1
    assert time.monotonic() - start < 50.0  # (the old code waited out its 900 s timeout)
    lines = capfd.readouterr().err.strip().splitlines()  # (capfd: the EventsExecutor's faulthandler needs a fd)
    assert lines == ["python -m snncontrol_ros.graph: the controller node cannot configure: artifact /nonexistent: "
                     "not found (an artifact is a directory with controller.json and params.safetensors)"], lines


def test_the_graph_report_is_strict_json_where_a_figure_does_not_exist(ros_domain_id, capfd):
    """A 1 s episode holds no set-point long enough for a steady-state error: it printed NaN, which strict JSON
    parsers refuse."""
    assert graph.main(["--episode-length", "1", "--max-interval", "4", "--domain-id", str(ros_domain_id)]) == 0
    report = json.loads(capfd.readouterr().out, parse_constant=lambda name: pytest.fail(f"{name} in the report"))
    assert report["baseline"]["ss_error_m"] is None and report["episode_length_s"] == 1.0
