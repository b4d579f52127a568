"""What the benchmark scripts report and where: every exit after argument parsing ends with one RESULT line
(status=... and a non-zero exit where the run failed), blimp_report grades the stage docs/benchmarks.md quotes by
name, blimp_pipeline ships the envelope seed as one atomic directory, and the small rules behind the figures (the
worst plant, the last evolution chunk, the plot beside another --output). Unit-level: nothing here flies, swims or
evolves."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

GRADED = "constructed spiking PD + integrator (shipped until 2026-12-06)"  # the stage docs/benchmarks.md quotes


def _figures(ss: float, overshoot: float) -> dict[str, float]:
    return {"ss_error_cm_median": ss, "overshoot_up_cm_median": overshoot}


def test_blimp_report_grades_the_named_stage_not_the_last(load_benchmark) -> None:
    report = load_benchmark("blimp_report")
    assert report.GRADED_STAGE[1] == GRADED
    disturbed = {"PD-SNN alone (mimic)": _figures(41.0, 3.6), GRADED: _figures(2.04, 8.26),
                 "that with its PD-SNN's decays fine-tuned": _figures(1.76, 7.06),
                 "PID (reference)": _figures(1.73, 11.69)}
    line, mapping = report.result({"calm": {}, "disturbed": disturbed})
    assert line == ("RESULT blimp_report stage=constructed_pd_i ss_disturbed_cm=2.04 pid_ss_disturbed_cm=1.73 "
                    "overshoot_cm=8.3 pid_overshoot_cm=11.7 pid_over_snn_overshoot=1.42")
    assert mapping == {"stage": "constructed_pd_i", "ss_disturbed_cm": 2.04, "pid_ss_disturbed_cm": 1.73,
                       "overshoot_cm": 8.3, "pid_overshoot_cm": 11.7, "pid_over_snn_overshoot": 1.42}
    del disturbed[GRADED]  # its run is missing: said, not another stage graded in its place
    assert report.result({"calm": {}, "disturbed": disturbed}) == (
        "RESULT blimp_report stage=constructed_pd_i status=missing_stage",
        {"stage": "constructed_pd_i", "status": "missing_stage"})


def test_ncap_learning_without_finished_runs_ends_with_a_result_line(load_benchmark, tmp_path, capsys) -> None:
    learning = load_benchmark("ncap_learning")
    assert learning.main(["--skip-evolve", "--runs", str(tmp_path), "--seeds", "1"]) == 1
    assert capsys.readouterr().out.strip().splitlines()[-1] == "RESULT ncap_learning status=no_runs"


def test_ncap_learning_without_the_peer_says_so_in_its_result_line(load_benchmark) -> None:
    learning = load_benchmark("ncap_learning")
    spiking = {"final_return_mean": 520.0, "final_return_worst": 480.0, "init_return_mean": 30.0, "parameters": 4}
    line, _ = learning.result({"spiking NCAP": spiking})
    assert line.startswith("RESULT ncap_learning status=missing_runs spiking_final=520.0 graded_final=nan ")
    assert "mlp_final=nan spiking_worst=480.0 graded_worst=nan mlp_worst=nan ratio=nan" in line
    assert line.endswith("params_ratio=nan")
    mlp = {"final_return_mean": 260.0, "final_return_worst": 101.25, "init_return_mean": 5.0, "parameters": 4804}
    line, mapping = learning.result({"spiking NCAP": spiking, "MLP(64, 64)": mlp})
    assert line == ("RESULT ncap_learning spiking_final=520.0 graded_final=nan mlp_final=260.0 spiking_worst=480.0 "
                    "graded_worst=nan mlp_worst=101.2 ratio=2.00 spiking_init=30.0 mlp_init=5.0 params_ratio=1201")
    assert mapping["mlp_worst"] == 101.2 and mapping["params_ratio"] == 1201 and math.isnan(mapping["graded_final"])


def test_blimp_pipeline_ends_with_a_result_line_whether_a_step_fails_or_not(load_benchmark, monkeypatch,
                                                                           capsys) -> None:
    pipeline = load_benchmark("blimp_pipeline")
    ran: list[str] = []

    def run_step(step: str, ship_it: bool) -> None:
        ran.append(step)
        if step == "compose":
            raise subprocess.CalledProcessError(3, ["snncontrol", "compose"])

    monkeypatch.setattr(pipeline, "run_step", run_step)
    assert pipeline.main(["--from", "mimicry"]) == 1
    assert ran == ["mimicry", "compose"]
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "RESULT blimp_pipeline status=failed step=compose steps=1 from=mimicry"
    assert pipeline.main(["--from", "ship"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "RESULT blimp_pipeline status=ok steps=2 from=ship shipped=no")


def test_blimp_pipeline_replaces_the_envelope_seed_whole(load_benchmark, tmp_path: Path) -> None:
    pipeline = load_benchmark("blimp_pipeline")
    source, target = tmp_path / "best", tmp_path / "shipped"
    source.mkdir()
    (source / "controller.json").write_text("new")
    (source / "params.safetensors").write_bytes(b"new")
    target.mkdir()
    (target / "controller.json").write_text("old")
    pipeline.copy_artifact(source, target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == {"controller.json": b"new",
                                                                  "params.safetensors": b"new"}
    (target / "stale.bin").write_bytes(b"stale")  # not merged into a shipped artifact: refused
    with pytest.raises(FileExistsError):
        pipeline.copy_artifact(source, target)
    assert (target / "stale.bin").exists()


def test_blimp_evolution_stops_at_max_generations(load_benchmark) -> None:
    evolution = load_benchmark("blimp_evolution")
    stops, done = [], 0
    while done < 250:
        done = evolution.next_stop(done, 250)
        stops.append(done)
    assert stops == [200, 250]  # (was 200, 400)
    assert evolution.next_stop(0, 20_000) == 200  # the default run's chunks are unchanged


def test_blimp_pid_lag_worst_plant_leaves_out_plants_without_a_steady_state(load_benchmark) -> None:
    lag = load_benchmark("blimp_pid_lag")
    assert lag.worst([1.2, float("nan"), 3.3, 2.0]) == 3.3
    assert math.isnan(lag.worst([float("nan")]))


def test_ncap_bodies_ratio_summary_leaves_out_bodies_where_the_paper_init_does_not_swim(load_benchmark) -> None:
    bodies = load_benchmark("ncap_bodies")
    assert bodies.summary(np.array([np.nan, 2.0, 1.0])) == {"median": 1.5, "worst": 1.0}
    assert all(math.isnan(v) for v in bodies.summary(np.array([np.nan])).values())


def test_blimp_closed_loop_plot_goes_beside_another_output(load_benchmark, tmp_path: Path) -> None:
    closed_loop = load_benchmark("blimp_closed_loop")
    assert closed_loop.plot_beside(closed_loop.OUT) == closed_loop.PLOT  # the headline run: as before
    assert closed_loop.plot_beside(tmp_path / "candidate.json") == tmp_path / "candidate.png"


def _last_result(capsys: pytest.CaptureFixture[str], common) -> tuple[str, dict]:
    """(name, mapping) of the RESULT line that ends what was printed, its mapping as strict JSON holds it."""
    from snncontrol.atomic import json_ready

    name, mapping = common.parse_result_line(capsys.readouterr().out.strip().splitlines()[-1])
    return name, json_ready(mapping)


def test_blimp_report_without_the_runs_says_missing_stage_and_replaces_nothing(load_benchmark, monkeypatch,
                                                                               tmp_path: Path, capsys) -> None:
    """Without the runs of benchmarks/blimp_pipeline.py it crashed (the mimicry plot read runs/blimp_pd_lif/best;
    with no stage flown, the PID row was {} and the table a KeyError): its RESULT line was unreachable."""
    report = load_benchmark("blimp_report")
    runs, results = tmp_path / "runs", tmp_path / "results"
    monkeypatch.setattr(report, "RUNS", runs)
    monkeypatch.setattr(report, "GRADED_RUN", runs / "blimp_pd_i_constructed" / "best")
    monkeypatch.setattr(report, "RESULTS", results)
    monkeypatch.setattr(report, "PLOTS", {name: results / path.name for name, path in report.PLOTS.items()})
    assert report.main(["--plants", "1"]) == 1
    assert _last_result(capsys, load_benchmark("common")) == (
        "blimp_report", {"stage": "constructed_pd_i", "status": "missing_stage"})
    assert not results.exists() or not any(results.iterdir())  # the committed report and figures stay


def test_blimp_report_leaves_out_the_runs_that_are_missing(load_benchmark, monkeypatch, tmp_path: Path,
                                                          capsys) -> None:
    """Only the graded stage's run: the other stages, mimics and the NSGA-II front are left out of the tables
    and the figures, and the report is written with the RESULT line's mapping."""
    import json
    import shutil

    from snncontrol.controllers import resolve

    report, common = load_benchmark("blimp_report"), load_benchmark("common")
    runs, results = tmp_path / "runs", tmp_path / "results"
    shutil.copytree(resolve("shipped:blimp"), runs / "blimp_pd_i_constructed" / "best")
    monkeypatch.setattr(report, "RUNS", runs)
    monkeypatch.setattr(report, "GRADED_RUN", runs / "blimp_pd_i_constructed" / "best")
    monkeypatch.setattr(report, "RESULTS", results)
    monkeypatch.setattr(report, "PLOTS", {name: results / path.name for name, path in report.PLOTS.items()})
    assert report.main(["--plants", "1"]) == 0
    name, line = _last_result(capsys, common)
    assert name == "blimp_report" and line["stage"] == "constructed_pd_i" and "status" not in line
    document = json.loads((results / "blimp_report.json").read_text())
    assert document["result"] == line
    assert set(document["closed_loop"]["disturbed"]) == {GRADED, "PID (reference)"}
    assert document["mimicry"] == {} and document["pareto"] is None
    assert list(document["integration"]) == ["I-SNN, constructed integrator (shipped until 2026-12-06, gain 0.025)"]
    assert sorted(p.name for p in results.iterdir()) == ["blimp_flight.png", "blimp_report.json"]  # no mimicry plot


