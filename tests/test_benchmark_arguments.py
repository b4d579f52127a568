"""Bad command-line input to a benchmark is one `error:` line naming the flag, with exit status 2, before any work:
never a traceback, never after the rendering, training or evolution it would have spoiled. Each case calls the
script's main() in this process (a traceback would fail the test); one runs the script as a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MISSING = "/nonexistent/artifact"

CASES = [
    ("blimp_pid_lag", ["--plants", "0"], "--plants"),
    ("blimp_pid_lag", ["--plants", "-1"], "--plants"),
    ("blimp_pid_lag", ["--hold-s", "0"], "--hold-s"),
    ("blimp_pid_lag", ["--hold-s", "nan"], "--hold-s"),
    ("blimp_pid_lag", ["--hold-s", "1.5"], "--hold-s"),  # under MIN_HOLD_S: no steady state to measure
    ("blimp_pid_lag", ["--seed", "-1"], "--seed"),
    ("blimp_pid_lag", ["--output", "/proc/x.json"], "--output"),
    ("blimp_closed_loop", ["--artifact", MISSING], "--artifact"),
    ("blimp_closed_loop", ["--output", "/proc/x.json"], "--output"),
    ("blimp_overshoot", ["--artifact", MISSING], "--artifact"),
    ("blimp_overshoot", ["--seed", "-1"], "--seed"),
    ("blimp_overshoot", ["--output", "/proc/x.json"], "--output"),
    ("blimp_overshoot", ["--artifact", "shipped:swimmer_ncap"], "--artifact"),  # not a PD+I composite (exit 1 before)
    ("blimp_evolution", ["--peer-generations", "0"], "--peer-generations"),
    ("blimp_evolution", ["--max-generations", "0"], "--max-generations"),
    ("blimp_evolution", ["--seed", "-1"], "--seed"),
    ("blimp_report", ["--plants", "0"], "--plants"),
    ("snn_step", ["--loop-individuals", "0"], "--loop-individuals"),
    ("snn_step", ["--repeats", "0"], "--repeats"),
    ("snn_step", ["--population", "2"], "--loop-individuals"),  # the default 3 individuals of a population of 2
    ("snn_step", ["--seed", "-1"], "--seed"),
    ("sim_step", ["--repeats", "0"], "--repeats"),
    ("sim_step", ["--steps", "0"], "--steps"),
    ("vpr", ["--segments", "0"], "--segments"),
    ("vpr", ["--agreement", "-1"], "--agreement"),
    ("vpr", ["--seq-len", "-1"], "--seq-len"),
    ("vpr", ["--seq-len", "4"], "--seq-len"),
    ("vpr", ["--epochs", "0"], "--epochs"),
    ("vpr", ["--places", "10", "--segments", "3"], "--segments"),
    ("ros_latency", ["--block", "0"], "--block"),
    ("ros_latency", ["--extra-duration", "0"], "--extra-duration"),
    ("ros_latency", ["--duration", "nan"], "--duration"),
    ("ros_latency", ["--domain-id", "233"], "--domain-id"),
    ("ros_latency", ["--domain-id", "-1"], "--domain-id"),
    ("ncap_transfer", ["--artifact", MISSING], "--artifact"),
    ("ncap_transfer", ["--episodes", "0"], "--episodes"),
    ("ncap_transfer", ["--seed", "-1"], "--seed"),
    ("ncap_swimmer_v5_lead", ["--genomes", "0"], "--genomes"),
    ("ncap_swimmer_v5_lead", ["--seed", "-1"], "--seed"),
    ("ncap_swimmer_v5", ["--seeds", "0"], "--seeds"),
    ("ncap_learning", ["--seeds", "0"], "--seeds"),
    ("evolve_throughput", ["--repeats", "0"], "--repeats"),
    ("evolve_throughput", ["--workers", "0"], "--workers"),
]


def _one_error_line(capsys: pytest.CaptureFixture[str], flag: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "no message"
    assert ": error: " in err[-1], err[-1]  # (argparse's prog: error: ...)
    assert flag in err[-1] and "unrecognized arguments" not in err[-1], err[-1]
    assert not any(line.startswith("Traceback") for line in err)
    return err[-1]


@pytest.mark.parametrize(("name", "argv", "flag"), CASES, ids=[f"{c[0]} {' '.join(c[1])}" for c in CASES])
def test_bad_input_is_one_line_naming_the_flag(load_benchmark, capsys, name: str, argv: list[str], flag: str):
    bench = load_benchmark(name)
    with pytest.raises(SystemExit) as exit_info:
        bench.main(argv)
    assert exit_info.value.code == 2
    _one_error_line(capsys, flag)


#: (script, argv with {tmp} for a scratch folder, the flag the line names, the work that must not have begun: a
#: function of the script's made to fail the test if called). Each of these ran the whole flight or swim first
#: and then ended in a traceback (the plot) or, for blimp_overshoot, flew held-out plants.
BEFORE_THE_WORK = [
    ("blimp_closed_loop", ["--plot", "{tmp}/envelope.txt", "--output", "{tmp}/r.json"], "--plot", "evaluate_envelope"),
    ("blimp_closed_loop", ["--plot", "{tmp}/envelope", "--output", "{tmp}/r.json"], "--plot", "evaluate_envelope"),
    ("blimp_closed_loop", ["--plot", "{tmp}/r.json", "--output", "{tmp}/r.json"], "--plot", "evaluate_envelope"),
    ("ncap_transfer", ["--plot", "{tmp}/same.json", "--out", "{tmp}/same.json"], "--plot", "swim"),
    ("ncap_transfer", ["--plot", "{tmp}/same.png", "--out", "{tmp}/same.png"], "--plot", "swim"),
    ("ncap_transfer", ["--plot", "{tmp}/speeds.txt", "--out", "{tmp}/r.json"], "--plot", "swim"),
    ("blimp_overshoot", ["--plants", "821", "--output", "{tmp}/r.json"], "--plants", "load_controller"),
    ("blimp_overshoot", ["--seed", "9139", "--plants", "1", "--bands", "lighter", "--output", "{tmp}/r.json"],
     "--seed", "load_controller"),
    ("blimp_overshoot", ["--seed", "9000", "--plants", "21", "--output", "{tmp}/r.json"], "--plants",
     "load_controller"),
]


@pytest.mark.parametrize(("name", "argv", "flag", "work"), BEFORE_THE_WORK,
                         ids=[f"{c[0]} {' '.join(c[1])}" for c in BEFORE_THE_WORK])
def test_bad_input_is_refused_before_the_work(load_benchmark, capsys, monkeypatch, tmp_path, name: str,
                                              argv: list[str], flag: str, work: str):
    bench = load_benchmark(name)

    def refuse(*_args, **_kwargs):
        raise AssertionError(f"{work} ran before the input was checked")

    monkeypatch.setattr(bench, work, refuse)
    with pytest.raises(SystemExit) as exit_info:
        bench.main([arg.format(tmp=tmp_path) for arg in argv])
    assert exit_info.value.code == 2
    line = _one_error_line(capsys, flag)
    if name == "blimp_overshoot":
        assert "held-out plants 9100..9139" in line
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "same.json").exists()


def test_blimp_closed_loop_refuses_a_controller_of_another_kind_in_one_line(load_benchmark, capsys, tmp_path):
    """It was a SpecError traceback (eval-blimp says it in one line): its adapters do not fit the blimp."""
    bench = load_benchmark("blimp_closed_loop")
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--artifact", "shipped:swimmer_ncap", "--plants", "1", "--output", str(tmp_path / "r.json")])
    assert exit_info.value.code == 2
    assert "observation" in _one_error_line(capsys, "--artifact")
    assert not (tmp_path / "r.json").exists()


def test_blimp_closed_loop_refuses_a_controller_of_another_control_step_in_one_line(load_benchmark, capsys,
                                                                                    monkeypatch, tmp_path):
    from dataclasses import replace

    from snncontrol.artifacts import Controller, load_controller
    from snncontrol.controllers import resolve

    bench = load_benchmark("blimp_closed_loop")
    shipped = load_controller(resolve("shipped:blimp"))
    fast = Controller(replace(shipped.spec, dt=0.05), shipped.genome, io=shipped.io)
    monkeypatch.setattr(bench, "load_controller", lambda _path: fast)
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--plants", "1", "--output", str(tmp_path / "r.json")])
    assert exit_info.value.code == 2
    assert "control step" in _one_error_line(capsys, "--artifact")
    assert not (tmp_path / "r.json").exists()


def test_a_bad_ros_domain_id_in_the_environment_breaks_neither_help_nor_the_message(load_benchmark, capsys,
                                                                                    monkeypatch):
    monkeypatch.setenv("ROS_DOMAIN_ID", "abc")
    bench = load_benchmark("ros_latency")
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--help"])
    assert exit_info.value.code == 0
    assert "--domain-id" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        bench.main([])
    assert exit_info.value.code == 2
    assert "ROS_DOMAIN_ID" in _one_error_line(capsys, "--domain-id")


def test_a_script_run_as_a_user_runs_it_says_why_in_one_line() -> None:
    env = {**os.environ, "MUJOCO_GL": "egl", "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    result = subprocess.run([sys.executable, "benchmarks/blimp_pid_lag.py", "--hold-s", "nan"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("blimp_pid_lag.py: error: argument --hold-s:")
