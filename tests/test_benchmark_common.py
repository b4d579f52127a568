"""benchmarks/common.py and the JSON writer every result goes through (snncontrol.atomic.write_json): the result
JSON is strict (NaN and infinities null) and written atomically, a ratio to a peer that is zero or negative is NaN
(null / 'nan'), not a huge number, and the machine a timing ran on is named."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from snncontrol.atomic import json_ready, write_json


def _refuse(token: str) -> None:
    raise ValueError(f"non-strict JSON token {token}")


@pytest.fixture
def common(load_benchmark):
    return load_benchmark("common")


def test_write_json_writes_null_for_nan_and_is_strict(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "result.json"
    document = {"nan": float("nan"), "inf": -math.inf, "numpy": np.float64("nan"), "int": np.int64(3),
                "nested": [{"x": (1.5, float("inf"))}], "array": np.array([1.0, np.nan])}
    assert write_json(path, document) == path
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text, parse_constant=_refuse) == {"nan": None, "inf": None, "numpy": None, "int": 3,
                                                        "nested": [{"x": [1.5, None]}], "array": [1.0, None]}
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary left behind


@pytest.mark.parametrize("peer", [0.0, -2.0, float("nan"), 0])
def test_a_ratio_to_a_peer_that_is_not_positive_is_nan(common, peer: float) -> None:
    value = common.ratio(3.0, peer)
    assert math.isnan(value)
    assert f"{value:.2f}" == "nan"
    assert json.loads(json.dumps(json_ready({"ratio": value}))) == {"ratio": None}


def test_a_ratio_to_a_positive_peer_is_the_plain_quotient(common) -> None:
    assert common.ratio(3.0, 2.0) == 1.5
    assert common.ratio(1e-12, 1e-12) == 1.0  # (no floor on the peer: 1e-9 gave 0.001 here)
    values = common.ratios(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 0.0, -1.0, 4.0]))
    assert values[0] == 0.5 and values[3] == 1.0 and np.isnan(values[1:3]).all()


def test_the_ratios_of_the_benchmarks_are_guarded(load_benchmark) -> None:
    """What the reviewed scripts divided by max(peer, 1e-9) or by the peer itself now gives nan."""
    learning = load_benchmark("ncap_learning")
    rows = {"spiking NCAP": {"final_return_mean": 500.0, "init_return_mean": 10.0, "parameters": 4},
            "MLP(64, 64)": {"final_return_mean": 0.0, "init_return_mean": 0.0, "parameters": 4800}}
    assert " ratio=nan " in learning.result(rows)[0]
    report = load_benchmark("blimp_report")
    figures = {"ss_error_cm_median": 1.0, "overshoot_up_cm_median": 0.0}
    line, _ = report.result({"disturbed": {report.GRADED_STAGE[1]: figures, report.PID_ROW: figures}})
    assert line.endswith("pid_over_snn_overshoot=nan")  # was a ZeroDivisionError


def test_machine_info_names_the_cpu_model_and_the_load(common) -> None:
    machine = common.machine_info()
    cpuinfo = Path("/proc/cpuinfo")
    models = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")] \
        if cpuinfo.is_file() else []
    if models:  # (not platform.processor()'s 'x86_64')
        assert machine["cpu"] == models[0].split(":", 1)[1].strip()
    assert machine["cpu"] and len(machine["load_average_1_5_15_min"]) == 3 and machine["cores"] >= 1


def test_the_result_line_and_its_mapping_say_the_same(common, tmp_path: Path) -> None:
    """The RESULT line's keys and values are what the result JSON's `result` holds (rounded as printed; nan is
    null), whatever each figure's format."""
    values = {"targets_met": "5/8", "count": np.int64(3), "ratio": np.float64(1.23456), "speed": (0.035312, ".4f"),
              "rate": (123456.0, ".3e"), "missing": float("nan"), "status": "missing stage=x", "empty": ""}
    line, mapping = common.result_line("demo", values)
    assert line == ("RESULT demo targets_met=5/8 count=3 ratio=1.23 speed=0.0353 rate=1.235e+05 missing=nan "
                    "status=missing_stage_x empty=-")
    assert json_ready(common.parse_result_line(line)) == ["demo", json_ready(mapping)]  # (nan != nan: as null)
    assert mapping["count"] == 3 and mapping["ratio"] == 1.23 and mapping["rate"] == 123500.0
    assert math.isnan(mapping["missing"])
    write_json(tmp_path / "r.json", {"result": mapping})
    assert json.loads((tmp_path / "r.json").read_text())["result"]["missing"] is None
    assert common.result_line("demo", {"status": "no_runs"}) == ("RESULT demo status=no_runs", {"status": "no_runs"})
    assert common.result_line("demo", {"seeds": "10 20"})[1] == {"seeds": "10_20"}  # a string, not the int 1020


@pytest.mark.parametrize("name", ["plot.txt", "plot.json", "plot"])
def test_a_plot_path_matplotlib_cannot_render_is_one_line(common, tmp_path: Path, capsys, name: str) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="bench")
    with pytest.raises(SystemExit):
        common.plot_file(parser, tmp_path / "sub" / name, "--plot")
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("bench: error: --plot") and "a figure: give a name ending in" in err
    assert not (tmp_path / "sub").exists()  # refused before its folder was made


def test_a_plot_path_is_not_the_result_file(common, tmp_path: Path, capsys) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="bench")
    assert common.plot_file(parser, tmp_path / "x.PDF", "--plot", tmp_path / "x.json") == tmp_path / "x.PDF"
    with pytest.raises(SystemExit):
        common.plot_file(parser, tmp_path / "x.png", "--plot", tmp_path / "x.png")
    assert "is the result file" in capsys.readouterr().err