def _small_envelope(module, monkeypatch) -> None:
    """blimp_closed_loop's evaluation cut to the ODE plant's heavy band (a few seconds)."""
    real = module.evaluate_envelope

    def evaluate_envelope(controller, plants, seed):
        return real(controller, models=("ode",), bands=("heavy",), plants=plants, seed=seed)

    monkeypatch.setattr(module, "evaluate_envelope", evaluate_envelope)


def test_blimp_closed_loop_writes_its_result_before_the_plot(load_benchmark, monkeypatch, tmp_path: Path,
                                                            capsys) -> None:
    """The JSON carries the RESULT line's mapping, and a plot that fails after the flights loses no result (the
    plot came first)."""
    import json

    closed_loop, common = load_benchmark("blimp_closed_loop"), load_benchmark("common")
    _small_envelope(closed_loop, monkeypatch)
    output = tmp_path / "candidate.json"
    assert closed_loop.main(["--plants", "1", "--output", str(output)]) == 0
    name, line = _last_result(capsys, common)
    assert name == "blimp_closed_loop" and list(line)[:2] == ["targets_met", "ss_calm_median_cm"]
    assert json.loads(output.read_text())["result"] == line and (tmp_path / "candidate.png").is_file()
    output.unlink()

    def failing_plot(*_args, **_kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(closed_loop, "plot_envelope", failing_plot)
    with pytest.raises(OSError):
        closed_loop.main(["--plants", "1", "--output", str(output)])
    assert json.loads(output.read_text())["result"] == line


def test_ncap_transfer_writes_the_result_lines_figures(load_benchmark, monkeypatch, tmp_path: Path, capsys) -> None:
    """ratio_vs_paper_init_median and of were printed, not written; the worst body's ratio is given beside the
    median. (The swims are stand-ins: evolved and paper-init speed per body.)"""
    import json
    from types import SimpleNamespace

    transfer, common = load_benchmark("ncap_transfer"), load_benchmark("common")
    speeds = {n: (0.01 * n, 0.005 * n if n != 4 else -0.01) for n in transfer.LINKS}  # 4 links: paper init backwards

    def swim(spec, genomes, io, n, seeds):
        evolved, init = speeds[n]
        return SimpleNamespace(speeds=np.array([evolved, init]), returns=np.array([100.0 * n, 50.0 * n]),
                               copy_speeds=np.array([evolved] * len(seeds) + [init] * len(seeds)))

    monkeypatch.setattr(transfer, "swim", swim)
    out = tmp_path / "t.json"
    assert transfer.main(["--episodes", "2", "--out", str(out), "--plot", str(tmp_path / "t.png")]) == 0
    name, line = _last_result(capsys, common)
    assert name == "ncap_transfer"
    assert line == {"links_forward": 11, "of": 11, "min_speed": 0.03, "speed_6": 0.06, "params": 4,
                    "ratio_vs_paper_init_median": 2.0, "ratio_vs_paper_init_worst": 2.0}
    document = json.loads(out.read_text())
    assert document["result"] == line and document["speed_over_paper_init"]["bodies"] == 10
    assert (tmp_path / "t.png").is_file()


def test_ncap_swimmer_v5_gives_its_ratios_to_the_peers_and_the_worst_seed(load_benchmark, tmp_path: Path,
                                                                          capsys) -> None:
    import json

    v5, common = load_benchmark("ncap_swimmer_v5"), load_benchmark("common")
    assert v5.main(["--quick", "--runs", str(tmp_path)]) == 0
    name, line = _last_result(capsys, common)
    document = json.loads((tmp_path / "results" / "ncap_swimmer_v5.json").read_text())
    assert name == "ncap_swimmer_v5" and document["result"] == line
    table = document["table"]
    for key, label in (("spiking", "spiking NCAP"), ("graded", "graded NCAP"), ("mlp", "MLP(64, 64)")):
        assert table[label]["heldout_return_worst"] == min(table[label]["heldout_returns"])
        assert line[f"{key}_worst_500"] == round(table[label]["heldout_return_worst"], 1)
    for peer, label in (("mlp", "MLP(64, 64)"), ("graded", "graded NCAP")):
        expected = common.ratio(table["spiking NCAP"]["heldout_return_mean"], table[label]["heldout_return_mean"])
        assert line[f"spiking_over_{peer}"] == (None if math.isnan(expected) else round(expected, 2))


def test_blimp_overshoot_flies_no_held_out_plant(load_benchmark) -> None:
    """Its default seeds (5000 + band * plants) reach the held-out block 9100..9139 from 821 plants a band."""
    overshoot = load_benchmark("blimp_overshoot")
    bands = list(overshoot.HOVER_BANDS)
    assert (overshoot.HELD_OUT.start, overshoot.HELD_OUT.stop) == (9100, 9140)
    assert overshoot.held_out_overlap(5000, 820, bands) == []
    assert overshoot.held_out_overlap(5000, 821, bands) == list(range(9100, 9105))
    assert overshoot.held_out_overlap(5000, 821, bands[:4]) == []  # the heaviest band is the one that reaches it
    assert overshoot.held_out_overlap(9140, 6, bands) == [] and overshoot.held_out_overlap(9099, 1, bands[:1]) == []
    assert overshoot.held_out_overlap(9095, 6, bands[:1]) == [9100]
